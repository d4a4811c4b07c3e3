namespace Digits;

/// <summary>What every compiled digits model offers; the generated classes satisfy it through their own Run.</summary>
public interface IDigitsModel
{
    /// <summary>Runs one 8×8 image (64 floats in [0, 1]) and writes the 10 class logits.</summary>
    void Run(ReadOnlySpan<float> input, Span<float> logits);
}
