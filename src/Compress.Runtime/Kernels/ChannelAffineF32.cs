using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX BatchNormalization (inference, not folded into a Conv/Gemm) as a per-channel affine map:
/// y = act(x·scale[c] + shift[c]) over [outer, channels, inner].</summary>
public static partial class ChannelAffineF32
{
    /// <summary>y = act(x·scale[c] + shift[c]) over [outer, channels, inner]; x and y may be the same memory.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
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
        if (n == 0) return;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                float sc = scale[c], sh = shift[c];
                if (Vector512.IsHardwareAccelerated) Row_F32_Vector512(ref xr, sc, sh, ref yr, inner, act);
                else if (Vector256.IsHardwareAccelerated) Row_F32_Vector256(ref xr, sc, sh, ref yr, inner, act);
                else if (Vector128.IsHardwareAccelerated) Row_F32_Vector128(ref xr, sc, sh, ref yr, inner, act);
                else Row_F32_Scalar(ref xr, sc, sh, ref yr, inner, act);
                xr = ref Unsafe.Add(ref xr, inner);
                yr = ref Unsafe.Add(ref yr, inner);
            }
        ActivationF32.PostPass(y[..(int)n], act);
    }

    /// <summary>One channel row, 16 lanes at a time, then the Vector256 body for the tail.</summary>
    internal static void Row_F32_Vector512(ref float x, float scale, float shift, ref float y, int n, in FusedActivation act)
    {
        var s = Vector512.Create(scale);
        var t = Vector512.Create(shift);
        nint i = 0;
        for (; i + 16 <= n; i += 16)
            ActivationF32.Apply(Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), s, t), act).StoreUnsafe(ref y, (nuint)i);
        Row_F32_Vector256(ref Unsafe.Add(ref x, i), scale, shift, ref Unsafe.Add(ref y, i), n - (int)i, act);
    }

    /// <summary>One channel row, 8 lanes at a time, then the Vector128 body for the tail.</summary>
    internal static void Row_F32_Vector256(ref float x, float scale, float shift, ref float y, int n, in FusedActivation act)
    {
        var s = Vector256.Create(scale);
        var t = Vector256.Create(shift);
        nint i = 0;
        for (; i + 8 <= n; i += 8)
            ActivationF32.Apply(Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref x, (nuint)i), s, t), act).StoreUnsafe(ref y, (nuint)i);
        Row_F32_Vector128(ref Unsafe.Add(ref x, i), scale, shift, ref Unsafe.Add(ref y, i), n - (int)i, act);
    }

    /// <summary>One channel row, 4 lanes at a time, then the scalar body for the tail.</summary>
    internal static void Row_F32_Vector128(ref float x, float scale, float shift, ref float y, int n, in FusedActivation act)
    {
        var s = Vector128.Create(scale);
        var t = Vector128.Create(shift);
        nint i = 0;
        for (; i + 4 <= n; i += 4)
            ActivationF32.Apply(Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref x, (nuint)i), s, t), act).StoreUnsafe(ref y, (nuint)i);
        Row_F32_Scalar(ref Unsafe.Add(ref x, i), scale, shift, ref Unsafe.Add(ref y, i), n - (int)i, act);
    }

    /// <summary>One channel row, one element at a time (register-fusable activations only).</summary>
    internal static void Row_F32_Scalar(ref float x, float scale, float shift, ref float y, int n, in FusedActivation act)
    {
        for (nint i = 0; i < n; i++)
            Unsafe.Add(ref y, i) = ActivationF32.Fused(Unsafe.Add(ref x, i) * scale + shift, act);
    }

    internal static void ChannelAffine_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y,
        int outer, int channels, int inner, in FusedActivation act)
    {
        int i = 0;
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
                for (int j = 0; j < inner; j++, i++)
                    y[i] = ActivationF32.Scalar(x[i] * scale[c] + shift[c], act);
    }
}
