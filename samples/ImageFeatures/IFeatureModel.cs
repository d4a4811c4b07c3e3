namespace ImageFeatures;

/// <summary>What every compiled ResNet-18 variant offers; the generated classes satisfy it through their own Run.</summary>
public interface IFeatureModel
{
    /// <summary>Runs one preprocessed image ([1, 3, 224, 224]) and writes its 512 features.</summary>
    void Run(ReadOnlySpan<float> input, Span<float> features);
}
