using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class BlockSparseGemmF32
{
    /// <summary>Calls of the AVX-512 GEMVs so far: even calls walk the weights backwards (see <see cref="SparseSell.NextPassReversed"/>).</summary>
    private static int s_passes;

    /// <summary>
    /// 4×1 and 8×1 blocks: per step the x vector is x[c_b] broadcast over each block's R lanes, built from memory
    /// broadcasts and inserts that each start a fresh register (Vector512.Create(lo, hi) inserts into the previous
    /// iteration's register, a loop-carried dependency measured 2× slower); 4 accumulators (steps mod 4). Block
    /// columns are clamped to k − 1, so a corrupt index cannot read outside x.
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_Rx1_Vector512(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, in Shape shape, in FusedActivation act)
    {
        int n = shape.N, last = shape.K - 1, slices = SparseSell.Slices(n), perSlice = shape.BlockRowsPerSlice;
        bool four = shape.R == 4;
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sorted = stackalloc float[SparseSell.SortWindow];
        int windows = (n + SparseSell.SortWindow - 1) / SparseSell.SortWindow;
        bool reverse = SparseSell.NextPassReversed(ref s_passes);
        for (int wi = 0; wi < windows; wi++)
        {
            int w0 = (reverse ? windows - 1 - wi : wi) * SparseSell.SortWindow;
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int si = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); si < sEnd; si++)
            {
                int s = reverse ? w0 / SliceRows + sEnd - 1 - si : si;
                nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1);
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                if (four)
                {
                    for (; t + 4 <= end; t += 4)
                    {
                        a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16)), X4x1(ref x, ref indices, t, last), a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16 + 16)), X4x1(ref x, ref indices, t + 1, last), a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16 + 32)), X4x1(ref x, ref indices, t + 2, last), a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16 + 48)), X4x1(ref x, ref indices, t + 3, last), a3);
                    }
                    for (; t < end; t++)
                        a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16)), X4x1(ref x, ref indices, t, last), a0);
                }
                else
                {
                    for (; t + 4 <= end; t += 4)
                    {
                        a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16)), X8x1(ref x, ref indices, t, last), a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16 + 16)), X8x1(ref x, ref indices, t + 1, last), a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16 + 32)), X8x1(ref x, ref indices, t + 2, last), a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16 + 48)), X8x1(ref x, ref indices, t + 3, last), a3);
                    }
                    for (; t < end; t++)
                        a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * 16)), X8x1(ref x, ref indices, t, last), a0);
                }
                ((a0 + a1) + (a2 + a3)).StoreUnsafe(ref MemoryMarshal.GetReference(sorted), (nuint)((s - w0 / SliceRows) * SliceRows));
            }
            var ordered = SparseSell.InRowOrder<float>(sorted, window, ref rows, slices, w0, wRows, perSlice, shape.R, n);
            SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
        }
    }

    /// <summary>[x[c0]×4, x[c1]×4, x[c2]×4, x[c3]×4] for the 4 blocks of step t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> X4x1(ref float x, ref ushort indices, nint t, int last)
    {
        ref ushort c = ref Unsafe.Add(ref indices, t * 4);
        var lo = Join(Vector128.Create(Unsafe.Add(ref x, Math.Min((int)c, last))), Vector128.Create(Unsafe.Add(ref x, Math.Min((int)Unsafe.Add(ref c, 1), last))));
        var hi = Join(Vector128.Create(Unsafe.Add(ref x, Math.Min((int)Unsafe.Add(ref c, 2), last))), Vector128.Create(Unsafe.Add(ref x, Math.Min((int)Unsafe.Add(ref c, 3), last))));
        return Join(lo, hi);
    }

    /// <summary>[x[c0]×8, x[c1]×8] for the 2 blocks of step t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> X8x1(ref float x, ref ushort indices, nint t, int last)
    {
        ref ushort c = ref Unsafe.Add(ref indices, t * 2);
        return Join(Vector256.Create(Unsafe.Add(ref x, Math.Min((int)c, last))), Vector256.Create(Unsafe.Add(ref x, Math.Min((int)Unsafe.Add(ref c, 1), last))));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Join(Vector256<float> lo, Vector256<float> hi) => Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Join(Vector128<float> lo, Vector128<float> hi) => Avx.InsertVector128(lo.ToVector256Unsafe(), hi, 1);

    /// <summary>
    /// 1×4 blocks: a step is four registers of 4 rows × 4 columns; each register's x is four 16-byte loads at the
    /// rows' block columns (clamped to k − 4). Once per slice the 4 partial sums of each row are added within 128-bit
    /// lanes (two <c>vshufps</c> + adds per register) and the 16 totals collected by three <c>vpermt2ps</c>.
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_1x4_Vector512(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, in Shape shape, in FusedActivation act)
    {
        int n = shape.N, last = shape.K - 4, slices = SparseSell.Slices(n);
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sorted = stackalloc float[SparseSell.SortWindow];
        int windows = (n + SparseSell.SortWindow - 1) / SparseSell.SortWindow;
        bool reverse = SparseSell.NextPassReversed(ref s_passes);
        for (int wi = 0; wi < windows; wi++)
        {
            int w0 = (reverse ? windows - 1 - wi : wi) * SparseSell.SortWindow;
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int si = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); si < sEnd; si++)
            {
                int s = reverse ? w0 / SliceRows + sEnd - 1 - si : si;
                nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1);
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; t < end; t++)
                {
                    ref ushort c = ref Unsafe.Add(ref indices, t * 16);
                    ref float v = ref Unsafe.Add(ref values, t * 64);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref v), X1x4(ref x, ref c, last), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref v, 16), X1x4(ref x, ref Unsafe.Add(ref c, 4), last), a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref v, 32), X1x4(ref x, ref Unsafe.Add(ref c, 8), last), a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref v, 48), X1x4(ref x, ref Unsafe.Add(ref c, 12), last), a3);
                }
                RowTotals(a0, a1, a2, a3).StoreUnsafe(ref MemoryMarshal.GetReference(sorted), (nuint)((s - w0 / SliceRows) * SliceRows));
            }
            var ordered = SparseSell.InRowOrder<float>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n);
            SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
        }
    }

    /// <summary>[x[c0..c0+4), x[c1..), x[c2..), x[c3..)] for 4 rows' blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> X1x4(ref float x, ref ushort c, int last) => Join(
        Join(Vector128.LoadUnsafe(ref x, (nuint)Math.Min((int)c, last)), Vector128.LoadUnsafe(ref x, (nuint)Math.Min((int)Unsafe.Add(ref c, 1), last))),
        Join(Vector128.LoadUnsafe(ref x, (nuint)Math.Min((int)Unsafe.Add(ref c, 2), last)), Vector128.LoadUnsafe(ref x, (nuint)Math.Min((int)Unsafe.Add(ref c, 3), last))));

    /// <summary>Row r's total = the sum of 128-bit lane (r mod 4) of register r / 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowTotals(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        a0 = Quads(a0);
        a1 = Quads(a1);
        a2 = Quads(a2);
        a3 = Quads(a3);
        var firstOfQuad = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
        var lo = Avx512F.PermuteVar16x32x2(a0, firstOfQuad, a1);
        var hi = Avx512F.PermuteVar16x32x2(a2, firstOfQuad, a3);
        return Avx512F.PermuteVar16x32x2(lo, Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), hi);
    }

    /// <summary>Every lane of each 128-bit quad = the quad's sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quads(Vector512<float> v)
    {
        v += Avx512F.Shuffle(v, v, 0b10_11_00_01);
        return v + Avx512F.Shuffle(v, v, 0b01_00_11_10);
    }

    /// <summary>
    /// AVX2 and narrower (also NEON): each step's 16·C x values are staged element by element into a buffer, then
    /// multiplied with the step's values 8 (or 4) lanes at a time into accumulators kept in a stack buffer.
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_16_Vector256(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, in Shape shape, in FusedActivation act) =>
        Staged(ref x, ref values, ref indices, ref rows, ref bias, hasBias, ref y, shape, act, 8);

    /// <summary>See <see cref="Gemv_F32_16_Vector256"/>: the same with 4-lane vectors.</summary>
    internal static void Gemv_F32_16_Vector128(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, in Shape shape, in FusedActivation act) =>
        Staged(ref x, ref values, ref indices, ref rows, ref bias, hasBias, ref y, shape, act, 4);

    [SkipLocalsInit]
    private static void Staged(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, in Shape shape, in FusedActivation act, int width)
    {
        int n = shape.N, slices = SparseSell.Slices(n), perSlice = shape.BlockRowsPerSlice, stepValues = shape.StepValues, r = shape.R, cc = shape.C;
        int last = shape.K - cc;
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sorted = stackalloc float[SparseSell.SortWindow];
        Span<float> acc = stackalloc float[64];
        Span<float> xs = stackalloc float[64];
        ref float a = ref MemoryMarshal.GetReference(acc);
        ref float xv = ref MemoryMarshal.GetReference(xs);
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s < sEnd; s++)
            {
                acc.Clear();
                for (nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1); t < end; t++)
                {
                    for (int q = 0; q < perSlice; q++)
                    {
                        int c = Math.Min((int)Unsafe.Add(ref indices, t * perSlice + q), last);
                        for (int i = 0; i < r; i++)
                            for (int j = 0; j < cc; j++)
                                Unsafe.Add(ref xv, (q * r + i) * cc + j) = Unsafe.Add(ref x, c + j);
                    }
                    ref float v = ref Unsafe.Add(ref values, t * stepValues);
                    if (width == 8)
                        for (nint e = 0; e < stepValues; e += 8)
                            Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref v, (nuint)e), Vector256.LoadUnsafe(ref xv, (nuint)e), Vector256.LoadUnsafe(ref a, (nuint)e)).StoreUnsafe(ref a, (nuint)e);
                    else
                        for (nint e = 0; e < stepValues; e += 4)
                            Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref v, (nuint)e), Vector128.LoadUnsafe(ref xv, (nuint)e), Vector128.LoadUnsafe(ref a, (nuint)e)).StoreUnsafe(ref a, (nuint)e);
                }
                for (int l = 0; l < SliceRows; l++)
                {
                    float total = 0f;
                    for (int j = 0; j < cc; j++) total += acc[l * cc + j];
                    sorted[(s - w0 / SliceRows) * SliceRows + l] = total;
                }
            }
            var ordered = SparseSell.InRowOrder<float>(sorted, window, ref rows, slices, w0, wRows, perSlice, r, n);
            SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
        }
    }
}
