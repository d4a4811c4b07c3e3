using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Quantised Gemm / MatMul (u8 activations × s8 weights → s32, Jacob et al. 2018) with a constant sparse B stored as
/// 1×4 blocks: 4 consecutive k of one output column (k-groups aligned to 4, as <see cref="QGemmU8S8"/> packs them), so
/// one 32-bit lane holds a block and one <c>vpdpbusd</c> does its 4 multiply-adds. Unstructured int8 weights pack too
/// (every group with a non-zero is kept whole), but only block-pruned weights have few enough groups to beat the dense
/// kernel, which already runs from L2 at ≈ 150 GOPS.
/// <para>
/// Layout: windowed SELL-16-256 over k-groups (see <see cref="SparseSell"/>): per step, 16 lanes = 16 output rows, each
/// lane's block inside a 64-byte window of x [base, base + 64) (16 groups); the AVX-512 body picks the lanes' x words
/// with one <c>vpermd</c> from that register. <c>values</c> s8 <c>[steps][16][4]</c>; <c>indices</c> ushort
/// <c>[steps][5]</c> (base in columns, a multiple of 4, then the nibble word: lane l's group = base/4 + nibble);
/// <c>rows</c> int <c>[slices + 1]</c> offsets, then <c>[slices][16]</c> original row per lane (−1 = padding). k ≤ 65536.
/// </para>
/// <para>
/// Same conventions as <see cref="QGemmU8S8"/>: the bias has the input zero point folded in with
/// <see cref="QGemmU8S8.ColumnSums"/> of the dense B, and the epilogues are that kernel's (requantisation to u8, or
/// scale to f32 + activation), fed with contiguous 16-output vectors from a per-window staging buffer.
/// </para>
/// </summary>
public static partial class SparseQGemmU8S8
{
    /// <summary>Output rows per slice. Part of the packed format.</summary>
    public const int SliceRows = SparseSell.SliceRows;

    /// <summary>k values per block (one 32-bit lane). Part of the packed format.</summary>
    public const int BlockK = 4;

    /// <summary>ushorts of indices per step. Part of the packed format.</summary>
    public const int IndicesPerStep = SparseSell.IndicesPerStep;

    private const int WindowBytes = SparseSell.WindowItems * BlockK;

    /// <summary>Sizes of <see cref="Pack"/>'s arrays for this B (runs the planning pass); values are sbytes.</summary>
    public static SparsePackedLengths PackedLengths(ReadOnlySpan<sbyte> b, bool transposed, int k, int n)
    {
        SparseGemmF32.CheckDims(k, n);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        int steps = SparseSell.CountWindowedSteps(GroupItems(b, transposed, k, n), Groups(k), out _);
        return new SparsePackedLengths(checked(steps * SliceRows * BlockK), checked(steps * IndicesPerStep), SparseSell.RowsLength(n, SliceRows));
    }

    internal static int Groups(int k) => (k + BlockK - 1) / BlockK;

    /// <summary>
    /// Fraction of B's 1×4 blocks (4-aligned k-groups of an output column) that hold a non-zero: what
    /// <see cref="SparseFormats.BreakEvenBlockDensityS8"/> is compared with. Build time.
    /// </summary>
    public static double BlockDensity(ReadOnlySpan<sbyte> b, bool transposed, int k, int n)
    {
        SparseGemmF32.CheckDims(k, n);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        long total = (long)Groups(k) * n;
        if (total == 0) return 0;
        long nonZero = 0;
        foreach (int[] column in GroupItems(b, transposed, k, n)) nonZero += column.Length;
        return (double)nonZero / total;
    }

    /// <summary>
    /// Packs B (k×n row-major, or n×k row-major when <paramref name="transposed"/>, as ONNX stores a transposed weight):
    /// every 4-aligned k-group of an output column with a non-zero is stored whole. Build time.
    /// </summary>
    public static void Pack(ReadOnlySpan<sbyte> b, bool transposed, int k, int n, Span<sbyte> values, Span<ushort> indices, Span<int> rows)
    {
        SparseGemmF32.CheckDims(k, n);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        var items = GroupItems(b, transposed, k, n);
        int steps = SparseSell.CountWindowedSteps(items, Groups(k), out var order);
        Guard.AtLeast(values.Length, (long)steps * SliceRows * BlockK, nameof(values));
        Guard.AtLeast(indices.Length, (long)steps * IndicesPerStep, nameof(indices));
        Guard.AtLeast(rows.Length, SparseSell.RowsLength(n, SliceRows), nameof(rows));
        var dense = b[..(k * n)].ToArray();
        var packed = new sbyte[steps * SliceRows * BlockK];
        SparseSell.WriteWindowed(items, Groups(k), BlockK, order, indices, rows, (step, lane, row, group) =>
        {
            for (int i = 0; i < BlockK; i++)
            {
                int kk = group * BlockK + i;
                if (kk < k) packed[(step * SliceRows + lane) * BlockK + i] = transposed ? dense[row * k + kk] : dense[kk * n + row];
            }
        });
        packed.CopyTo(values);
    }

