using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX BatchNormalization (inference, not folded into a Conv/Gemm) as a per-channel affine map:
/// y = act(x·scale[c] + shift[c]) over [outer, channels, inner].</summary>
public static partial class ChannelAffineF32
{
    /// <summary>y = act(x·scale[c] + shift[c]) over [outer, channels, inner]; x and y may be the same memory.</summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y,
        int outer, int channels, int inner, FusedActivation act)
    {
        Guard.NonNegative(outer, nameof(outer));
        Guard.NonNegative(channels, nameof(channels));
        Guard.NonNegative(inner, nameof(inner));
        long n = (long)outer * channels * inner;
        Guard.AtLeast(x.Length, n, nameof(x));
        Guard.AtLeast(y.Length, n, nameof(y));
        Guard.AtLeast(scale.Length, channels, nameof(scale));
        Guard.AtLeast(shift.Length, channels, nameof(shift));
        ChannelAffine_F32_Scalar(x, scale, shift, y, outer, channels, inner, act);
    }

    internal static void ChannelAffine_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y,
        int outer, int channels, int inner, in FusedActivation act)
    {
        int i = 0;
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
                for (int j = 0; j < inner; j++, i++)
                    y[i] = ActivationF32.Scalar(MathF.FusedMultiplyAdd(x[i], scale[c], shift[c]), act);
    }
}
