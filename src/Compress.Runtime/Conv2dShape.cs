namespace Compress.Runtime;

/// <summary>
/// The static geometry of an ONNX Conv over NCHW tensors. Pads at the bottom/right are implied by the output size
/// (the kernel reads zeros wherever a tap falls outside the input).
/// </summary>
public readonly record struct Conv2dShape(int Batch, int InChannels, int InHeight, int InWidth,
    int OutChannels, int OutHeight, int OutWidth, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PadTop, int PadLeft, int DilationHeight, int DilationWidth, int Groups)
{
    internal int InPlane => InHeight * InWidth;
    internal int OutPlane => OutHeight * OutWidth;
    internal int InChannelsPerGroup => InChannels / Groups;
    internal int OutChannelsPerGroup => OutChannels / Groups;
    /// <summary>Reduction length of one output: Cin/groups · kH · kW.</summary>
    internal int ReductionLength => InChannels / Groups * KernelHeight * KernelWidth;
    internal int InputLength => Batch * InChannels * InHeight * InWidth;
    internal int OutputLength => Batch * OutChannels * OutHeight * OutWidth;
    internal int WeightLength => OutChannels * (InChannels / Groups) * KernelHeight * KernelWidth;

    /// <summary>Stride 1 in both directions: the window for consecutive outputs slides one input pixel.</summary>
    internal bool IsUnitStride => StrideHeight == 1 && StrideWidth == 1;

    /// <summary>Rows of a zero-padded copy of an input plane: every row a window reads, and at least the input plus
    /// its top padding (the im2col and direct kernels copy the input into such a plane).</summary>
    internal int PaddedHeight => Math.Max(InHeight + PadTop, (OutHeight - 1) * StrideHeight + (KernelHeight - 1) * DilationHeight + 1);

    /// <summary>Columns of that padded plane (see <see cref="PaddedHeight"/>).</summary>
    internal int PaddedWidth => Math.Max(InWidth + PadLeft, (OutWidth - 1) * StrideWidth + (KernelWidth - 1) * DilationWidth + 1);

    /// <summary>Throws <see cref="ArgumentException"/> when a field is out of range.</summary>
    internal void Validate()
    {
        if (Batch < 0 || InChannels <= 0 || InHeight < 0 || InWidth < 0 || OutChannels <= 0 || OutHeight < 0 || OutWidth < 0
            || KernelHeight <= 0 || KernelWidth <= 0 || StrideHeight <= 0 || StrideWidth <= 0 || PadTop < 0 || PadLeft < 0
            || DilationHeight <= 0 || DilationWidth <= 0 || Groups <= 0
            || InChannels % Groups != 0 || OutChannels % Groups != 0)
            throw new ArgumentException($"Invalid {this}.");
    }
}
