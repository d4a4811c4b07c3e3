using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Gemm / MatMul with a constant N:M-sparse B (at most N non-zeros in every group of M consecutive k of each output
/// column: the 2:4 pattern of NVIDIA's sparse tensor cores, Mishra et al. 2021, "Accelerating Sparse Deep Neural
/// Networks"). Every row has the same number of stored values, so rows are not sorted: slices of 16 consecutive output
/// rows, stored as steps of 16 lanes where step t of every lane holds that row's (t mod N)-th value of group t / N.
/// All 16 lanes of a step therefore read x inside one 16-column window, and the AVX-512 body picks them with one
/// <c>vpermps</c> from a register (positions are nibbles, decoded by one <c>vpsrlvd</c>): no gathers, no horizontal
/// sums, and only 4.5 bytes per kept weight (2:4 at 1024×1024: 2.25 MB instead of 4 MB).
/// <para>
/// Windows: with G = 16/M groups per window when M divides 16 (else G = 1), group g's window starts at
/// (g / G)·G·M — 16-aligned for M ∈ {1, 2, 4, 8, 16}, so the window load never splits a cache line.
/// Packed arrays: <c>values</c> f32 <c>[ceil(n/16)][ceil(k/M)·N][16]</c>; <c>indices</c> ushort
/// <c>[ceil(n/16)][ceil(k/M)·N][4]</c> (the 64-bit nibble word of each step, lane l at bit 32·(l mod 2) + 4·(l/2),
/// position relative to the window). 1 ≤ N ≤ M ≤ 16, k ≤ 65536.
/// </para>
/// </summary>
public static partial class NmGemmF32
{
    /// <summary>Output rows per slice. Part of the packed format.</summary>
    public const int SliceRows = 16;

    /// <summary>ushorts of indices per step. Part of the packed format.</summary>
    public const int IndicesPerStep = 4;

    /// <summary>Sizes of <see cref="Pack"/>'s arrays (data-independent; <see cref="SparsePackedLengths.Rows"/> is 0).</summary>
    public static SparsePackedLengths PackedLengths(int k, int n, int nmN, int nmM)
    {
        CheckPattern(k, n, nmN, nmM);
        long steps = (long)Slices(n) * Steps(k, nmN, nmM);
        return new SparsePackedLengths(checked((int)(steps * SliceRows)), checked((int)(steps * IndicesPerStep)), 0);
    }

    internal static int Slices(int n) => (n + SliceRows - 1) / SliceRows;

    internal static int Steps(int k, int nmN, int nmM) => (k + nmM - 1) / nmM * nmN;

    /// <summary>Groups sharing one 16-column window.</summary>
    internal static int GroupsPerWindow(int nmM) => SliceRows % nmM == 0 ? SliceRows / nmM : 1;

    /// <summary>First column of the window of group <paramref name="g"/>.</summary>
    internal static int WindowBase(int g, int nmM)
    {
        int groups = GroupsPerWindow(nmM);
        return g / groups * groups * nmM;
    }

    private static void CheckPattern(int k, int n, int nmN, int nmM)
    {
        SparseGemmF32.CheckDims(k, n);
        if (nmM is < 1 or > 16) throw new ArgumentException($"M = {nmM} must be in [1, 16].", nameof(nmM));
        if (nmN < 1 || nmN > nmM) throw new ArgumentException($"N = {nmN} must be in [1, M = {nmM}].", nameof(nmN));
    }

    /// <summary>Whether every group of <paramref name="nmM"/> consecutive k of every column of B has at most
    /// <paramref name="nmN"/> non-zeros (B as for <see cref="Pack"/>).</summary>
    public static bool Fits(ReadOnlySpan<float> b, bool transposed, int k, int n, int nmN, int nmM)
    {
        CheckPattern(k, n, nmN, nmM);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        for (int j = 0; j < n; j++)
            for (int g0 = 0; g0 < k; g0 += nmM)
            {
                int count = 0;
                for (int kk = g0; kk < Math.Min(k, g0 + nmM); kk++)
                    if ((transposed ? b[j * k + kk] : b[kk * n + j]) != 0f) count++;
                if (count > nmN) return false;
            }
        return true;
    }

    /// <summary>
    /// Packs B (k×n row-major, or n×k row-major when <paramref name="transposed"/>) into the N:M layout. A group with
    /// fewer than N non-zeros is padded with zero values. Build time.
    /// </summary>
    /// <exception cref="ArgumentException">A group has more than N non-zeros (the message names the first), a span is
    /// too short, N/M out of range, or k &gt; 65536.</exception>
    public static void Pack(ReadOnlySpan<float> b, bool transposed, int k, int n, int nmN, int nmM, Span<float> values, Span<ushort> indices)
    {
        var lengths = PackedLengths(k, n, nmN, nmM);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        Guard.AtLeast(values.Length, lengths.Values, nameof(values));
        Guard.AtLeast(indices.Length, lengths.Indices, nameof(indices));
        values[..lengths.Values].Clear();
        indices[..lengths.Indices].Clear();
        int steps = Steps(k, nmN, nmM);
        for (int j = 0; j < n; j++)
        {
            int s = j / SliceRows, lane = j % SliceRows;
            for (int g = 0; g * nmM < k; g++)
            {
                int bas = WindowBase(g, nmM), taken = 0;
                for (int kk = g * nmM; kk < Math.Min(k, (g + 1) * nmM); kk++)
                {
                    float v = transposed ? b[j * k + kk] : b[kk * n + j];
                    if (v == 0f) continue;
                    if (taken == nmN)
                        throw new ArgumentException($"Column {j} has more than {nmN} non-zeros in k = {g * nmM}..{Math.Min(k, (g + 1) * nmM) - 1}: not {nmN}:{nmM} sparse.", nameof(b));
                    long t = (long)s * steps + g * nmN + taken++;
                    values[(int)(t * SliceRows + lane)] = v;
                    ulong nibble = (ulong)(kk - bas) << SparseSell.NibbleBit(lane);
                    int q = SparseSell.NibbleBit(lane) / 16;
                    indices[(int)(t * IndicesPerStep + q)] |= (ushort)(nibble >> (16 * q));
                }
            }
        }
    }

    /// <summary>Rebuilds the dense B (layout as for <see cref="Pack"/>) from the packed arrays.</summary>
    public static void Unpack(ReadOnlySpan<float> values, ReadOnlySpan<ushort> indices, bool transposed, int k, int n, int nmN, int nmM, Span<float> b)
    {
        var lengths = PackedLengths(k, n, nmN, nmM);
        Guard.AtLeast(values.Length, lengths.Values, nameof(values));
        Guard.AtLeast(indices.Length, lengths.Indices, nameof(indices));
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        b[..(k * n)].Clear();
        int steps = Steps(k, nmN, nmM);
        for (int j = 0; j < n; j++)
            for (int t = 0; t < steps; t++)
            {
                long st = (long)(j / SliceRows) * steps + t;
                float v = values[(int)(st * SliceRows + j % SliceRows)];
                ulong word = Word(ref MemoryMarshal.GetReference(indices), (nint)st);
                int kk = WindowBase(t / nmN, nmM) + SparseSell.Position(word, j % SliceRows);
                if (v != 0f && kk < k) b[transposed ? j * k + kk : kk * n + j] = v;
            }
    }

    /// <summary>The 64-bit position word of step <paramref name="t"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Word(ref ushort indices, nint t) =>
        Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref indices, t * IndicesPerStep)));

    /// <summary>y[j] = act(Σₖ x[k]·B[k,j] + bias[j]) for j &lt; n, B packed by <see cref="Pack"/>. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<float> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<float> bias,
        Span<float> y, int k, int n, int nmN, int nmM, FusedActivation act) =>
        Gemm(x, values, indices, bias, y, 1, k, n, nmN, nmM, act);

    /// <summary>C[i,j] = act(Σₖ A[i,k]·B[k,j] + bias[j]) with A row-major m×k and C row-major m×n. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemm(ReadOnlySpan<float> a, ReadOnlySpan<float> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<float> bias,
        Span<float> c, int m, int k, int n, int nmN, int nmM, FusedActivation act)
    {
        Guard.NonNegative(m, nameof(m));
        var lengths = PackedLengths(k, n, nmN, nmM);
        Guard.AtLeast(values.Length, lengths.Values, nameof(values));
        Guard.AtLeast(indices.Length, lengths.Indices, nameof(indices));
        Guard.AtLeast(a.Length, (long)m * k, "x");
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(c.Length, (long)m * n, "y");
        if (m == 0 || n == 0) return;
        var p = new Pattern(k, n, nmN, nmM);
        ref float xs = ref MemoryMarshal.GetReference(a);
        ref float vs = ref MemoryMarshal.GetReference(values);
        ref ushort ix = ref MemoryMarshal.GetReference(indices);
        ref float bi = ref MemoryMarshal.GetReference(bias);
        ref float cs = ref MemoryMarshal.GetReference(c);
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) Gemm_F32_4x16_Vector512(ref xs, ref vs, ref ix, ref bi, !bias.IsEmpty, ref cs, m, p, act);
        else if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
            for (int i = 0; i < m; i++) Gemv_F32_16_Vector256(ref Unsafe.Add(ref xs, (nint)i * k), ref vs, ref ix, ref bi, !bias.IsEmpty, ref Unsafe.Add(ref cs, (nint)i * n), p, act);
        else if (Vector128.IsHardwareAccelerated)
            for (int i = 0; i < m; i++) Gemv_F32_16_Vector128(ref Unsafe.Add(ref xs, (nint)i * k), ref vs, ref ix, ref bi, !bias.IsEmpty, ref Unsafe.Add(ref cs, (nint)i * n), p, act);
        else
        {
            Gemm_F32_Scalar(ref xs, ref vs, ref ix, ref bi, !bias.IsEmpty, ref cs, m, p, act);
            return;
        }
        ActivationF32.PostPass(c[..(m * n)], act);
    }

    /// <summary>Shape and pattern of one call, with the derived step counts.</summary>
    internal readonly struct Pattern(int k, int n, int nmN, int nmM)
    {
        public readonly int K = k, N = n, NmN = nmN, NmM = nmM;
        public readonly int Slices = NmGemmF32.Slices(n), Steps = NmGemmF32.Steps(k, nmN, nmM);

        /// <summary>Steps per window (G·N).</summary>
        public readonly int WindowSteps = GroupsPerWindow(nmM) * nmN;

        /// <summary>Columns from one window to the next (G·M).</summary>
        public readonly int WindowStride = GroupsPerWindow(nmM) * nmM;
    }

    /// <summary>The reference for <see cref="Gemm"/>: <see cref="Gemv_F32_Scalar"/> per row.</summary>
    internal static void Gemm_F32_Scalar(ref float a, ref float values, ref ushort indices, ref float bias, bool hasBias, ref float c, int m, in Pattern p, in FusedActivation act)
    {
        for (int i = 0; i < m; i++)
            Gemv_F32_Scalar(ref Unsafe.Add(ref a, (nint)i * p.K), ref values, ref indices, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * p.N), p, act);
    }

    /// <summary>The reference: per output, its stored values times x at window base + position, in step order; x read as 0 past k.</summary>
    internal static void Gemv_F32_Scalar(ref float x, ref float values, ref ushort indices, ref float bias, bool hasBias, ref float y, in Pattern p, in FusedActivation act)
    {
        for (int j = 0; j < p.N; j++)
        {
            int s = j / SliceRows, lane = j % SliceRows;
            float sum = 0f;
            for (int t = 0; t < p.Steps; t++)
            {
                nint st = (nint)s * p.Steps + t;
                int kk = t / p.WindowSteps * p.WindowStride + SparseSell.Position(Word(ref indices, st), lane);
                sum += Unsafe.Add(ref values, st * SliceRows + lane) * (kk < p.K ? Unsafe.Add(ref x, kk) : 0f);
            }
            Unsafe.Add(ref y, j) = ActivationF32.Scalar(sum + (hasBias ? Unsafe.Add(ref bias, j) : 0f), act);
        }
    }
}