    /// <summary>Rebuilds the dense B (layout as for <see cref="Pack"/>) from the packed arrays.</summary>
    public static void Unpack(ReadOnlySpan<sbyte> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows, bool transposed, int k, int n, Span<sbyte> b)
    {
        SparseGemmF32.CheckDims(k, n);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        int slices = SparseSell.Slices(n);
        Guard.AtLeast(rows.Length, SparseSell.RowsLength(n, SliceRows), nameof(rows));
        SparseSell.CheckOffsets(rows, slices, Math.Min(values.Length / (SliceRows * BlockK), indices.Length / IndicesPerStep), nameof(rows));
        b[..(k * n)].Clear();
        for (int s = 0; s < slices; s++)
            for (int t = rows[s]; t < rows[s + 1]; t++)
            {
                int bas = indices[t * IndicesPerStep];
                ulong word = SparseSell.Word(ref MemoryMarshal.GetReference(indices), t);
                for (int l = 0; l < SliceRows; l++)
                {
                    int row = rows[slices + 1 + s * SliceRows + l];
                    if (row < 0 || row >= n) continue;
                    for (int i = 0; i < BlockK; i++)
                    {
                        int kk = bas + BlockK * SparseSell.Position(word, l) + i;
                        sbyte v = values[(t * SliceRows + l) * BlockK + i];
                        if (kk < k && v != 0) b[transposed ? row * k + kk : kk * n + row] = v;
                    }
                }
            }
    }

    /// <summary>Per output row, the sorted k-groups holding a non-zero.</summary>
    private static int[][] GroupItems(ReadOnlySpan<sbyte> b, bool transposed, int k, int n)
    {
        var items = new int[n][];
        var list = new List<int>();
        for (int j = 0; j < n; j++)
        {
            list.Clear();
            for (int g = 0; g < Groups(k); g++)
                for (int kk = g * BlockK; kk < Math.Min(k, (g + 1) * BlockK); kk++)
                    if ((transposed ? b[j * k + kk] : b[kk * n + j]) != 0)
                    {
                        list.Add(g);
                        break;
                    }
            items[j] = list.ToArray();
        }
        return items;
    }

    /// <summary>
    /// y[j] = clamp(zp_y + MultiplyByQuantizedMultiplier(Σₖ x[k]·B[k,j] + bias'[j], multiplier[j], shift[j]), Min, Max)
    /// → u8, as <see cref="QGemmU8S8.Gemv"/>. An empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows, ReadOnlySpan<int> bias,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, Span<byte> y, int k, int n, in Requant rq) =>
        Gemm(x, values, indices, rows, bias, multiplier, shift, y, 1, k, n, rq);

