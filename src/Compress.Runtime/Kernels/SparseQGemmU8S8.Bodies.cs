using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class SparseQGemmU8S8
{
    /// <summary>
    /// AVX-512 + AVX-VNNI: per step the 64-byte x window in one register, the 16 lanes' x words picked by one
    /// <c>vpermd</c> (positions decoded by <c>vpbroadcastq</c> + <c>vpsrlvd</c>), then two 256-bit <c>vpdpbusd</c>
    /// (AVX-VNNI has no 512-bit form) against the step's 64 weight bytes; two accumulator pairs (steps mod 2).
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_U8S8I32_16_Avx512Vnni<TEpilogue>(ref byte x, ref sbyte values, ref ushort indices, ref int rows, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int slices = SparseSell.Slices(n), lastFull = k - WindowBytes;
        Span<int> window = stackalloc int[SparseSell.SortWindow];
        Span<int> sorted = stackalloc int[SparseSell.SortWindow];
        Span<byte> tailBuffer = stackalloc byte[2 * WindowBytes];
        int tailStart = SparseSell.PrepareTail(ref x, k, WindowBytes, tailBuffer);
        ref byte tail = ref MemoryMarshal.GetReference(tailBuffer);
        var shifts = SparseSell.NibbleShifts512;
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s < sEnd; s++)
            {
                nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1);
                Vector256<int> lo0 = default, hi0 = default, lo1 = default, hi1 = default;
                for (; t + 2 <= end; t += 2)
                {
                    var x0 = Words512(ref x, ref tail, lastFull, tailStart, ref indices, t, shifts);
                    var x1 = Words512(ref x, ref tail, lastFull, tailStart, ref indices, t + 1, shifts);
                    ref sbyte w = ref Unsafe.Add(ref values, t * (SliceRows * BlockK));
                    lo0 = AvxVnni.MultiplyWideningAndAdd(lo0, x0.GetLower().AsByte(), Vector256.LoadUnsafe(ref w));
                    hi0 = AvxVnni.MultiplyWideningAndAdd(hi0, x0.GetUpper().AsByte(), Vector256.LoadUnsafe(ref w, 32));
                    lo1 = AvxVnni.MultiplyWideningAndAdd(lo1, x1.GetLower().AsByte(), Vector256.LoadUnsafe(ref w, 64));
                    hi1 = AvxVnni.MultiplyWideningAndAdd(hi1, x1.GetUpper().AsByte(), Vector256.LoadUnsafe(ref w, 96));
                }
                if (t < end)
                {
                    var x0 = Words512(ref x, ref tail, lastFull, tailStart, ref indices, t, shifts);
                    ref sbyte w = ref Unsafe.Add(ref values, t * (SliceRows * BlockK));
                    lo0 = AvxVnni.MultiplyWideningAndAdd(lo0, x0.GetLower().AsByte(), Vector256.LoadUnsafe(ref w));
                    hi0 = AvxVnni.MultiplyWideningAndAdd(hi0, x0.GetUpper().AsByte(), Vector256.LoadUnsafe(ref w, 32));
                }
                ref int sum0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(sorted), (s - w0 / SliceRows) * SliceRows);
                (lo0 + lo1).StoreUnsafe(ref sum0);
                (hi0 + hi1).StoreUnsafe(ref sum0, 8);
            }
            Epilogue256(SparseSell.InRowOrder<int>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n), ref epilogue, row, w0, wRows);
        }
    }

    /// <summary>The 16 lanes' x words (4 bytes each) of step t, picked from the step's 64-byte window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Words512(ref byte x, ref byte tail, int lastFull, int tailStart, ref ushort indices, nint t, Vector512<uint> shifts)
    {
        int b = Unsafe.Add(ref indices, t * IndicesPerStep);
        var win = Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x, ref tail, b, lastFull, tailStart, WindowBytes)).AsInt32();
        var lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(SparseSell.Word(ref indices, t)).AsUInt32(), shifts).AsInt32();
        return Avx512F.PermuteVar16x32(win, lanes);
    }

    /// <summary>Hands a window's staged s32 sums to the epilogue 16 outputs (two Vector256) at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Epilogue256<TEpilogue>(scoped Span<int> window, ref TEpilogue epilogue, int row, int w0, int wRows)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        ref int acc = ref MemoryMarshal.GetReference(window);
        for (int j = 0; j < wRows; j += SliceRows)
            epilogue.Store(Vector256.LoadUnsafe(ref acc, (nuint)j), Vector256.LoadUnsafe(ref acc, (nuint)j + 8), row, w0 + j, Math.Min(SliceRows, wRows - j));
    }

    /// <summary>
    /// AVX2 (with AVX-VNNI when present, else <c>vpmaddwd</c> on the even and odd bytes — exact, no saturation): each
    /// half of a step picks its x words from the window held as two registers (<c>vpermd</c> on both, blend on bit 3).
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_U8S8I32_16_Avx2<TEpilogue>(ref byte x, ref sbyte values, ref ushort indices, ref int rows, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int slices = SparseSell.Slices(n), lastFull = k - WindowBytes;
        Span<int> window = stackalloc int[SparseSell.SortWindow];
        Span<int> sorted = stackalloc int[SparseSell.SortWindow];
        Span<byte> tailBuffer = stackalloc byte[2 * WindowBytes];
        int tailStart = SparseSell.PrepareTail(ref x, k, WindowBytes, tailBuffer);
        ref byte tail = ref MemoryMarshal.GetReference(tailBuffer);
        var shLo = SparseSell.NibbleShifts256;
        var shHi = shLo + Vector256.Create(16u);
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s < sEnd; s++)
            {
                Vector256<int> lo = default, hi = default;
                for (nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1); t < end; t++)
                {
                    int b = Unsafe.Add(ref indices, t * IndicesPerStep);
                    ref byte src = ref SparseSell.WindowAt(ref x, ref tail, b, lastFull, tailStart, WindowBytes);
                    var wl = Vector256.LoadUnsafe(ref src).AsSingle();
                    var wh = Vector256.LoadUnsafe(ref src, 32).AsSingle();
                    var word = Vector256.Create(SparseSell.Word(ref indices, t)).AsUInt32();
                    var xl = NmGemmF32.Pick256(wl, wh, Avx2.ShiftRightLogicalVariable(word, shLo)).AsInt32();
                    var xh = NmGemmF32.Pick256(wl, wh, Avx2.ShiftRightLogicalVariable(word, shHi)).AsInt32();
                    ref sbyte w = ref Unsafe.Add(ref values, t * (SliceRows * BlockK));
                    lo = Dot256(lo, xl, Vector256.LoadUnsafe(ref w));
                    hi = Dot256(hi, xh, Vector256.LoadUnsafe(ref w, 32));
                }
                ref int sum0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(sorted), (s - w0 / SliceRows) * SliceRows);
                lo.StoreUnsafe(ref sum0);
                hi.StoreUnsafe(ref sum0, 8);
            }
            Epilogue256(SparseSell.InRowOrder<int>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n), ref epilogue, row, w0, wRows);
        }
    }

    /// <summary>acc + Σ of the 4 u8×s8 products in each 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot256(Vector256<int> acc, Vector256<int> x, Vector256<sbyte> w)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(acc, x.AsByte(), w);
        var mask = Vector256.Create(0x00FF00FF);
        var xe = (x & mask).AsInt16();
        var xo = (Avx2.ShiftRightLogical(x, 8) & mask).AsInt16();
        var wi = w.AsInt16();
        var we = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(wi, 8), 8);
        var wo = Avx2.ShiftRightArithmetic(wi, 8);
        return acc + Avx2.MultiplyAddAdjacent(xe, we) + Avx2.MultiplyAddAdjacent(xo, wo);
    }

    /// <summary>SSE2: four quarters of 4 lanes; x words read one by one from the window, <c>pmaddwd</c> on even/odd bytes.</summary>
    [SkipLocalsInit]
    internal static void Gemv_U8S8I32_16_Vector128<TEpilogue>(ref byte x, ref sbyte values, ref ushort indices, ref int rows, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int slices = SparseSell.Slices(n), lastFull = k - WindowBytes;
        Span<int> window = stackalloc int[SparseSell.SortWindow];
        Span<int> sorted = stackalloc int[SparseSell.SortWindow];
        Span<byte> tailBuffer = stackalloc byte[2 * WindowBytes];
        int tailStart = SparseSell.PrepareTail(ref x, k, WindowBytes, tailBuffer);
        ref byte tail = ref MemoryMarshal.GetReference(tailBuffer);
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s < sEnd; s++)
            {
                Vector128<int> q0 = default, q1 = default, q2 = default, q3 = default;
                for (nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1); t < end; t++)
                {
                    int b = Unsafe.Add(ref indices, t * IndicesPerStep);
                    ref byte src = ref SparseSell.WindowAt(ref x, ref tail, b, lastFull, tailStart, WindowBytes);
                    ulong word = SparseSell.Word(ref indices, t);
                    ref sbyte w = ref Unsafe.Add(ref values, t * (SliceRows * BlockK));
                    q0 = Dot128(q0, Words(ref src, word, 0), Vector128.LoadUnsafe(ref w));
                    q1 = Dot128(q1, Words(ref src, word, 4), Vector128.LoadUnsafe(ref w, 16));
                    q2 = Dot128(q2, Words(ref src, word, 8), Vector128.LoadUnsafe(ref w, 32));
                    q3 = Dot128(q3, Words(ref src, word, 12), Vector128.LoadUnsafe(ref w, 48));
                }
                ref int sum0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(sorted), (s - w0 / SliceRows) * SliceRows);
                q0.StoreUnsafe(ref sum0);
                q1.StoreUnsafe(ref sum0, 4);
                q2.StoreUnsafe(ref sum0, 8);
                q3.StoreUnsafe(ref sum0, 12);
            }
            ref int acc = ref MemoryMarshal.GetReference(SparseSell.InRowOrder<int>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n));
            for (int j = 0; j < wRows; j += 4)
                epilogue.Store(Vector128.LoadUnsafe(ref acc, (nuint)j), row, w0 + j, Math.Min(4, wRows - j));
        }
    }

    /// <summary>The x words (4 bytes each) of lanes l0..l0+3 of a step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Words(ref byte window, ulong word, int l0) => Vector128.Create(
        Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref window, BlockK * SparseSell.Position(word, l0))),
        Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref window, BlockK * SparseSell.Position(word, l0 + 1))),
        Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref window, BlockK * SparseSell.Position(word, l0 + 2))),
        Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref window, BlockK * SparseSell.Position(word, l0 + 3))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot128(Vector128<int> acc, Vector128<int> x, Vector128<sbyte> w)
    {
        var mask = Vector128.Create(0x00FF00FF);
        var xe = (x & mask).AsInt16();
        var xo = (Sse2.ShiftRightLogical(x, 8) & mask).AsInt16();
        var wi = w.AsInt16();
        var we = Sse2.ShiftRightArithmetic(Sse2.ShiftLeftLogical(wi, 8), 8);
        var wo = Sse2.ShiftRightArithmetic(wi, 8);
        return acc + Sse2.MultiplyAddAdjacent(xe, we) + Sse2.MultiplyAddAdjacent(xo, wo);
    }
}
