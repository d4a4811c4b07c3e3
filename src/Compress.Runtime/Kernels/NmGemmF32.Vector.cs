using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class NmGemmF32
{
    /// <summary>Calls of the AVX-512 GEMV so far: even calls walk the weights backwards (see <see cref="SparseSell.NextPassReversed"/>).</summary>
    private static int s_passes;

    /// <summary>
    /// One slice at a time, one x window per G groups held in a register: per step a <c>vpbroadcastq</c> +
    /// <c>vpsrlvd</c> decode, one <c>vpermps</c> and one FMA; 4 accumulators (rotated when a window has fewer than 4
    /// steps left) hide the FMA latency. Bias + activation on the 16 row sums, stored contiguously.
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_16_Vector512(ref float x, ref float values, ref ushort indices, ref float bias, bool hasBias, ref float y, in Pattern p, in FusedActivation act)
    {
        Span<float> tailBuffer = stackalloc float[2 * SliceRows];
        int tailStart = SparseSell.PrepareTail(ref x, p.K, SliceRows, tailBuffer);
        ref float tail = ref MemoryMarshal.GetReference(tailBuffer);
        var shifts = SparseSell.NibbleShifts512;
        int lastFull = p.K - SliceRows;
        bool reverse = SparseSell.NextPassReversed(ref s_passes);
        for (int si = 0; si < p.Slices; si++)
        {
            int s = reverse ? p.Slices - 1 - si : si;
            ref float v = ref Unsafe.Add(ref values, (nint)s * p.Steps * SliceRows);
            ref ushort ix = ref Unsafe.Add(ref indices, (nint)s * p.Steps * IndicesPerStep);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int t0 = 0, bas = 0; t0 < p.Steps; t0 += p.WindowSteps, bas += p.WindowStride)
            {
                var xv = Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x, ref tail, bas, lastFull, tailStart, SliceRows));
                nint t = t0, t1 = Math.Min(p.Steps, t0 + p.WindowSteps);
                for (; t + 4 <= t1; t += 4)
                {
                    a0 = Step512(xv, ref v, ref ix, t, shifts, a0);
                    a1 = Step512(xv, ref v, ref ix, t + 1, shifts, a1);
                    a2 = Step512(xv, ref v, ref ix, t + 2, shifts, a2);
                    a3 = Step512(xv, ref v, ref ix, t + 3, shifts, a3);
                }
                for (; t < t1; t++)
                {
                    a0 = Step512(xv, ref v, ref ix, t, shifts, a0);
                    (a0, a1, a2, a3) = (a1, a2, a3, a0);
                }
            }
            Store512((a0 + a1) + (a2 + a3), ref bias, hasBias, ref y, s * SliceRows, p.N, act);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step512(Vector512<float> window, ref float values, ref ushort indices, nint t, Vector512<uint> shifts, Vector512<float> acc)
    {
        var lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(Word(ref indices, t)).AsUInt32(), shifts).AsInt32();
        return Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref values, (nuint)(t * SliceRows)), Avx512F.PermuteVar16x32(window, lanes), acc);
    }

    /// <summary>Bias, activation and store of rows j..j+15 (only those below n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(Vector512<float> acc, ref float bias, bool hasBias, ref float y, int j, int n, in FusedActivation act)
    {
        if (j + SliceRows <= n)
        {
            if (hasBias) acc += Vector512.LoadUnsafe(ref bias, (nuint)j);
            ActivationF32.Apply(acc, act).StoreUnsafe(ref y, (nuint)j);
        }
        else StorePartial(acc, ref bias, hasBias, ref y, j, n, act);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void StorePartial(Vector512<float> acc, ref float bias, bool hasBias, ref float y, int j, int n, in FusedActivation act)
    {
        Span<float> lanes = stackalloc float[SliceRows];
        acc.CopyTo(lanes);
        for (int i = 0; i < n - j; i++)
            Unsafe.Add(ref y, j + i) = ActivationF32.Fused(lanes[i] + (hasBias ? Unsafe.Add(ref bias, j + i) : 0f), act);
    }

    /// <summary>Rows of A in blocks of 4 (positions decoded once per step for 4 rows), then one at a time.</summary>
    [SkipLocalsInit]
    internal static void Gemm_F32_4x16_Vector512(ref float a, ref float values, ref ushort indices, ref float bias, bool hasBias, ref float c, int m, in Pattern p, in FusedActivation act)
    {
        Span<float> tails = stackalloc float[4 * 2 * SliceRows];
        var shifts = SparseSell.NibbleShifts512;
        int k = p.K, n = p.N, lastFull = k - SliceRows, i = 0;
        ref float tail0 = ref MemoryMarshal.GetReference(tails);
        ref float tail1 = ref Unsafe.Add(ref tail0, 32);
        ref float tail2 = ref Unsafe.Add(ref tail0, 64);
        ref float tail3 = ref Unsafe.Add(ref tail0, 96);
        for (; i + 4 <= m; i += 4)
        {
            ref float x0 = ref Unsafe.Add(ref a, (nint)i * k);
            ref float x1 = ref Unsafe.Add(ref x0, k);
            ref float x2 = ref Unsafe.Add(ref x1, k);
            ref float x3 = ref Unsafe.Add(ref x2, k);
            ref float c0 = ref Unsafe.Add(ref c, (nint)i * n);
            int tailStart = SparseSell.PrepareTail(ref x0, k, SliceRows, tails[..32]);
            SparseSell.PrepareTail(ref x1, k, SliceRows, tails.Slice(32, 32));
            SparseSell.PrepareTail(ref x2, k, SliceRows, tails.Slice(64, 32));
            SparseSell.PrepareTail(ref x3, k, SliceRows, tails.Slice(96, 32));
            for (int s = 0; s < p.Slices; s++)
            {
                ref float v = ref Unsafe.Add(ref values, (nint)s * p.Steps * SliceRows);
                ref ushort ix = ref Unsafe.Add(ref indices, (nint)s * p.Steps * IndicesPerStep);
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int t0 = 0, bas = 0; t0 < p.Steps; t0 += p.WindowSteps, bas += p.WindowStride)
                {
                    var w0 = Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x0, ref tail0, bas, lastFull, tailStart, SliceRows));
                    var w1 = Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x1, ref tail1, bas, lastFull, tailStart, SliceRows));
                    var w2 = Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x2, ref tail2, bas, lastFull, tailStart, SliceRows));
                    var w3 = Vector512.LoadUnsafe(ref SparseSell.WindowAt(ref x3, ref tail3, bas, lastFull, tailStart, SliceRows));
                    for (nint t = t0, t1 = Math.Min(p.Steps, t0 + p.WindowSteps); t < t1; t++)
                    {
                        var lanes = Avx512F.ShiftRightLogicalVariable(Vector512.Create(Word(ref ix, t)).AsUInt32(), shifts).AsInt32();
                        var vv = Vector512.LoadUnsafe(ref v, (nuint)(t * SliceRows));
                        s0 = Vector512.FusedMultiplyAdd(vv, Avx512F.PermuteVar16x32(w0, lanes), s0);
                        s1 = Vector512.FusedMultiplyAdd(vv, Avx512F.PermuteVar16x32(w1, lanes), s1);
                        s2 = Vector512.FusedMultiplyAdd(vv, Avx512F.PermuteVar16x32(w2, lanes), s2);
                        s3 = Vector512.FusedMultiplyAdd(vv, Avx512F.PermuteVar16x32(w3, lanes), s3);
                    }
                }
                int j = s * SliceRows;
                Store512(s0, ref bias, hasBias, ref c0, j, n, act);
                Store512(s1, ref bias, hasBias, ref Unsafe.Add(ref c0, n), j, n, act);
                Store512(s2, ref bias, hasBias, ref Unsafe.Add(ref c0, 2 * n), j, n, act);
                Store512(s3, ref bias, hasBias, ref Unsafe.Add(ref c0, 3 * n), j, n, act);
            }
        }
        for (; i < m; i++)
            Gemv_F32_16_Vector512(ref Unsafe.Add(ref a, (nint)i * k), ref values, ref indices, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), p, act);
    }

    /// <summary>
    /// AVX2: each half of a step (8 lanes) picks from the 16-float window held as two registers: <c>vpermps</c> on both
    /// (low 3 bits of the position) and <c>vblendvps</c> on bit 3; two accumulators per half (steps mod 2).
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_16_Vector256(ref float x, ref float values, ref ushort indices, ref float bias, bool hasBias, ref float y, in Pattern p, in FusedActivation act)
    {
        Span<float> tailBuffer = stackalloc float[2 * SliceRows];
        int tailStart = SparseSell.PrepareTail(ref x, p.K, SliceRows, tailBuffer);
        ref float tail = ref MemoryMarshal.GetReference(tailBuffer);
        Span<float> sums = stackalloc float[SliceRows];
        var shLo = SparseSell.NibbleShifts256;
        var shHi = shLo + Vector256.Create(16u);
        int lastFull = p.K - SliceRows;
        for (int s = 0; s < p.Slices; s++)
        {
            ref float v = ref Unsafe.Add(ref values, (nint)s * p.Steps * SliceRows);
            ref ushort ix = ref Unsafe.Add(ref indices, (nint)s * p.Steps * IndicesPerStep);
            Vector256<float> lo0 = default, hi0 = default, lo1 = default, hi1 = default;
            for (int t0 = 0, bas = 0; t0 < p.Steps; t0 += p.WindowSteps, bas += p.WindowStride)
            {
                ref float win = ref SparseSell.WindowAt(ref x, ref tail, bas, lastFull, tailStart, SliceRows);
                var xl = Vector256.LoadUnsafe(ref win);
                var xh = Vector256.LoadUnsafe(ref win, 8);
                for (nint t = t0, t1 = Math.Min(p.Steps, t0 + p.WindowSteps); t < t1; t++)
                {
                    var word = Vector256.Create(Word(ref ix, t)).AsUInt32();
                    var pl = Pick256(xl, xh, Avx2.ShiftRightLogicalVariable(word, shLo));
                    var ph = Pick256(xl, xh, Avx2.ShiftRightLogicalVariable(word, shHi));
                    ref float vt = ref Unsafe.Add(ref v, t * SliceRows);
                    if ((t & 1) == 0)
                    {
                        lo0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vt), pl, lo0);
                        hi0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vt, 8), ph, hi0);
                    }
                    else
                    {
                        lo1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vt), pl, lo1);
                        hi1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vt, 8), ph, hi1);
                    }
                }
            }
            (lo0 + lo1).StoreUnsafe(ref MemoryMarshal.GetReference(sums));
            (hi0 + hi1).StoreUnsafe(ref MemoryMarshal.GetReference(sums), 8);
            int j = s * SliceRows;
            SparseSell.BiasActivation(ref MemoryMarshal.GetReference(sums), ref Unsafe.Add(ref bias, j), hasBias, ref Unsafe.Add(ref y, j), Math.Min(SliceRows, p.N - j), act);
        }
    }

    /// <summary>window[position &amp; 15] per lane from the two halves (positions may carry garbage above bit 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Pick256(Vector256<float> lo, Vector256<float> hi, Vector256<uint> positions)
    {
        var idx = positions.AsInt32();
        return Avx.BlendVariable(Avx2.PermuteVar8x32(lo, idx), Avx2.PermuteVar8x32(hi, idx), Avx2.ShiftLeftLogical(idx, 28).AsSingle());
    }

    /// <summary>SSE/NEON: four quarters of 4 lanes, x values assembled element by element from the window.</summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_16_Vector128(ref float x, ref float values, ref ushort indices, ref float bias, bool hasBias, ref float y, in Pattern p, in FusedActivation act)
    {
        Span<float> tailBuffer = stackalloc float[2 * SliceRows];
        int tailStart = SparseSell.PrepareTail(ref x, p.K, SliceRows, tailBuffer);
        ref float tail = ref MemoryMarshal.GetReference(tailBuffer);
        Span<float> sums = stackalloc float[SliceRows];
        int lastFull = p.K - SliceRows;
        for (int s = 0; s < p.Slices; s++)
        {
            ref float v = ref Unsafe.Add(ref values, (nint)s * p.Steps * SliceRows);
            ref ushort ix = ref Unsafe.Add(ref indices, (nint)s * p.Steps * IndicesPerStep);
            Vector128<float> q0 = default, q1 = default, q2 = default, q3 = default;
            for (int t0 = 0, bas = 0; t0 < p.Steps; t0 += p.WindowSteps, bas += p.WindowStride)
            {
                ref float win = ref SparseSell.WindowAt(ref x, ref tail, bas, lastFull, tailStart, SliceRows);
                for (nint t = t0, t1 = Math.Min(p.Steps, t0 + p.WindowSteps); t < t1; t++)
                {
                    ulong word = Word(ref ix, t);
                    ref float vt = ref Unsafe.Add(ref v, t * SliceRows);
                    q0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref vt), Quarter(ref win, word, 0), q0);
                    q1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref vt, 4), Quarter(ref win, word, 4), q1);
                    q2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref vt, 8), Quarter(ref win, word, 8), q2);
                    q3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref vt, 12), Quarter(ref win, word, 12), q3);
                }
            }
            ref float sum0 = ref MemoryMarshal.GetReference(sums);
            q0.StoreUnsafe(ref sum0);
            q1.StoreUnsafe(ref sum0, 4);
            q2.StoreUnsafe(ref sum0, 8);
            q3.StoreUnsafe(ref sum0, 12);
            int j = s * SliceRows;
            SparseSell.BiasActivation(ref sum0, ref Unsafe.Add(ref bias, j), hasBias, ref Unsafe.Add(ref y, j), Math.Min(SliceRows, p.N - j), act);
        }
    }

    /// <summary>x values of lanes l0..l0+3 of a step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Quarter(ref float window, ulong word, int l0) => Vector128.Create(
        Unsafe.Add(ref window, SparseSell.Position(word, l0)), Unsafe.Add(ref window, SparseSell.Position(word, l0 + 1)),
        Unsafe.Add(ref window, SparseSell.Position(word, l0 + 2)), Unsafe.Add(ref window, SparseSell.Position(word, l0 + 3)));
}