    /// <summary>The same as <see cref="Gemv"/> for m rows: A row-major m×k (u8), C row-major m×n (u8).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemm(ReadOnlySpan<byte> a, ReadOnlySpan<sbyte> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows, ReadOnlySpan<int> bias,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, Span<byte> c, int m, int k, int n, in Requant rq)
    {
        CheckCommon(a.Length, values.Length, indices.Length, rows, bias.Length, c.Length, m, k, n);
        Guard.AtLeast(multiplier.Length, n, nameof(multiplier));
        Guard.AtLeast(shift.Length, n, nameof(shift));
        var epilogue = new QGemmU8S8.RequantEpilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty,
            ref MemoryMarshal.GetReference(multiplier), ref MemoryMarshal.GetReference(shift), ref MemoryMarshal.GetReference(c), n, rq);
        Run(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(values), ref MemoryMarshal.GetReference(indices), ref MemoryMarshal.GetReference(rows), ref epilogue, m, k, n);
    }

    /// <summary>y[j] = act(scale[j]·(Σₖ x[k]·B[k,j] + bias'[j])) → f32, as <see cref="QGemmU8S8.GemvToF32"/>. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvToF32(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> scale, Span<float> y, int k, int n, FusedActivation act) =>
        GemmToF32(x, values, indices, rows, bias, scale, y, 1, k, n, act);

    /// <summary>The same as <see cref="GemvToF32"/> for m rows: A row-major m×k (u8), C row-major m×n (f32).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemmToF32(ReadOnlySpan<byte> a, ReadOnlySpan<sbyte> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> scale, Span<float> c, int m, int k, int n, FusedActivation act)
    {
        CheckCommon(a.Length, values.Length, indices.Length, rows, bias.Length, c.Length, m, k, n);
        Guard.AtLeast(scale.Length, n, nameof(scale));
        var epilogue = new QGemmU8S8.F32Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(scale),
            ref MemoryMarshal.GetReference(c), n, act);
        Run(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(values), ref MemoryMarshal.GetReference(indices), ref MemoryMarshal.GetReference(rows), ref epilogue, m, k, n);
        if (!ActivationF32.IsRegisterFusable(act.Kind)) ActivationF32.PostPass(c[..(m * n)], act);
    }

    private static void CheckCommon(int aLength, int valuesLength, int indicesLength, ReadOnlySpan<int> rows, int biasLength, int cLength, int m, int k, int n)
    {
        Guard.NonNegative(m, nameof(m));
        SparseGemmF32.CheckDims(k, n);
        Guard.AtLeast(aLength, (long)m * k, "x");
        Guard.Optional(biasLength, n, "bias");
        Guard.AtLeast(cLength, (long)m * n, "y");
        Guard.AtLeast(rows.Length, SparseSell.RowsLength(n, SliceRows), nameof(rows));
        SparseSell.CheckOffsets(rows, SparseSell.Slices(n), Math.Min(valuesLength / (SliceRows * BlockK), indicesLength / IndicesPerStep), nameof(rows));
    }

    /// <summary>Picks the body for this CPU; each runs one row of A at a time and hands contiguous results to the epilogue.</summary>
    private static void Run<TEpilogue>(ref byte a, ref sbyte values, ref ushort indices, ref int rows, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        if (m == 0 || n == 0) return;
        for (int i = 0; i < m; i++)
        {
            ref byte x = ref Unsafe.Add(ref a, (nint)i * k);
            if (Avx512F.IsSupported && AvxVnni.IsSupported) Gemv_U8S8I32_16_Avx512Vnni(ref x, ref values, ref indices, ref rows, ref epilogue, i, k, n);
            else if (Avx2.IsSupported) Gemv_U8S8I32_16_Avx2(ref x, ref values, ref indices, ref rows, ref epilogue, i, k, n);
            else if (Sse2.IsSupported) Gemv_U8S8I32_16_Vector128(ref x, ref values, ref indices, ref rows, ref epilogue, i, k, n);
            else Gemv_U8S8I32_Scalar(ref x, ref values, ref indices, ref rows, ref epilogue, i, k, n);
        }
    }

    /// <summary>The reference: every lane's stored blocks times x (read as 0 past k) in step order, staged per sorting
    /// window in row order, then the epilogue one output at a time.</summary>
    [SkipLocalsInit]
    internal static void Gemv_U8S8I32_Scalar<TEpilogue>(ref byte x, ref sbyte values, ref ushort indices, ref int rows, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int slices = SparseSell.Slices(n);
        Span<int> window = stackalloc int[SparseSell.SortWindow];
        Span<int> sums = stackalloc int[SliceRows];
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            window.Clear();
            for (int s = w0 / SliceRows; s < Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s++)
            {
                sums.Clear();
                for (nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1); t < end; t++)
                {
                    int bas = Unsafe.Add(ref indices, t * IndicesPerStep);
                    ulong word = SparseSell.Word(ref indices, t);
                    for (int l = 0; l < SliceRows; l++)
                        for (int i = 0; i < BlockK; i++)
                        {
                            int kk = bas + BlockK * SparseSell.Position(word, l) + i;
                            int xv = kk < k ? Unsafe.Add(ref x, kk) : 0;
                            sums[l] += xv * Unsafe.Add(ref values, (t * SliceRows + l) * BlockK + i);
                        }
                }
                SparseSell.Scatter<int>(sums, ref SparseSell.LaneRows(ref rows, slices, s, SliceRows), w0, wRows, window);
            }
            for (int j = 0; j < wRows; j++) epilogue.Store(window[j], row, w0 + j);
        }
    }
}
