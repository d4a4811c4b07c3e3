using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX MaxPool, AveragePool and GlobalAveragePool over NCHW tensors; windows are clipped to the input.</summary>
public static partial class PoolF32
{
    /// <summary>ONNX MaxPool: y = max over the window's taps that fall inside the input (pads never win;
    /// a window with no tap inside gives 0).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Max(ReadOnlySpan<float> x, Span<float> y, in Pool2dShape shape)
    {
        shape.Validate();
        Guard.AtLeast(x.Length, (long)shape.Planes * shape.InPlane, nameof(x));
        Guard.AtLeast(y.Length, (long)shape.Planes * shape.OutPlane, nameof(y));
        if (!Vector128.IsHardwareAccelerated || shape.OutPlane == 0)
        {
            Max_F32_Scalar(x, y, shape);
            return;
        }
        if (Is2x2Stride2(shape))
        {
            Max2x2S2_F32(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), shape);
            return;
        }
        if (IsSeparableMax(shape))
        {
            SeparableMax(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), shape, float.NegativeInfinity);
            return;
        }
        Windows<MaxOp>(x, y, shape, false, 0, 0);
    }

    /// <summary>
    /// ONNX AveragePool: y = sum of the taps inside the input / count, where count is the number of taps inside the
    /// input, or with <paramref name="countIncludePad"/> the number of taps inside the padded input
    /// [−PadTop, InHeight + padBottom) × [−PadLeft, InWidth + padRight), with padBottom/padRight implied by the output
    /// size (the smallest pads that hold every window; see the overload to give them explicitly).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Average(ReadOnlySpan<float> x, Span<float> y, in Pool2dShape shape, bool countIncludePad)
    {
        shape.Validate();
        int padBottom = Math.Max(0, (shape.OutHeight - 1) * shape.StrideHeight + (shape.KernelHeight - 1) * shape.DilationHeight + 1 - shape.InHeight - shape.PadTop);
        int padRight = Math.Max(0, (shape.OutWidth - 1) * shape.StrideWidth + (shape.KernelWidth - 1) * shape.DilationWidth + 1 - shape.InWidth - shape.PadLeft);
        Average(x, y, shape, countIncludePad, padBottom, padRight);
    }

    /// <summary>
    /// ONNX AveragePool with explicit bottom/right pads: with <paramref name="countIncludePad"/> the divisor counts
    /// the taps inside [−PadTop, InHeight + <paramref name="padBottom"/>) × [−PadLeft, InWidth + <paramref name="padRight"/>)
    /// (ONNX Runtime's rule when ceil_mode windows overhang the pads); otherwise the taps inside the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Average(ReadOnlySpan<float> x, Span<float> y, in Pool2dShape shape, bool countIncludePad, int padBottom, int padRight)
    {
        shape.Validate();
        Guard.NonNegative(padBottom, nameof(padBottom));
        Guard.NonNegative(padRight, nameof(padRight));
        Guard.AtLeast(x.Length, (long)shape.Planes * shape.InPlane, nameof(x));
        Guard.AtLeast(y.Length, (long)shape.Planes * shape.OutPlane, nameof(y));
        if (!Vector128.IsHardwareAccelerated || shape.OutPlane == 0)
        {
            Average_F32_Scalar(x, y, shape, countIncludePad, padBottom, padRight);
            return;
        }
        Windows<SumOp>(x, y, shape, countIncludePad, padBottom, padRight);
    }

    /// <summary>ONNX GlobalAveragePool: y[p] = mean of plane p, for <paramref name="planes"/> = N·C planes of <paramref name="planeSize"/> floats.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GlobalAverage(ReadOnlySpan<float> x, Span<float> y, int planes, int planeSize)
    {
        Guard.NonNegative(planes, nameof(planes));
        Guard.NonNegative(planeSize, nameof(planeSize));
        Guard.AtLeast(x.Length, (long)planes * planeSize, nameof(x));
        Guard.AtLeast(y.Length, planes, nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) GlobalAverage_F32_Vector512(ref xs, ref ys, planes, planeSize);
        else if (Vector256.IsHardwareAccelerated) GlobalAverage_F32_Vector256(ref xs, ref ys, planes, planeSize);
        else if (Vector128.IsHardwareAccelerated) GlobalAverage_F32_Vector128(ref xs, ref ys, planes, planeSize);
        else GlobalAverage_F32_Scalar(x, y, planes, planeSize);
    }

    /// <summary>Plane sums with 2×16 lanes, then 8, 4 and scalar tails.</summary>
    internal static void GlobalAverage_F32_Vector512(ref float x, ref float y, int planes, int planeSize)
    {
        float inv = planeSize == 0 ? 0f : 1f / planeSize;
        for (int p = 0; p < planes; p++)
        {
            ref float xp = ref Unsafe.Add(ref x, (nint)p * planeSize);
            Vector512<float> a0 = default, a1 = default;
            int i = 0;
            for (; i + 32 <= planeSize; i += 32)
            {
                a0 += Vector512.LoadUnsafe(ref xp, (nuint)i);
                a1 += Vector512.LoadUnsafe(ref xp, (nuint)i + 16);
            }
            if (i + 16 <= planeSize)
            {
                a0 += Vector512.LoadUnsafe(ref xp, (nuint)i);
                i += 16;
            }
            float sum = Vector512.Sum(a0 + a1) + TailSum(ref Unsafe.Add(ref xp, i), planeSize - i);
            Unsafe.Add(ref y, p) = sum * inv;
        }
    }

    /// <summary>Plane sums with 2×8 lanes, then 4 and scalar tails.</summary>
    internal static void GlobalAverage_F32_Vector256(ref float x, ref float y, int planes, int planeSize)
    {
        float inv = planeSize == 0 ? 0f : 1f / planeSize;
        for (int p = 0; p < planes; p++)
        {
            ref float xp = ref Unsafe.Add(ref x, (nint)p * planeSize);
            Vector256<float> a0 = default, a1 = default;
            int i = 0;
            for (; i + 16 <= planeSize; i += 16)
            {
                a0 += Vector256.LoadUnsafe(ref xp, (nuint)i);
                a1 += Vector256.LoadUnsafe(ref xp, (nuint)i + 8);
            }
            if (i + 8 <= planeSize)
            {
                a0 += Vector256.LoadUnsafe(ref xp, (nuint)i);
                i += 8;
            }
            float sum = Vector256.Sum(a0 + a1) + TailSum(ref Unsafe.Add(ref xp, i), planeSize - i);
            Unsafe.Add(ref y, p) = sum * inv;
        }
    }

    /// <summary>Plane sums with 2×4 lanes, then a scalar tail.</summary>
    internal static void GlobalAverage_F32_Vector128(ref float x, ref float y, int planes, int planeSize)
    {
        float inv = planeSize == 0 ? 0f : 1f / planeSize;
        for (int p = 0; p < planes; p++)
        {
            ref float xp = ref Unsafe.Add(ref x, (nint)p * planeSize);
            Vector128<float> a0 = default, a1 = default;
            int i = 0;
            for (; i + 8 <= planeSize; i += 8)
            {
                a0 += Vector128.LoadUnsafe(ref xp, (nuint)i);
                a1 += Vector128.LoadUnsafe(ref xp, (nuint)i + 4);
            }
            float sum = Vector128.Sum(a0 + a1) + TailSum(ref Unsafe.Add(ref xp, i), planeSize - i);
            Unsafe.Add(ref y, p) = sum * inv;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float TailSum(ref float x, int n)
    {
        Vector128<float> a = default;
        int i = 0;
        for (; i + 4 <= n; i += 4) a += Vector128.LoadUnsafe(ref x, (nuint)i);
        float sum = Vector128.Sum(a);
        for (; i < n; i++) sum += Unsafe.Add(ref x, i);
        return sum;
    }

    internal static void GlobalAverage_F32_Scalar(ReadOnlySpan<float> x, Span<float> y, int planes, int planeSize)
    {
        float inv = planeSize == 0 ? 0f : 1f / planeSize;
        for (int p = 0; p < planes; p++)
        {
            float sum = 0f;
            for (int i = 0; i < planeSize; i++) sum += x[p * planeSize + i];
            y[p] = sum * inv;
        }
    }

    /// <summary>The first and one-past-last tap index of a window starting at <paramref name="start"/> that fall inside [lo, hi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (int First, int End) TapRange(int start, int dilation, int taps, int lo, int hi)
    {
        int first = start >= lo ? 0 : (lo - start + dilation - 1) / dilation;
        int end = start >= hi ? 0 : Math.Min(taps, (hi - start + dilation - 1) / dilation);
        return (first, Math.Max(first, end));
    }

    internal static void Max_F32_Scalar(ReadOnlySpan<float> x, Span<float> y, in Pool2dShape s)
    {
        for (int pl = 0; pl < s.Planes; pl++)
        {
            ReadOnlySpan<float> xp = x.Slice(pl * s.InPlane, s.InPlane);
            Span<float> yp = y.Slice(pl * s.OutPlane, s.OutPlane);
            for (int oh = 0; oh < s.OutHeight; oh++)
            {
                int h0 = oh * s.StrideHeight - s.PadTop;
                var (ky0, ky1) = TapRange(h0, s.DilationHeight, s.KernelHeight, 0, s.InHeight);
                for (int ow = 0; ow < s.OutWidth; ow++)
                {
                    int w0 = ow * s.StrideWidth - s.PadLeft;
                    var (kx0, kx1) = TapRange(w0, s.DilationWidth, s.KernelWidth, 0, s.InWidth);
                    float m = float.NegativeInfinity;
                    bool any = false;
                    for (int ky = ky0; ky < ky1; ky++)
                        for (int kx = kx0; kx < kx1; kx++)
                        {
                            m = MathF.Max(m, xp[(h0 + ky * s.DilationHeight) * s.InWidth + w0 + kx * s.DilationWidth]);
                            any = true;
                        }
                    yp[oh * s.OutWidth + ow] = any ? m : 0f;
                }
            }
        }
    }

    internal static void Average_F32_Scalar(ReadOnlySpan<float> x, Span<float> y, in Pool2dShape s, bool countIncludePad, int padBottom, int padRight)
    {
        for (int pl = 0; pl < s.Planes; pl++)
        {
            ReadOnlySpan<float> xp = x.Slice(pl * s.InPlane, s.InPlane);
            Span<float> yp = y.Slice(pl * s.OutPlane, s.OutPlane);
            for (int oh = 0; oh < s.OutHeight; oh++)
            {
                int h0 = oh * s.StrideHeight - s.PadTop;
                var (ky0, ky1) = TapRange(h0, s.DilationHeight, s.KernelHeight, 0, s.InHeight);
                var (py0, py1) = TapRange(h0, s.DilationHeight, s.KernelHeight, -s.PadTop, s.InHeight + padBottom);
                for (int ow = 0; ow < s.OutWidth; ow++)
                {
                    int w0 = ow * s.StrideWidth - s.PadLeft;
                    var (kx0, kx1) = TapRange(w0, s.DilationWidth, s.KernelWidth, 0, s.InWidth);
                    var (px0, px1) = TapRange(w0, s.DilationWidth, s.KernelWidth, -s.PadLeft, s.InWidth + padRight);
                    float sum = 0f;
                    for (int ky = ky0; ky < ky1; ky++)
                        for (int kx = kx0; kx < kx1; kx++)
                            sum += xp[(h0 + ky * s.DilationHeight) * s.InWidth + w0 + kx * s.DilationWidth];
                    int count = countIncludePad ? (py1 - py0) * (px1 - px0) : (ky1 - ky0) * (kx1 - kx0);
                    yp[oh * s.OutWidth + ow] = count == 0 ? 0f : sum / count;
                }
            }
        }
    }
}
