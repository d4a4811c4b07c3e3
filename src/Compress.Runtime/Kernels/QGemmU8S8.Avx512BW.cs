using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class QGemmU8S8
{
    /// <summary>
    /// x[4g..4g+3] zero-extended to 4 s16 and broadcast to all 8 64-bit lanes (the <c>vpmaddwd</c> partner of one
    /// column's 4 widened weights).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> BroadcastWide(int word) =>
        Vector512.Create(Sse41.ConvertToVector128Int16(Vector128.CreateScalarUnsafe(word).AsByte()).AsUInt64().ToScalar()).AsInt16();

    /// <summary>
    /// The pair sums of two accumulators (lo: columns 0–7, hi: 8–15, each column as (k0+k1, k2+k3) lanes) folded into
    /// one s32 per column, in column order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> FoldPairs(Vector512<int> lo, Vector512<int> hi)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        return Avx512F.PermuteVar16x32x2(lo, even, hi) + Avx512F.PermuteVar16x32x2(lo, odd, hi);
    }

    /// <summary>
    /// Avx512BW body (CPUs without AvxVnni). <c>vpmaddubsw</c> would saturate: a u8·s8 pair sum reaches 2·255·128 =
    /// 65280 &gt; 32767. So the weights are sign-extended to s16 (<c>vpmovsxbw</c>, 32 bytes → one Vector512 = 8 columns ×
    /// 4 k) and multiplied with x zero-extended to s16 by <c>vpmaddwd</c>, whose s16·s16 pair sums into s32 are exact;
    /// each column's two pair sums are folded at the end. Rows in blocks of 4 (8 accumulators), leftovers one at a time.
    /// </summary>
    internal static void Gemm_U8S8I32_4x16_Avx512BW<TEpilogue>(ref byte a, ref sbyte packedB, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
            Rows4_Avx512BW(ref a, ref packedB, ref epilogue, i, k, n);
        for (; i < m; i++)
            Gemv_U8S8I32_4x16_Avx512BW(ref Unsafe.Add(ref a, (nint)i * k), ref packedB, ref epilogue, i, k, n);
    }

    /// <summary>One row: 4 panels per pass (8 accumulators), one widened x broadcast per k-group; leftover panels alone.</summary>
    internal static void Gemv_U8S8I32_4x16_Avx512BW<TEpilogue>(ref byte x, ref sbyte packedB, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panels = Panels(n), groups = KGroups(k), full = k / KGroup;
        int tail = TailWord(ref x, k);
        nint panelBytes = (nint)groups * 64;
        int p = 0;
        for (; p + 4 <= panels; p += 4)
        {
            ref sbyte b = ref Unsafe.Add(ref packedB, p * panelBytes);
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            nint o = 0;
            for (nint g = 0; g < groups; g++, o += 64)
            {
                var xv = BroadcastWide(g < full ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x, g * 4)) : tail);
                a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)o)), xv);
                a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + 32))), xv);
                a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + panelBytes))), xv);
                a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + panelBytes + 32))), xv);
                a4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + 2 * panelBytes))), xv);
                a5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + 2 * panelBytes + 32))), xv);
                a6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + 3 * panelBytes))), xv);
                a7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(o + 3 * panelBytes + 32))), xv);
            }
            int j = p * PanelWidth;
            epilogue.Store(FoldPairs(a0, a1), row, j, Math.Min(PanelWidth, n - j));
            epilogue.Store(FoldPairs(a2, a3), row, j + 16, Math.Min(PanelWidth, n - j - 16));
            epilogue.Store(FoldPairs(a4, a5), row, j + 32, Math.Min(PanelWidth, n - j - 32));
            epilogue.Store(FoldPairs(a6, a7), row, j + 48, Math.Min(PanelWidth, n - j - 48));
        }
        for (; p < panels; p++)
        {
            ref sbyte b = ref Unsafe.Add(ref packedB, p * panelBytes);
            Vector512<int> a0 = default, a1 = default;
            for (nint g = 0; g < groups; g++)
            {
                var xv = BroadcastWide(g < full ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x, g * 4)) : tail);
                a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(g * 64))), xv);
                a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(g * 64 + 32))), xv);
            }
            int j = p * PanelWidth;
            epilogue.Store(FoldPairs(a0, a1), row, j, Math.Min(PanelWidth, n - j));
        }
    }

    /// <summary>Rows i..i+3 × every panel: the two widened weight vectors of a k-group serve 4 rows.</summary>
    private static void Rows4_Avx512BW<TEpilogue>(ref byte a, ref sbyte packedB, ref TEpilogue epilogue, int i, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panels = Panels(n), groups = KGroups(k), full = k / KGroup;
        nint panelBytes = (nint)groups * 64;
        ref byte x0 = ref Unsafe.Add(ref a, (nint)i * k);
        ref byte x1 = ref Unsafe.Add(ref x0, k);
        ref byte x2 = ref Unsafe.Add(ref x1, k);
        ref byte x3 = ref Unsafe.Add(ref x2, k);
        int t0 = TailWord(ref x0, k), t1 = TailWord(ref x1, k), t2 = TailWord(ref x2, k), t3 = TailWord(ref x3, k);
        for (int p = 0; p < panels; p++)
        {
            ref sbyte b = ref Unsafe.Add(ref packedB, p * panelBytes);
            Vector512<int> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            for (nint g = 0; g < groups; g++)
            {
                var w0 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(g * 64)));
                var w1 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref b, (nuint)(g * 64 + 32)));
                bool whole = g < full;
                var v = BroadcastWide(whole ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x0, g * 4)) : t0);
                s00 += Avx512BW.MultiplyAddAdjacent(w0, v);
                s01 += Avx512BW.MultiplyAddAdjacent(w1, v);
                v = BroadcastWide(whole ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x1, g * 4)) : t1);
                s10 += Avx512BW.MultiplyAddAdjacent(w0, v);
                s11 += Avx512BW.MultiplyAddAdjacent(w1, v);
                v = BroadcastWide(whole ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x2, g * 4)) : t2);
                s20 += Avx512BW.MultiplyAddAdjacent(w0, v);
                s21 += Avx512BW.MultiplyAddAdjacent(w1, v);
                v = BroadcastWide(whole ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x3, g * 4)) : t3);
                s30 += Avx512BW.MultiplyAddAdjacent(w0, v);
                s31 += Avx512BW.MultiplyAddAdjacent(w1, v);
            }
            int j = p * PanelWidth, valid = Math.Min(PanelWidth, n - j);
            epilogue.Store(FoldPairs(s00, s01), i, j, valid);
            epilogue.Store(FoldPairs(s10, s11), i + 1, j, valid);
            epilogue.Store(FoldPairs(s20, s21), i + 2, j, valid);
            epilogue.Store(FoldPairs(s30, s31), i + 3, j, valid);
        }
    }
}
