namespace Compress.Runtime;

/// <summary>The static geometry of an ONNX MaxPool / AveragePool over NCHW tensors (windows are clipped to the input).</summary>
public readonly record struct Pool2dShape(int Batch, int Channels, int InHeight, int InWidth, int OutHeight, int OutWidth,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft,
    int DilationHeight, int DilationWidth)
{
    internal int Planes => Batch * Channels;
    internal int InPlane => InHeight * InWidth;
    internal int OutPlane => OutHeight * OutWidth;

    /// <summary>Throws <see cref="ArgumentException"/> when a field is out of range.</summary>
    internal void Validate()
    {
        if (Batch < 0 || Channels < 0 || InHeight < 0 || InWidth < 0 || OutHeight < 0 || OutWidth < 0
            || KernelHeight <= 0 || KernelWidth <= 0 || StrideHeight <= 0 || StrideWidth <= 0 || PadTop < 0 || PadLeft < 0
            || DilationHeight <= 0 || DilationWidth <= 0)
            throw new ArgumentException($"Invalid {this}.");
    }
}
