using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// MaxPool and GlobalAveragePool on u8 tensors in the quantised domain: both commute with an affine, monotonic
/// dequantisation, so the output keeps the input's scale and zero point and no requantisation is needed.
/// </summary>
public static partial class PoolU8
{
    /// <summary>ONNX MaxPool on u8: y = max over the window's taps inside the input (pads never win; a window with no
    /// tap inside gives 0).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Max(ReadOnlySpan<byte> x, Span<byte> y, in Pool2dShape shape)
    {
        shape.Validate();
        Guard.AtLeast(x.Length, (long)shape.Planes * shape.InPlane, nameof(x));
        Guard.AtLeast(y.Length, (long)shape.Planes * shape.OutPlane, nameof(y));
        if (!Vector128.IsHardwareAccelerated || shape.OutPlane == 0)
        {
            Max_U8_Scalar(x, y, shape);
            return;
        }
        if (PoolF32.Is2x2Stride2(shape))
        {
            Max2x2S2_U8(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), shape);
            return;
        }
        if (PoolF32.IsSeparableMax(shape))
        {
            PoolF32.SeparableMax(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), shape, (byte)0);
            return;
        }
        Max_U8_Vector128(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), shape);
    }

    /// <summary>ONNX GlobalAveragePool on u8: y[p] = (Σ plane p + planeSize/2) / planeSize, the mean rounded half up.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GlobalAverage(ReadOnlySpan<byte> x, Span<byte> y, int planes, int planeSize)
    {
        Guard.NonNegative(planes, nameof(planes));
        Guard.NonNegative(planeSize, nameof(planeSize));
        Guard.AtLeast(x.Length, (long)planes * planeSize, nameof(x));
        Guard.AtLeast(y.Length, planes, nameof(y));
        if (!Vector128.IsHardwareAccelerated || planeSize == 0)
        {
            GlobalAverage_U8_Scalar(x, y, planes, planeSize);
            return;
        }
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        for (int p = 0; p < planes; p++)
        {
            ulong sum = Sum_U8_Vector128(ref Unsafe.Add(ref x0, (nint)p * planeSize), planeSize);
            y[p] = (byte)((sum + (ulong)(planeSize / 2)) / (ulong)planeSize);
        }
    }

    /// <summary>The reference.</summary>
    internal static void Max_U8_Scalar(ReadOnlySpan<byte> x, Span<byte> y, in Pool2dShape s)
    {
        for (int p = 0; p < s.Planes; p++)
            for (int oy = 0; oy < s.OutHeight; oy++)
                for (int ox = 0; ox < s.OutWidth; ox++)
                {
                    int m = -1;
                    for (int ky = 0; ky < s.KernelHeight; ky++)
                    {
                        int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                        if (iy < 0 || iy >= s.InHeight) continue;
                        for (int kx = 0; kx < s.KernelWidth; kx++)
                        {
                            int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                            if (ix < 0 || ix >= s.InWidth) continue;
                            m = Math.Max(m, x[p * s.InPlane + iy * s.InWidth + ix]);
                        }
                    }
                    y[p * s.OutPlane + oy * s.OutWidth + ox] = (byte)Math.Max(m, 0);
                }
    }

    /// <summary>The reference.</summary>
    internal static void GlobalAverage_U8_Scalar(ReadOnlySpan<byte> x, Span<byte> y, int planes, int planeSize)
    {
        for (int p = 0; p < planes; p++)
        {
            if (planeSize == 0)
            {
                y[p] = 0;
                continue;
            }
            long sum = 0;
            foreach (byte v in x.Slice(p * planeSize, planeSize)) sum += v;
            y[p] = (byte)((sum + planeSize / 2) / planeSize);
        }
    }

    /// <summary>
    /// Σ of n bytes: 16 lanes widened to u16 and accumulated for up to 128 steps (128·2·255 &lt; 2^16), then folded into
    /// a u64 total.
    /// </summary>
    internal static ulong Sum_U8_Vector128(ref byte x, int n)
    {
        ulong total = 0;
        int i = 0;
        while (i + 16 <= n)
        {
            Vector128<ushort> acc = default;
            for (int steps = 0; steps < 128 && i + 16 <= n; steps++, i += 16)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref x, (nuint)i));
                acc += lo + hi;
            }
            var (a, b) = Vector128.Widen(acc);
            total += Vector128.Sum(a + b);
        }
        for (; i < n; i++) total += Unsafe.Add(ref x, i);
        return total;
    }

    /// <summary>
    /// MaxPool with Vector128: per output row, the columns whose whole window is inside the input take 16 outputs per
    /// step (stride 1: one load per tap; stride 2: two loads narrowed to the even bytes); the border columns, and any
    /// other stride, go through the scalar window.
    /// </summary>
    internal static void Max_U8_Vector128(ref byte x, ref byte y, in Pool2dShape s)
    {
        int sw = s.StrideWidth, ow = s.OutWidth;
        // Output columns whose every tap column is inside the input: [q0, q1).
        int q0 = Math.Min(ow, (s.PadLeft + sw - 1) / sw);
        int lastTap = (s.KernelWidth - 1) * s.DilationWidth - s.PadLeft;
        int q1 = Math.Max(q0, Math.Min(ow, s.InWidth - lastTap <= 0 ? 0 : (s.InWidth - lastTap - 1) / sw + 1));
        bool vector = sw <= 2;
        for (int p = 0; p < s.Planes; p++)
        {
            ref byte plane = ref Unsafe.Add(ref x, (nint)p * s.InPlane);
            for (int oy = 0; oy < s.OutHeight; oy++)
            {
                ref byte yRow = ref Unsafe.Add(ref y, (nint)p * s.OutPlane + (nint)oy * ow);
                int ox = 0;
                for (; ox < q0; ox++) Unsafe.Add(ref yRow, ox) = Window(ref plane, s, oy, ox);
                if (vector)
                {
                    for (; ox + 16 <= q1; ox += 16)
                    {
                        var m = Vector128<byte>.Zero;
                        for (int ky = 0; ky < s.KernelHeight; ky++)
                        {
                            int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                            if ((uint)iy >= (uint)s.InHeight) continue;
                            ref byte row = ref Unsafe.Add(ref plane, (nint)iy * s.InWidth);
                            for (int kx = 0; kx < s.KernelWidth; kx++)
                            {
                                nint ix = (nint)ox * sw - s.PadLeft + kx * s.DilationWidth;
                                var v = sw == 1
                                    ? Vector128.LoadUnsafe(ref row, (nuint)ix)
                                    : Vector128.Narrow(Vector128.LoadUnsafe(ref row, (nuint)ix).AsUInt16(), LoadOddSafe(ref row, ix + 16, s.InWidth));
                                m = Vector128.Max(m, v);
                            }
                        }
                        m.StoreUnsafe(ref yRow, (nuint)ox);
                    }
                }
                for (; ox < ow; ox++) Unsafe.Add(ref yRow, ox) = Window(ref plane, s, oy, ox);
            }
        }
    }

    /// <summary>
    /// MaxPool 2×2 stride 2 without padding: per output row, max of input rows 2r and 2r+1 byte-wise, then max of the
    /// even and odd bytes of each u16 lane — 16 outputs per step, one tight loop over all rows of all planes. A row's
    /// last &lt; 16 outputs take one more vector step when the loads and the store stay inside the tensors (its extra
    /// outputs land on the next row's, which are rewritten after), else four byte loads per output.
    /// </summary>
    internal static void Max2x2S2_U8(ref byte x, ref byte y, in Pool2dShape s)
    {
        int planes = s.Planes, outW = s.OutWidth, inW = s.InWidth, inPlane = s.InPlane, outH = s.OutHeight;
        nint xEnd = (nint)planes * inPlane, yEnd = (nint)planes * outH * outW;
        nint xRow = 0, yRow = 0;
        for (int pl = 0; pl < planes; pl++, xRow = (nint)pl * inPlane)
            for (int oh = 0; oh < outH; oh++, xRow += 2 * inW, yRow += outW)
            {
                ref byte a = ref Unsafe.Add(ref x, xRow);
                ref byte b = ref Unsafe.Add(ref a, inW);
                ref byte o = ref Unsafe.Add(ref y, yRow);
                int ow = 0;
                for (; ow + 16 <= outW; ow += 16) Max2x2S2_U8x16(ref a, ref b, ref o, ow);
                int left = outW - ow;
                if (left == 0) continue;
                nint loadEnd = xRow + inW + 2 * ow + (left <= 8 ? 16 : 32), storeEnd = yRow + ow + (left <= 8 ? 8 : 16);
                if (loadEnd <= xEnd && storeEnd <= yEnd)
                {
                    if (left > 8) Max2x2S2_U8x16(ref a, ref b, ref o, ow);
                    else Max2x2S2_U8x8(ref a, ref b, ref o, ow);
                    continue;
                }
                for (; ow < outW; ow++)
                {
                    int c = 2 * ow;
                    int m = Math.Max(Math.Max(Unsafe.Add(ref a, c), Unsafe.Add(ref a, c + 1)), Math.Max(Unsafe.Add(ref b, c), Unsafe.Add(ref b, c + 1)));
                    Unsafe.Add(ref o, ow) = (byte)m;
                }
            }
    }

    /// <summary>Outputs ow..ow+16 of one 2×2/stride-2 row from input rows a and b (32 bytes of each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Max2x2S2_U8x16(ref byte a, ref byte b, ref byte o, int ow)
    {
        nuint c = (nuint)(2 * ow);
        var lo = Vector128.Max(Vector128.LoadUnsafe(ref a, c), Vector128.LoadUnsafe(ref b, c)).AsUInt16();
        var hi = Vector128.Max(Vector128.LoadUnsafe(ref a, c + 16), Vector128.LoadUnsafe(ref b, c + 16)).AsUInt16();
        Vector128.Narrow(MaxOfByteHalves(lo), MaxOfByteHalves(hi)).StoreUnsafe(ref o, (nuint)ow);
    }

    /// <summary>Outputs ow..ow+8 of one 2×2/stride-2 row from input rows a and b (16 bytes of each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Max2x2S2_U8x8(ref byte a, ref byte b, ref byte o, int ow)
    {
        nuint c = (nuint)(2 * ow);
        var m = MaxOfByteHalves(Vector128.Max(Vector128.LoadUnsafe(ref a, c), Vector128.LoadUnsafe(ref b, c)).AsUInt16());
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref o, ow), Vector128.Narrow(m, m).AsUInt64().ToScalar());
    }

    /// <summary>Each u16 lane → max(its low byte, its high byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> MaxOfByteHalves(Vector128<ushort> v) =>
        Vector128.Max(v & Vector128.Create((ushort)0xFF), Vector128.ShiftRightLogical(v, 8));

    /// <summary>
    /// The second 16 bytes of a stride-2 load as u16 lanes. Its last byte lies one past the last tap read, which may be
    /// past the row's (and the tensor's) end, so near the end of the row the bytes are assembled safely.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> LoadOddSafe(ref byte row, nint ix, int width)
    {
        if (ix + 16 <= width) return Vector128.LoadUnsafe(ref row, (nuint)ix).AsUInt16();
        Span<byte> tmp = stackalloc byte[16];
        tmp.Clear();
        for (int i = 0; i < 15; i++) tmp[i] = Unsafe.Add(ref row, ix + i);
        return Vector128.Create<byte>(tmp).AsUInt16();
    }

    /// <summary>One output by its window (taps outside the input skipped; none inside gives 0).</summary>
    private static byte Window(ref byte plane, in Pool2dShape s, int oy, int ox)
    {
        int m = 0;
        for (int ky = 0; ky < s.KernelHeight; ky++)
        {
            int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
            if ((uint)iy >= (uint)s.InHeight) continue;
            for (int kx = 0; kx < s.KernelWidth; kx++)
            {
                int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                if ((uint)ix >= (uint)s.InWidth) continue;
                m = Math.Max(m, Unsafe.Add(ref plane, (nint)iy * s.InWidth + ix));
            }
        }
        return (byte)m;
    }
}
