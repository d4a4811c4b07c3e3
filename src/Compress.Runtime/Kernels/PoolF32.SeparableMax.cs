using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

public static partial class PoolF32
{
    /// <summary>
    /// Whether <see cref="SeparableMax{T}"/> applies: unit column dilation, column stride 1 or 2, and every window has
    /// at least one tap inside the input both vertically and horizontally (so no output is the empty-window 0).
    /// </summary>
    internal static bool IsSeparableMax(in Pool2dShape s)
    {
        if (s.DilationWidth != 1 || s.StrideWidth > 2 || s.OutHeight == 0 || s.OutWidth == 0 || s.InWidth == 0) return false;
        // Columns: with unit dilation only the first and the last window can miss the input.
        if (s.PadLeft >= s.KernelWidth || (s.OutWidth - 1) * s.StrideWidth - s.PadLeft >= s.InWidth) return false;
        for (int oh = 0; oh < s.OutHeight; oh++)
        {
            var (ky0, ky1) = TapRange(oh * s.StrideHeight - s.PadTop, s.DilationHeight, s.KernelHeight, 0, s.InHeight);
            if (ky1 <= ky0) return false;
        }
        return true;
    }

    /// <summary>
    /// Separable MaxPool (max over a window = max over its columns of the max over its rows), for float and byte.
    /// Per output row: the window's input rows that fall inside the input are max-ed column-wise into a row buffer
    /// whose left and right padding holds <paramref name="identity"/> (−∞ for float, 0 for byte, neither can win over
    /// a tap inside); then each output is the max of kW consecutive buffer entries at stride 1 or 2, a vector of outputs
    /// at a time (stride 2: max at stride 1 over twice the columns, then keep the even lanes). The padded border
    /// therefore needs no special case, and the last vector chunk of a row overlaps the previous one instead of
    /// falling back to scalar code. Max with NaN propagation is commutative and associative, so the result equals the
    /// reference's exactly.
    /// </summary>
    internal static void SeparableMax<T>(ref T x, ref T y, in Pool2dShape s, T identity)
        where T : unmanaged
    {
        int inW = s.InWidth, outW = s.OutWidth, padL = s.PadLeft;
        // Every chunk of outputs [ox, ox + n) with ox + n ≤ outW reads buffer columns below outW·sw + kW − 1.
        int bufLen = Math.Max(padL + inW, outW * s.StrideWidth + s.KernelWidth);
        T[]? rented = null;
        Span<T> buffer = bufLen * Unsafe.SizeOf<T>() <= 4096 ? stackalloc T[bufLen] : (rented = ArrayPool<T>.Shared.Rent(bufLen));
        buffer.Fill(identity);
        ref T buf = ref MemoryMarshal.GetReference(buffer);
        for (int pl = 0; pl < s.Planes; pl++)
        {
            ref T xp = ref Unsafe.Add(ref x, (nint)pl * s.InPlane);
            ref T yp = ref Unsafe.Add(ref y, (nint)pl * s.OutPlane);
            for (int oh = 0; oh < s.OutHeight; oh++)
            {
                int h0 = oh * s.StrideHeight - s.PadTop;
                var (ky0, ky1) = TapRange(h0, s.DilationHeight, s.KernelHeight, 0, s.InHeight);
                ref T first = ref Unsafe.Add(ref xp, (nint)(h0 + ky0 * s.DilationHeight) * inW);
                ColumnMax(ref first, (nint)s.DilationHeight * inW, ky1 - ky0, inW, ref Unsafe.Add(ref buf, padL));
                RowWindowMax(ref buf, s.KernelWidth, s.StrideWidth, outW, ref Unsafe.Add(ref yp, (nint)oh * outW));
            }
        }
        if (rented is not null) ArrayPool<T>.Shared.Return(rented);
    }

