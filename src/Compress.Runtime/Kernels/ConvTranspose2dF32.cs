using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX ConvTranspose over NCHW (https://onnx.ai/onnx/operators/onnx__ConvTranspose.html), as GEMM + col2im (the
/// adjoint of im2col convolution, as in Caffe's deconvolution layer): per image and group, colᵀ = Wᵀ·x with x packed
/// at run time as the GEMM's B, then every column row is scatter-added into the output at
/// oh = ih·stride − pad + kh·dilation (contiguous runs are vectorised adds when the stride is 1).
/// </summary>
/// <remarks>
/// The geometry is a <see cref="Conv2dShape"/> read in the transposed direction: In* is ConvTranspose's input X
/// (C_in channels), Out* its output Y (C_out channels), PadTop/PadLeft the begin pads; the end pads and
/// output_padding are implied by OutHeight/OutWidth.
/// </remarks>
public static class ConvTranspose2dF32
{
    /// <summary>Floats of the transposed weights <see cref="PackWeights"/> writes: groups · (C_out/g·kH·kW) · (C_in/g).</summary>
    public static int WeightsLength(in Conv2dShape s) => s.OutChannels * s.KernelHeight * s.KernelWidth * s.InChannelsPerGroup;

    /// <summary>Scratch floats <see cref="Run"/> needs: one packed input plane set and one column matrix.</summary>
    public static int ScratchLength(in Conv2dShape s) =>
        GemmF32.PackedLength(s.InChannelsPerGroup, s.InPlane) + s.OutChannelsPerGroup * s.KernelHeight * s.KernelWidth * s.InPlane;

    /// <summary>
    /// Rearranges ONNX weights W [C_in, C_out/g, kH, kW] into, per group, the row-major matrix Wᵀ
    /// [C_out/g·kH·kW, C_in/g] (the GEMM's A).
    /// </summary>
    public static void PackWeights(ReadOnlySpan<float> w, in Conv2dShape s, Span<float> packed)
    {
        s.Validate();
        int cinG = s.InChannelsPerGroup, rows = s.OutChannelsPerGroup * s.KernelHeight * s.KernelWidth;
        Guard.AtLeast(w.Length, (long)s.InChannels * rows, nameof(w));
        Guard.AtLeast(packed.Length, WeightsLength(s), nameof(packed));
        for (int g = 0; g < s.Groups; g++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cinG; c++)
                    packed[(g * rows + r) * cinG + c] = w[(g * cinG + c) * rows + r];
    }

    /// <summary>y = ConvTranspose(x, W) + bias (empty bias: none), W from <see cref="PackWeights"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> packedW, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch, in Conv2dShape s)
    {
        s.Validate();
        Guard.AtLeast(x.Length, s.InputLength, nameof(x));
        Guard.AtLeast(packedW.Length, WeightsLength(s), nameof(packedW));
        Guard.Optional(bias.Length, s.OutChannels, nameof(bias));
        Guard.AtLeast(y.Length, s.OutputLength, nameof(y));
        Guard.AtLeast(scratch.Length, ScratchLength(s), nameof(scratch));
        int cinG = s.InChannelsPerGroup, coutG = s.OutChannelsPerGroup, kk = s.KernelHeight * s.KernelWidth;
        int inPlane = s.InPlane, outPlane = s.OutPlane, rows = coutG * kk;
        var packedX = scratch[..GemmF32.PackedLength(cinG, inPlane)];
        var columns = scratch.Slice(packedX.Length, rows * inPlane);
        for (int n = 0; n < s.Batch; n++)
        {
            var yn = y.Slice(n * s.OutChannels * outPlane, s.OutChannels * outPlane);
            for (int co = 0; co < s.OutChannels; co++) yn.Slice(co * outPlane, outPlane).Fill(bias.IsEmpty ? 0f : bias[co]);
            for (int g = 0; g < s.Groups; g++)
            {
                var xg = x.Slice((n * s.InChannels + g * cinG) * inPlane, cinG * inPlane);
                GemmF32.PackB(xg, transposed: false, cinG, inPlane, packedX);
                var a = packedW.Slice(g * rows * cinG, rows * cinG);
                GemmF32.Gemm(a, packedX, default, columns, rows, cinG, inPlane, FusedActivation.None);
                Col2Im(columns, yn.Slice(g * coutG * outPlane, coutG * outPlane), coutG, s);
            }
        }
    }

    /// <summary>Scatter-adds the column matrix [C_out/g·kH·kW, H·W] into the group's output planes.</summary>
    static void Col2Im(ReadOnlySpan<float> columns, Span<float> y, int coutG, in Conv2dShape s)
    {
        int inW = s.InWidth, outW = s.OutWidth, inPlane = s.InPlane, outPlane = s.OutPlane;
        for (int co = 0; co < coutG; co++)
            for (int kh = 0; kh < s.KernelHeight; kh++)
                for (int kw = 0; kw < s.KernelWidth; kw++)
                {
                    var row = columns.Slice(((co * s.KernelHeight + kh) * s.KernelWidth + kw) * inPlane, inPlane);
                    var plane = y.Slice(co * outPlane, outPlane);
                    int offsetW = kw * s.DilationWidth - s.PadLeft;
                    // Input columns whose output column 0 ≤ iw·stride + offsetW < OutWidth.
                    int iwFirst = offsetW >= 0 ? 0 : (-offsetW + s.StrideWidth - 1) / s.StrideWidth;
                    int iwEnd = Math.Min(inW, outW - offsetW <= 0 ? 0 : (outW - offsetW - 1) / s.StrideWidth + 1);
                    if (iwEnd <= iwFirst) continue;
                    for (int ih = 0; ih < s.InHeight; ih++)
                    {
                        int oh = ih * s.StrideHeight - s.PadTop + kh * s.DilationHeight;
                        if ((uint)oh >= (uint)s.OutHeight) continue;
                        var src = row.Slice(ih * inW, inW);
                        var dst = plane.Slice(oh * outW, outW);
                        if (s.StrideWidth == 1)
                        {
                            var d = dst.Slice(iwFirst + offsetW, iwEnd - iwFirst);
                            TensorPrimitives.Add(d, src[iwFirst..iwEnd], d);
                        }
                        else
                            for (int iw = iwFirst; iw < iwEnd; iw++) dst[iw * s.StrideWidth + offsetW] += src[iw];
                    }
                }
    }

    /// <summary>The scalar reference, straight from the definition, in double; W in the ONNX layout.</summary>
    internal static void Run_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, in Conv2dShape s)
    {
        int cinG = s.InChannelsPerGroup, coutG = s.OutChannelsPerGroup;
        var acc = new double[s.OutputLength];
        for (int n = 0; n < s.Batch; n++)
            for (int ci = 0; ci < s.InChannels; ci++)
            {
                int g = ci / cinG;
                for (int ih = 0; ih < s.InHeight; ih++)
                    for (int iw = 0; iw < s.InWidth; iw++)
                    {
                        double v = x[((n * s.InChannels + ci) * s.InHeight + ih) * s.InWidth + iw];
                        for (int col = 0; col < coutG; col++)
                            for (int kh = 0; kh < s.KernelHeight; kh++)
                                for (int kw = 0; kw < s.KernelWidth; kw++)
                                {
                                    int oh = ih * s.StrideHeight - s.PadTop + kh * s.DilationHeight;
                                    int ow = iw * s.StrideWidth - s.PadLeft + kw * s.DilationWidth;
                                    if (oh < 0 || oh >= s.OutHeight || ow < 0 || ow >= s.OutWidth) continue;
                                    int co = g * coutG + col;
                                    acc[((n * s.OutChannels + co) * s.OutHeight + oh) * s.OutWidth + ow] +=
                                        v * w[((ci * coutG + col) * s.KernelHeight + kh) * s.KernelWidth + kw];
                                }
                    }
            }
        for (int i = 0; i < acc.Length; i++)
            y[i] = (float)(acc[i] + (bias.IsEmpty ? 0 : bias[i / s.OutPlane % s.OutChannels]));
    }
}
