using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class SparseGemmF32
{
    /// <summary>Calls of the AVX-512 GEMV so far: even calls walk the weights backwards (see <see cref="SparseSell.NextPassReversed"/>).</summary>
    private static int s_passes;

    /// <summary>
    /// One slice at a time: per step, x[base..base+16) in one register, the lanes' elements picked by <c>vpermps</c>
    /// (positions decoded by <c>vpbroadcastq</c> + <c>vpsrlvd</c>), one FMA into the slice's 16 row sums; 4 accumulators
    /// (steps mod 4) hide the FMA latency. Sums are staged per sorting window in row order, then bias + activation run
    /// as contiguous vectors. A window reaching past k (only when k &lt; 16) is read from a zero-padded copy of x's end, prepared once per call so the loop makes no calls (a call would spill the accumulators: measured 4× slower).
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_16_Vector512(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        int slices = SparseSell.Slices(n), lastFull = k - SliceRows;
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sorted = stackalloc float[SparseSell.SortWindow];
        Span<float> tailBuffer = stackalloc float[2 * SliceRows];
        int tailStart = SparseSell.PrepareTail(ref x, k, SliceRows, tailBuffer);
        ref float tail = ref MemoryMarshal.GetReference(tailBuffer);
        var shifts = SparseSell.NibbleShifts512;
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
                for (; t + 4 <= end; t += 4)
                {
                    a0 = Step512(ref x, ref tail, lastFull, tailStart, ref values, ref indices, t, shifts, a0);
                    a1 = Step512(ref x, ref tail, lastFull, tailStart, ref values, ref indices, t + 1, shifts, a1);
                    a2 = Step512(ref x, ref tail, lastFull, tailStart, ref values, ref indices, t + 2, shifts, a2);
                    a3 = Step512(ref x, ref tail, lastFull, tailStart, ref values, ref indices, t + 3, shifts, a3);
                }
                for (; t < end; t++)
                    a0 = Step512(ref x, ref tail, lastFull, tailStart, ref values, ref indices, t, shifts, a0);
                ((a0 + a1) + (a2 + a3)).StoreUnsafe(ref MemoryMarshal.GetReference(sorted), (nuint)((s - w0 / SliceRows) * SliceRows));
            }
            var ordered = SparseSell.InRowOrder<float>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n);
            SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
        }
    }

    /// <summary>acc + values[t]·x[base + position[l]] lane-wise, for windowed step t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step512(ref float x, ref float tail, int lastFull, int tailStart, ref float values, ref ushort indices, nint t, Vector512<uint> shifts, Vector512<float> acc)
    {
        var lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(SparseSell.Word(ref indices, t)).AsUInt32(), shifts).AsInt32();
        var xv = Window512(ref x, ref tail, Unsafe.Add(ref indices, t * IndicesPerStep), lastFull, tailStart);
        return Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * SliceRows)), Avx512F.PermuteVar16x32(xv, lanes), acc);
    }

    /// <summary>x[b..b+16) as one register (zero past k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Window512(ref float x, ref float tail, int b, int lastFull, int tailStart) =>
        Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x, ref tail, b, lastFull, tailStart, SliceRows));

    /// <summary>Rows of A in blocks of 4 (each step's positions decoded once, used for 4 rows), then one at a time.</summary>
    internal static void Gemm_F32_4x16_Vector512(ref float a, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float c, int m, int k, int n, in FusedActivation act)
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
            Rows4_Vector512(ref Unsafe.Add(ref a, (nint)i * k), ref values, ref indices, ref rows, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), k, n, act);
        for (; i < m; i++)
            Gemv_F32_16_Vector512(ref Unsafe.Add(ref a, (nint)i * k), ref values, ref indices, ref rows, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), k, n, act);
    }

    /// <summary>4 rows of A × every slice: 8 accumulators (4 rows × steps mod 2); values and positions loaded once per step.</summary>
    [SkipLocalsInit]
    private static void Rows4_Vector512(ref float a, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float c, int k, int n, in FusedActivation act)
    {
        const int W = SparseSell.SortWindow;
        int slices = SparseSell.Slices(n), lastFull = k - SliceRows;
        Span<float> window = stackalloc float[4 * W];
        Span<float> sorted = stackalloc float[4 * W];
        Span<float> tails = stackalloc float[4 * 2 * SliceRows];
        var shifts = SparseSell.NibbleShifts512;
        ref float x0 = ref a;
        ref float x1 = ref Unsafe.Add(ref a, k);
        ref float x2 = ref Unsafe.Add(ref a, 2 * k);
        ref float x3 = ref Unsafe.Add(ref a, 3 * k);
        int tailStart = SparseSell.PrepareTail(ref x0, k, SliceRows, tails[..32]);
        SparseSell.PrepareTail(ref x1, k, SliceRows, tails.Slice(32, 32));
        SparseSell.PrepareTail(ref x2, k, SliceRows, tails.Slice(64, 32));
        SparseSell.PrepareTail(ref x3, k, SliceRows, tails.Slice(96, 32));
        ref float t0 = ref MemoryMarshal.GetReference(tails);
        ref float t1 = ref Unsafe.Add(ref t0, 32);
        ref float t2 = ref Unsafe.Add(ref t0, 64);
        ref float t3 = ref Unsafe.Add(ref t0, 96);
        for (int w0 = 0; w0 < n; w0 += W)
        {
            int wRows = Math.Min(W, n - w0);
            for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + W) / SliceRows); s < sEnd; s++)
            {
                nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1);
                Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
                for (; t + 2 <= end; t += 2)
                {
                    int b = Unsafe.Add(ref indices, t * IndicesPerStep);
                    var lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(SparseSell.Word(ref indices, t)).AsUInt32(), shifts).AsInt32();
                    var v = Vector512.LoadUnsafe(ref values, (nuint)(t * SliceRows));
                    s00 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x0, ref t0, b, lastFull, tailStart), lanes), s00);
                    s10 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x1, ref t1, b, lastFull, tailStart), lanes), s10);
                    s20 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x2, ref t2, b, lastFull, tailStart), lanes), s20);
                    s30 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x3, ref t3, b, lastFull, tailStart), lanes), s30);
                    b = Unsafe.Add(ref indices, (t + 1) * IndicesPerStep);
                    lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(SparseSell.Word(ref indices, t + 1)).AsUInt32(), shifts).AsInt32();
                    v = Vector512.LoadUnsafe(ref values, (nuint)((t + 1) * SliceRows));
                    s01 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x0, ref t0, b, lastFull, tailStart), lanes), s01);
                    s11 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x1, ref t1, b, lastFull, tailStart), lanes), s11);
                    s21 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x2, ref t2, b, lastFull, tailStart), lanes), s21);
                    s31 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x3, ref t3, b, lastFull, tailStart), lanes), s31);
                }
                if (t < end)
                {
                    int b = Unsafe.Add(ref indices, t * IndicesPerStep);
                    var lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(SparseSell.Word(ref indices, t)).AsUInt32(), shifts).AsInt32();
                    var v = Vector512.LoadUnsafe(ref values, (nuint)(t * SliceRows));
                    s00 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x0, ref t0, b, lastFull, tailStart), lanes), s00);
                    s10 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x1, ref t1, b, lastFull, tailStart), lanes), s10);
                    s20 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x2, ref t2, b, lastFull, tailStart), lanes), s20);
                    s30 = Vector512.FusedMultiplyAdd(v, Avx512F.PermuteVar16x32(Window512(ref x3, ref t3, b, lastFull, tailStart), lanes), s30);
                }
                ref float sum0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(sorted), (s - w0 / SliceRows) * SliceRows);
                (s00 + s01).StoreUnsafe(ref sum0);
                (s10 + s11).StoreUnsafe(ref sum0, W);
                (s20 + s21).StoreUnsafe(ref sum0, 2 * W);
                (s30 + s31).StoreUnsafe(ref sum0, 3 * W);
            }
            for (int r = 0; r < 4; r++)
            {
                var ordered = SparseSell.InRowOrder<float>(sorted.Slice(r * W, W), window.Slice(r * W, W), ref rows, slices, w0, wRows, SliceRows, 1, n);
                SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref c, (nint)r * n + w0), wRows, act);
            }
        }
    }
}
