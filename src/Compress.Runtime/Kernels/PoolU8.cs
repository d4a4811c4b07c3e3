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