    /// <summary>o[i] = max over r &lt; rows of x[r·rowStep + i], i &lt; n, with the widest vector that fits n.</summary>
    private static void ColumnMax<T>(ref T x, nint rowStep, int rows, int n, ref T o)
        where T : unmanaged
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            for (int i = 0; ; i += Vector512<T>.Count)
            {
                i = Math.Min(i, n - Vector512<T>.Count); // the last chunk overlaps the previous one
                var m = Vector512.LoadUnsafe(ref x, (nuint)i);
                for (int r = 1; r < rows; r++) m = Vector512.Max(m, Vector512.LoadUnsafe(ref Unsafe.Add(ref x, r * rowStep), (nuint)i));
                m.StoreUnsafe(ref o, (nuint)i);
                if (i == n - Vector512<T>.Count) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            for (int i = 0; ; i += Vector256<T>.Count)
            {
                i = Math.Min(i, n - Vector256<T>.Count);
                var m = Vector256.LoadUnsafe(ref x, (nuint)i);
                for (int r = 1; r < rows; r++) m = Vector256.Max(m, Vector256.LoadUnsafe(ref Unsafe.Add(ref x, r * rowStep), (nuint)i));
                m.StoreUnsafe(ref o, (nuint)i);
                if (i == n - Vector256<T>.Count) return;
            }
        }
        if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
        {
            for (int i = 0; ; i += Vector128<T>.Count)
            {
                i = Math.Min(i, n - Vector128<T>.Count);
                var m = Vector128.LoadUnsafe(ref x, (nuint)i);
                for (int r = 1; r < rows; r++) m = Vector128.Max(m, Vector128.LoadUnsafe(ref Unsafe.Add(ref x, r * rowStep), (nuint)i));
                m.StoreUnsafe(ref o, (nuint)i);
                if (i == n - Vector128<T>.Count) return;
            }
        }
        for (int i = 0; i < n; i++)
        {
            T m = Unsafe.Add(ref x, i);
            for (int r = 1; r < rows; r++) m = ScalarMax(m, Unsafe.Add(ref x, r * rowStep + i));
            Unsafe.Add(ref o, i) = m;
        }
    }

    /// <summary>y[o] = max over k &lt; kW of b[o·sw + k], o &lt; outW, sw ∈ {1, 2}; b is readable up to outW·sw + kW − 1.</summary>
    private static void RowWindowMax<T>(ref T b, int kW, int sw, int outW, ref T y)
        where T : unmanaged
    {
        if (Vector512.IsHardwareAccelerated && outW >= Vector512<T>.Count)
        {
            int n = Vector512<T>.Count;
            for (int o = 0; ; o += n)
            {
                o = Math.Min(o, outW - n);
                ref T c = ref Unsafe.Add(ref b, o * sw);
                var lo = Vector512.LoadUnsafe(ref c);
                if (sw == 1)
                {
                    for (int k = 1; k < kW; k++) lo = Vector512.Max(lo, Vector512.LoadUnsafe(ref c, (nuint)k));
                }
                else
                {
                    var hi = Vector512.LoadUnsafe(ref c, (nuint)n);
                    for (int k = 1; k < kW; k++)
                    {
                        lo = Vector512.Max(lo, Vector512.LoadUnsafe(ref c, (nuint)k));
                        hi = Vector512.Max(hi, Vector512.LoadUnsafe(ref c, (nuint)(k + n)));
                    }
                    lo = EvenLanes(lo, hi);
                }
                lo.StoreUnsafe(ref y, (nuint)o);
                if (o == outW - n) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && outW >= Vector256<T>.Count)
        {
            int n = Vector256<T>.Count;
            for (int o = 0; ; o += n)
            {
                o = Math.Min(o, outW - n);
                ref T c = ref Unsafe.Add(ref b, o * sw);
                var lo = Vector256.LoadUnsafe(ref c);
                if (sw == 1)
                {
                    for (int k = 1; k < kW; k++) lo = Vector256.Max(lo, Vector256.LoadUnsafe(ref c, (nuint)k));
                }
                else
                {
                    var hi = Vector256.LoadUnsafe(ref c, (nuint)n);
                    for (int k = 1; k < kW; k++)
                    {
                        lo = Vector256.Max(lo, Vector256.LoadUnsafe(ref c, (nuint)k));
                        hi = Vector256.Max(hi, Vector256.LoadUnsafe(ref c, (nuint)(k + n)));
                    }
                    lo = EvenLanes(lo, hi);
                }
                lo.StoreUnsafe(ref y, (nuint)o);
                if (o == outW - n) return;
            }
        }
        if (Vector128.IsHardwareAccelerated && outW >= Vector128<T>.Count)
        {
            int n = Vector128<T>.Count;
            for (int o = 0; ; o += n)
            {
                o = Math.Min(o, outW - n);
                ref T c = ref Unsafe.Add(ref b, o * sw);
                var lo = Vector128.LoadUnsafe(ref c);
                if (sw == 1)
                {
                    for (int k = 1; k < kW; k++) lo = Vector128.Max(lo, Vector128.LoadUnsafe(ref c, (nuint)k));
                }
                else
                {
                    var hi = Vector128.LoadUnsafe(ref c, (nuint)n);
                    for (int k = 1; k < kW; k++)
                    {
                        lo = Vector128.Max(lo, Vector128.LoadUnsafe(ref c, (nuint)k));
                        hi = Vector128.Max(hi, Vector128.LoadUnsafe(ref c, (nuint)(k + n)));
                    }
                    lo = EvenLanes(lo, hi);
                }
                lo.StoreUnsafe(ref y, (nuint)o);
                if (o == outW - n) return;
            }
        }
        for (int o = 0; o < outW; o++)
        {
            ref T c = ref Unsafe.Add(ref b, o * sw);
            T m = c;
            for (int k = 1; k < kW; k++) m = ScalarMax(m, Unsafe.Add(ref c, k));
            Unsafe.Add(ref y, o) = m;
        }
    }

    /// <summary>Lanes 0, 2, 4, … of lo:hi (float: a two-source permute; byte: narrowing each u16 to its low byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> EvenLanes<T>(Vector512<T> lo, Vector512<T> hi)
    {
        if (typeof(T) == typeof(float)) return Evens(lo.AsSingle(), hi.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(byte)) return Vector512.Narrow(lo.AsUInt16(), hi.AsUInt16()).As<byte, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> EvenLanes<T>(Vector256<T> lo, Vector256<T> hi)
    {
        if (typeof(T) == typeof(float)) return Evens(lo.AsSingle(), hi.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(byte)) return Vector256.Narrow(lo.AsUInt16(), hi.AsUInt16()).As<byte, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> EvenLanes<T>(Vector128<T> lo, Vector128<T> hi)
    {
        if (typeof(T) == typeof(float)) return Evens(lo.AsSingle(), hi.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(byte)) return Vector128.Narrow(lo.AsUInt16(), hi.AsUInt16()).As<byte, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary><see cref="MathF.Max(float, float)"/> for float (NaN propagates, as the vector Max), plain max for byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ScalarMax<T>(T a, T b)
    {
        if (typeof(T) == typeof(float)) return (T)(object)MathF.Max((float)(object)a!, (float)(object)b!);
        if (typeof(T) == typeof(byte)) return (T)(object)Math.Max((byte)(object)a!, (byte)(object)b!);
        throw new NotSupportedException(typeof(T).Name);
    }
}
