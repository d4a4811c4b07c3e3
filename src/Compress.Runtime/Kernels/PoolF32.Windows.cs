using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class PoolF32
{
    /// <summary>How a window's taps combine: max for MaxPool, sum (then ÷ count) for AveragePool.</summary>
    private interface IPoolOp
    {
        static abstract float Identity { get; }
        static abstract bool Average { get; }
        static abstract float Combine(float a, float b);
        static abstract Vector128<float> Combine(Vector128<float> a, Vector128<float> b);
        static abstract Vector256<float> Combine(Vector256<float> a, Vector256<float> b);
        static abstract Vector512<float> Combine(Vector512<float> a, Vector512<float> b);
    }

    /// <summary>IEEE max with NaN propagation, as <see cref="MathF.Max"/> (so every path agrees with the reference).</summary>
    private readonly struct MaxOp : IPoolOp
    {
        public static float Identity => float.NegativeInfinity;
        public static bool Average => false;
        public static float Combine(float a, float b) => MathF.Max(a, b);
        public static Vector128<float> Combine(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
        public static Vector512<float> Combine(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    }

    private readonly struct SumOp : IPoolOp
    {
        public static float Identity => 0f;
        public static bool Average => true;
        public static float Combine(float a, float b) => a + b;
        public static Vector128<float> Combine(Vector128<float> a, Vector128<float> b) => a + b;
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector512<float> Combine(Vector512<float> a, Vector512<float> b) => a + b;
    }

    /// <summary>
    /// Every output row: the columns whose window lies horizontally inside the input are computed a vector of outputs
    /// at a time (stride 1 directly; stride 2 by combining the taps at stride 1 over twice the columns and keeping the
    /// even ones), border columns and other strides one window at a time. Rows are clipped by limiting ky, so taps
    /// are combined in the same (ky, kx) order as the reference and the results agree exactly.
    /// </summary>
    private static void Windows<TOp>(ReadOnlySpan<float> x, Span<float> y, in Pool2dShape s, bool countIncludePad, int padBottom, int padRight)
        where TOp : struct, IPoolOp
    {
        int inW = s.InWidth, kW = s.KernelWidth, dw = s.DilationWidth, sw = s.StrideWidth;
        int span = (kW - 1) * dw; // columns a window covers beyond its first
        // Output columns whose window is horizontally inside the input: [owA, owB).
        int owA = Math.Min(s.OutWidth, (s.PadLeft + sw - 1) / sw);
        int owB = inW - 1 - span + s.PadLeft < 0 ? 0 : Math.Min(s.OutWidth, (inW - 1 - span + s.PadLeft) / sw + 1);
        owB = Math.Max(owA, owB);
        bool vector = sw <= 2;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int pl = 0; pl < s.Planes; pl++)
        {
            ref float xp = ref Unsafe.Add(ref x0, (nint)pl * s.InPlane);
            ref float yp = ref Unsafe.Add(ref y0, (nint)pl * s.OutPlane);
            for (int oh = 0; oh < s.OutHeight; oh++)
            {
                int h0 = oh * s.StrideHeight - s.PadTop;
                var (ky0, ky1) = TapRange(h0, s.DilationHeight, s.KernelHeight, 0, s.InHeight);
                int rows = ky1 - ky0;
                float count = 0f;
                if (TOp.Average)
                {
                    var (py0, py1) = TapRange(h0, s.DilationHeight, s.KernelHeight, -s.PadTop, s.InHeight + padBottom);
                    count = countIncludePad ? (py1 - py0) * kW : rows * kW; // interior columns: every kx tap is inside
                }
                // Columns readable from the start of the window's last row: the vector chunks may read past the
                // row (into the next one; those lanes are discarded) but never past the end of x.
                nint limit = rows > 0 ? x.Length - ((nint)pl * s.InPlane + (nint)(h0 + (ky1 - 1) * s.DilationHeight) * inW) : 0;
                ref float yRow = ref Unsafe.Add(ref yp, (nint)oh * s.OutWidth);
                ref float xRow = ref Unsafe.Add(ref xp, (nint)(h0 + ky0 * s.DilationHeight) * inW);
                nint rowStep = (nint)s.DilationHeight * inW;
                int ow = 0;
                for (; ow < owA; ow++)
                    Unsafe.Add(ref yRow, ow) = Window<TOp>(ref xp, s, oh, ow, countIncludePad, padBottom, padRight);
                if (vector && rows > 0)
                {
                    // Last column read by a chunk of v outputs starting at ow: (ow + v − 1)·sw + (sw − 1) − padLeft + span
                    // (with stride 2 the odd lanes past the last window are read and dropped).
                    if (Vector512.IsHardwareAccelerated)
                        for (; ow + 16 <= owB && (ow + 16) * sw - 1 - s.PadLeft + span < limit; ow += 16)
                            Pool_F32_1x16_Vector512<TOp>(ref Unsafe.Add(ref xRow, ow * sw - s.PadLeft), rowStep, rows, kW, dw, sw, count, ref Unsafe.Add(ref yRow, ow));
                    if (Vector256.IsHardwareAccelerated)
                        for (; ow + 8 <= owB && (ow + 8) * sw - 1 - s.PadLeft + span < limit; ow += 8)
                            Pool_F32_1x8_Vector256<TOp>(ref Unsafe.Add(ref xRow, ow * sw - s.PadLeft), rowStep, rows, kW, dw, sw, count, ref Unsafe.Add(ref yRow, ow));
                    for (; ow + 4 <= owB && (ow + 4) * sw - 1 - s.PadLeft + span < limit; ow += 4)
                        Pool_F32_1x4_Vector128<TOp>(ref Unsafe.Add(ref xRow, ow * sw - s.PadLeft), rowStep, rows, kW, dw, sw, count, ref Unsafe.Add(ref yRow, ow));
                }
                for (; ow < s.OutWidth; ow++)
                    Unsafe.Add(ref yRow, ow) = Window<TOp>(ref xp, s, oh, ow, countIncludePad, padBottom, padRight);
            }
        }
    }

    /// <summary>One window, clipped to the input (the reference's arithmetic).</summary>
    private static float Window<TOp>(ref float xp, in Pool2dShape s, int oh, int ow, bool countIncludePad, int padBottom, int padRight)
        where TOp : struct, IPoolOp
    {
        int h0 = oh * s.StrideHeight - s.PadTop, w0 = ow * s.StrideWidth - s.PadLeft;
        var (ky0, ky1) = TapRange(h0, s.DilationHeight, s.KernelHeight, 0, s.InHeight);
        var (kx0, kx1) = TapRange(w0, s.DilationWidth, s.KernelWidth, 0, s.InWidth);
        float acc = TOp.Identity;
        for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++)
                acc = TOp.Combine(acc, Unsafe.Add(ref xp, (nint)(h0 + ky * s.DilationHeight) * s.InWidth + w0 + kx * s.DilationWidth));
        if (TOp.Average)
        {
            int count;
            if (countIncludePad)
            {
                var (py0, py1) = TapRange(h0, s.DilationHeight, s.KernelHeight, -s.PadTop, s.InHeight + padBottom);
                var (px0, px1) = TapRange(w0, s.DilationWidth, s.KernelWidth, -s.PadLeft, s.InWidth + padRight);
                count = (py1 - py0) * (px1 - px0);
            }
            else
            {
                count = (ky1 - ky0) * (kx1 - kx0);
            }
            return count == 0 ? 0f : acc / count;
        }
        return ky1 > ky0 && kx1 > kx0 ? acc : 0f;
    }

    /// <summary>16 adjacent windows of one output row (stride 1 or 2), all inside the input horizontally.</summary>
    private static void Pool_F32_1x16_Vector512<TOp>(ref float x, nint rowStep, int rows, int kW, int dw, int sw, float count, ref float y)
        where TOp : struct, IPoolOp
    {
        var lo = Vector512.Create(TOp.Identity);
        var hi = lo;
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref x, r * rowStep);
            for (int kx = 0; kx < kW; kx++)
            {
                nuint c = (nuint)(kx * dw);
                lo = TOp.Combine(lo, Vector512.LoadUnsafe(ref xr, c));
                if (sw == 2) hi = TOp.Combine(hi, Vector512.LoadUnsafe(ref xr, c + 16));
            }
        }
        if (sw == 2) lo = Evens(lo, hi);
        if (TOp.Average) lo /= Vector512.Create(count);
        lo.StoreUnsafe(ref y);
    }

    /// <summary>8 adjacent windows of one output row (stride 1 or 2).</summary>
    private static void Pool_F32_1x8_Vector256<TOp>(ref float x, nint rowStep, int rows, int kW, int dw, int sw, float count, ref float y)
        where TOp : struct, IPoolOp
    {
        var lo = Vector256.Create(TOp.Identity);
        var hi = lo;
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref x, r * rowStep);
            for (int kx = 0; kx < kW; kx++)
            {
                nuint c = (nuint)(kx * dw);
                lo = TOp.Combine(lo, Vector256.LoadUnsafe(ref xr, c));
                if (sw == 2) hi = TOp.Combine(hi, Vector256.LoadUnsafe(ref xr, c + 8));
            }
        }
        if (sw == 2) lo = Evens(lo, hi);
        if (TOp.Average) lo /= Vector256.Create(count);
        lo.StoreUnsafe(ref y);
    }

    /// <summary>4 adjacent windows of one output row (stride 1 or 2).</summary>
    private static void Pool_F32_1x4_Vector128<TOp>(ref float x, nint rowStep, int rows, int kW, int dw, int sw, float count, ref float y)
        where TOp : struct, IPoolOp
    {
        var lo = Vector128.Create(TOp.Identity);
        var hi = lo;
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref x, r * rowStep);
            for (int kx = 0; kx < kW; kx++)
            {
                nuint c = (nuint)(kx * dw);
                lo = TOp.Combine(lo, Vector128.LoadUnsafe(ref xr, c));
                if (sw == 2) hi = TOp.Combine(hi, Vector128.LoadUnsafe(ref xr, c + 4));
            }
        }
        if (sw == 2) lo = Evens(lo, hi);
        if (TOp.Average) lo /= Vector128.Create(count);
        lo.StoreUnsafe(ref y);
    }

    /// <summary>Lanes 0, 2, 4, … of the 32 lanes lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Evens(Vector512<float> lo, Vector512<float> hi)
    {
        if (Avx512F.IsSupported)
            return Avx512F.PermuteVar16x32x2(lo, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
        var idx = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        return Vector512.Create(Vector512.Shuffle(lo, idx).GetLower(), Vector512.Shuffle(hi, idx).GetLower());
    }

    /// <summary>Lanes 0, 2, 4, … of the 16 lanes lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Evens(Vector256<float> lo, Vector256<float> hi)
    {
        var idx = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        return Vector256.Create(Vector256.Shuffle(lo, idx).GetLower(), Vector256.Shuffle(hi, idx).GetLower());
    }

    /// <summary>Lanes 1, 3, 5, … of the 32 lanes lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Odds(Vector512<float> lo, Vector512<float> hi)
    {
        if (Avx512F.IsSupported)
            return Avx512F.PermuteVar16x32x2(lo, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
        var idx = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 14);
        return Vector512.Create(Vector512.Shuffle(lo, idx).GetLower(), Vector512.Shuffle(hi, idx).GetLower());
    }

    /// <summary>Lanes 1, 3, 5, … of the 16 lanes lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Odds(Vector256<float> lo, Vector256<float> hi)
    {
        var idx = Vector256.Create(1, 3, 5, 7, 0, 2, 4, 6);
        return Vector256.Create(Vector256.Shuffle(lo, idx).GetLower(), Vector256.Shuffle(hi, idx).GetLower());
    }

    /// <summary>Lanes 1, 3, 5, 7 of the 8 lanes lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Odds(Vector128<float> lo, Vector128<float> hi)
    {
        if (Sse.IsSupported) return Sse.Shuffle(lo, hi, 0b11_01_11_01);
        return Vector128.Create(lo.GetElement(1), lo.GetElement(3), hi.GetElement(1), hi.GetElement(3));
    }

    /// <summary>Whether the shape is the common 2×2 / stride 2 MaxPool with every window inside the input.</summary>
    internal static bool Is2x2Stride2(in Pool2dShape s) =>
        s.KernelHeight == 2 && s.KernelWidth == 2 && s.StrideHeight == 2 && s.StrideWidth == 2 && s.PadTop == 0 && s.PadLeft == 0
        && s.DilationHeight == 1 && s.DilationWidth == 1 && 2 * s.OutHeight <= s.InHeight && 2 * s.OutWidth <= s.InWidth;

    /// <summary>
    /// MaxPool 2×2 stride 2 without padding: each output row is max(rows 2r, 2r+1) taken column-wise, then max of
    /// even and odd columns — a few instructions per vector of outputs, one tight loop over all rows of all planes.
    /// Same comparisons as the reference (max is exact), so results agree bit for bit.
    /// </summary>
    internal static void Max2x2S2_F32(ref float x, ref float y, in Pool2dShape s)
    {
        int planes = s.Planes, outW = s.OutWidth, inW = s.InWidth, inPlane = s.InPlane, outH = s.OutHeight;
        nint xRow = 0, yRow = 0;
        for (int pl = 0; pl < planes; pl++, xRow = (nint)pl * inPlane)
            for (int oh = 0; oh < outH; oh++, xRow += 2 * inW, yRow += outW)
            {
                ref float a = ref Unsafe.Add(ref x, xRow);
                ref float b = ref Unsafe.Add(ref a, inW);
                ref float o = ref Unsafe.Add(ref y, yRow);
                int ow = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; ow + 16 <= outW; ow += 16)
                    {
                        nuint c = (nuint)(2 * ow);
                        var lo = Vector512.Max(Vector512.LoadUnsafe(ref a, c), Vector512.LoadUnsafe(ref b, c));
                        var hi = Vector512.Max(Vector512.LoadUnsafe(ref a, c + 16), Vector512.LoadUnsafe(ref b, c + 16));
                        Vector512.Max(Evens(lo, hi), Odds(lo, hi)).StoreUnsafe(ref o, (nuint)ow);
                    }
                if (Vector256.IsHardwareAccelerated)
                    for (; ow + 8 <= outW; ow += 8)
                    {
                        nuint c = (nuint)(2 * ow);
                        var lo = Vector256.Max(Vector256.LoadUnsafe(ref a, c), Vector256.LoadUnsafe(ref b, c));
                        var hi = Vector256.Max(Vector256.LoadUnsafe(ref a, c + 8), Vector256.LoadUnsafe(ref b, c + 8));
                        Vector256.Max(Evens(lo, hi), Odds(lo, hi)).StoreUnsafe(ref o, (nuint)ow);
                    }
                if (Vector128.IsHardwareAccelerated)
                    for (; ow + 4 <= outW; ow += 4)
                    {
                        nuint c = (nuint)(2 * ow);
                        var lo = Vector128.Max(Vector128.LoadUnsafe(ref a, c), Vector128.LoadUnsafe(ref b, c));
                        var hi = Vector128.Max(Vector128.LoadUnsafe(ref a, c + 4), Vector128.LoadUnsafe(ref b, c + 4));
                        Vector128.Max(Evens(lo, hi), Odds(lo, hi)).StoreUnsafe(ref o, (nuint)ow);
                    }
                for (; ow < outW; ow++)
                {
                    int c = 2 * ow;
                    Unsafe.Add(ref o, ow) = MathF.Max(MathF.Max(MathF.Max(Unsafe.Add(ref a, c), Unsafe.Add(ref a, c + 1)), Unsafe.Add(ref b, c)), Unsafe.Add(ref b, c + 1));
                }
            }
    }

    /// <summary>Lanes 0, 2, 4, 6 of the 8 lanes lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Evens(Vector128<float> lo, Vector128<float> hi)
    {
        if (Sse.IsSupported) return Sse.Shuffle(lo, hi, 0b10_00_10_00);
        return Vector128.Create(lo.GetElement(0), lo.GetElement(2), hi.GetElement(0), hi.GetElement(2));
    }
}
