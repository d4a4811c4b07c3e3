using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Gemm / MatMul with a constant block-sparse B: the weight W[n out, k in] (= Bᵀ) is tiled into blocks of
/// R rows × C columns, (R, C) ∈ {(1, 4), (4, 1), (8, 1)}, and only blocks with a non-zero are stored (block pruning,
/// e.g. Narang et al. 2017, "Block-Sparse Recurrent Neural Networks"; 1×4 is also what the int8 kernel uses). Layout:
/// block SELL-16-256 (see <see cref="SparseSell"/>): a slice is 16 output rows = 16/R block rows, sorted by block count
/// inside windows of 256 rows, one block per block row per step.
/// <list type="bullet">
/// <item>4×1 / 8×1: a step is 16 values (16/R blocks of R rows); the x vector is each block's x[c] broadcast over
/// its R lanes (<c>vbroadcastss</c> from memory + inserts, no gather).</item>
/// <item>1×4: a step is 64 values (16 rows × 4 columns, four registers of 4 rows each); x is four 16-byte loads per
/// register; the 4 partial sums of each row are added once per slice.</item>
/// </list>
/// Block columns are multiples of C except a last partial block (k mod C ≠ 0), stored at k − C holding only the
/// columns past the last full block, so every block's x load is inside [0, k).
/// <para>
/// Packed arrays: <c>values</c> f32 <c>[steps][16·C]</c> (row lane L = b·R + i of block row b, column j at L·C + j);
/// <c>indices</c> ushort <c>[steps][16/R]</c> (block start column); <c>rows</c> int <c>[slices + 1]</c> step offsets,
/// then <c>[slices][16/R]</c> the original block row (block row r covers rows R·r … R·r + R − 1), −1 = padding. k ≤ 65536.
/// </para>
/// </summary>
public static partial class BlockSparseGemmF32
{
    /// <summary>Output rows per slice. Part of the packed format.</summary>
    public const int SliceRows = SparseSell.SliceRows;

    /// <summary>Sizes of <see cref="Pack"/>'s arrays for this B (runs the planning pass).</summary>
    public static SparsePackedLengths PackedLengths(ReadOnlySpan<float> b, bool transposed, int k, int n, int blockRows, int blockCols)
    {
        var shape = new Shape(k, n, blockRows, blockCols);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        var blocks = BlockItems(b, transposed, shape, out _);
        int steps = Steps(blocks, shape, out _);
        return new SparsePackedLengths(checked(steps * shape.StepValues), checked(steps * shape.BlockRowsPerSlice),
            SparseSell.RowsLength(n, shape.BlockRowsPerSlice));
    }

    /// <summary>
    /// Packs B (k×n row-major, or n×k row-major when <paramref name="transposed"/>): every R×C block of W = Bᵀ with a
    /// non-zero is stored whole (its zeros included). Build time.
    /// </summary>
    /// <exception cref="ArgumentException">Unsupported block shape, a span too short, or k &gt; 65536.</exception>
    public static void Pack(ReadOnlySpan<float> b, bool transposed, int k, int n, int blockRows, int blockCols, Span<float> values, Span<ushort> indices, Span<int> rows)
    {
        var shape = new Shape(k, n, blockRows, blockCols);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        var blocks = BlockItems(b, transposed, shape, out var starts);
        int steps = Steps(blocks, shape, out var order);
        Guard.AtLeast(values.Length, (long)steps * shape.StepValues, nameof(values));
        Guard.AtLeast(indices.Length, (long)steps * shape.BlockRowsPerSlice, nameof(indices));
        Guard.AtLeast(rows.Length, SparseSell.RowsLength(n, shape.BlockRowsPerSlice), nameof(rows));
        values[..(steps * shape.StepValues)].Clear();
        indices[..(steps * shape.BlockRowsPerSlice)].Clear();
        int perSlice = shape.BlockRowsPerSlice, slices = SparseSell.Slices(n), step = 0;
        for (int s = 0; s < slices; s++)
        {
            rows[s] = step;
            int count = 0;
            for (int q = 0; q < perSlice; q++)
            {
                int i = s * perSlice + q;
                rows[slices + 1 + s * perSlice + q] = i < order.Length ? order[i] : -1;
                if (i < order.Length) count = Math.Max(count, blocks[order[i]].Length);
            }
            for (int q = 0; q < perSlice; q++)
            {
                int i = s * perSlice + q;
                if (i >= order.Length) continue;
                int br = order[i];
                for (int t = 0; t < blocks[br].Length; t++)
                {
                    int item = blocks[br][t], c = starts[item], first = ItemFirstColumn(item, shape);
                    indices[(step + t) * perSlice + q] = (ushort)c;
                    for (int r = 0; r < shape.R; r++)
                        for (int j = 0; j < shape.C; j++)
                        {
                            int row = br * shape.R + r, col = c + j;
                            if (row >= n || col < first || col >= k) continue;
                            values[(step + t) * shape.StepValues + (q * shape.R + r) * shape.C + j] = transposed ? b[row * k + col] : b[col * n + row];
                        }
                }
            }
            step += count;
        }
        rows[slices] = step;
    }

    /// <summary>Rebuilds the dense B (layout as for <see cref="Pack"/>) from the packed arrays.</summary>
    public static void Unpack(ReadOnlySpan<float> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows, bool transposed, int k, int n, int blockRows, int blockCols, Span<float> b)
    {
        var shape = new Shape(k, n, blockRows, blockCols);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        int perSlice = shape.BlockRowsPerSlice, slices = SparseSell.Slices(n);
        Guard.AtLeast(rows.Length, SparseSell.RowsLength(n, perSlice), nameof(rows));
        SparseSell.CheckOffsets(rows, slices, Math.Min(values.Length / shape.StepValues, indices.Length / perSlice), nameof(rows));
        b[..(k * n)].Clear();
        for (int s = 0; s < slices; s++)
            for (int t = rows[s]; t < rows[s + 1]; t++)
                for (int q = 0; q < perSlice; q++)
                {
                    int br = rows[slices + 1 + s * perSlice + q], c = indices[t * perSlice + q];
                    if (br < 0) continue;
                    for (int r = 0; r < shape.R; r++)
                        for (int j = 0; j < shape.C; j++)
                        {
                            int row = br * shape.R + r, col = c + j;
                            float v = values[t * shape.StepValues + (q * shape.R + r) * shape.C + j];
                            if (row < n && col < k && v != 0f) b[transposed ? row * k + col : col * n + row] = v;
                        }
                }
    }

    /// <summary>Block shape and the derived per-step sizes.</summary>
    internal readonly struct Shape
    {
        public readonly int K, N, R, C;

        public Shape(int k, int n, int blockRows, int blockCols)
        {
            SparseGemmF32.CheckDims(k, n);
            if ((blockRows, blockCols) is not ((1, 4) or (4, 1) or (8, 1)))
                throw new ArgumentException($"Block {blockRows}×{blockCols} is not supported (1×4, 4×1, 8×1).", nameof(blockRows));
            K = k;
            N = n;
            R = blockRows;
            C = blockCols;
        }

        /// <summary>Block rows per slice (16/R): index ushorts per step, lane-map entries per slice.</summary>
        public int BlockRowsPerSlice => SliceRows / R;

        /// <summary>Values per step: 16 rows × C columns.</summary>
        public int StepValues => SliceRows * C;

        /// <summary>Block columns: full blocks, plus one shifted partial block when C does not divide k.</summary>
        public int Items => K / C + (K % C != 0 ? 1 : 0);
    }

    /// <summary>First column a block item owns (the shifted partial block owns only the columns past the last full one).</summary>
    private static int ItemFirstColumn(int item, in Shape shape) => item * shape.C;

    /// <summary>Per block row, the sorted items (block columns) holding a non-zero; <paramref name="starts"/> = each item's stored start column.</summary>
    private static int[][] BlockItems(ReadOnlySpan<float> b, bool transposed, in Shape shape, out int[] starts)
    {
        int k = shape.K, n = shape.N, items = shape.Items, blockRows = (n + shape.R - 1) / shape.R;
        starts = new int[items];
        for (int item = 0; item < items; item++) starts[item] = Math.Max(0, Math.Min(item * shape.C, k - shape.C));
        var result = new int[blockRows][];
        var list = new List<int>();
        for (int br = 0; br < blockRows; br++)
        {
            list.Clear();
            for (int item = 0; item < items; item++)
            {
                bool any = false;
                for (int r = 0; r < shape.R && !any; r++)
                {
                    int row = br * shape.R + r;
                    if (row >= n) break;
                    for (int col = item * shape.C; col < Math.Min(k, (item + 1) * shape.C); col++)
                        if ((transposed ? b[row * k + col] : b[col * n + row]) != 0f) { any = true; break; }
                }
                if (any) list.Add(item);
            }
            result[br] = list.ToArray();
        }
        return result;
    }

    private static int Steps(int[][] blocks, in Shape shape, out int[] order)
    {
        var counts = new int[blocks.Length];
        for (int i = 0; i < counts.Length; i++) counts[i] = blocks[i].Length;
        int perSlice = shape.BlockRowsPerSlice;
        order = SparseSell.Order(counts, SparseSell.SortWindow / shape.R, (o, start, len) =>
        {
            long total = 0;
            for (int q0 = start; q0 < start + len; q0 += perSlice)
            {
                int count = 0;
                for (int q = q0; q < Math.Min(start + len, q0 + perSlice); q++) count = Math.Max(count, counts[o[q]]);
                total += count;
            }
            return total;
        }, SparseSell.SortWindow / shape.C);
        long steps = 0;
        for (int s = 0; s * perSlice < order.Length; s++)
        {
            int count = 0;
            for (int q = 0; q < perSlice && s * perSlice + q < order.Length; q++) count = Math.Max(count, counts[order[s * perSlice + q]]);
            steps += count;
        }
        return checked((int)steps);
    }

    /// <summary>y[j] = act(Σₖ x[k]·B[k,j] + bias[j]) for j &lt; n, B packed by <see cref="Pack"/>. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<float> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows,
        ReadOnlySpan<float> bias, Span<float> y, int k, int n, int blockRows, int blockCols, FusedActivation act) =>
        Gemm(x, values, indices, rows, bias, y, 1, k, n, blockRows, blockCols, act);

    /// <summary>C[i,j] = act(Σₖ A[i,k]·B[k,j] + bias[j]) with A row-major m×k and C row-major m×n. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemm(ReadOnlySpan<float> a, ReadOnlySpan<float> values, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> rows,
        ReadOnlySpan<float> bias, Span<float> c, int m, int k, int n, int blockRows, int blockCols, FusedActivation act)
    {
        Guard.NonNegative(m, nameof(m));
        var shape = new Shape(k, n, blockRows, blockCols);
        Guard.AtLeast(a.Length, (long)m * k, "x");
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(c.Length, (long)m * n, "y");
        Guard.AtLeast(rows.Length, SparseSell.RowsLength(n, shape.BlockRowsPerSlice), nameof(rows));
        SparseSell.CheckOffsets(rows, SparseSell.Slices(n), Math.Min(values.Length / shape.StepValues, indices.Length / shape.BlockRowsPerSlice), nameof(rows));
        if (m == 0 || n == 0) return;
        ref float xs = ref MemoryMarshal.GetReference(a);
        ref float vs = ref MemoryMarshal.GetReference(values);
        ref ushort ix = ref MemoryMarshal.GetReference(indices);
        ref int rs = ref MemoryMarshal.GetReference(rows);
        ref float bi = ref MemoryMarshal.GetReference(bias);
        ref float cs = ref MemoryMarshal.GetReference(c);
        bool hasBias = !bias.IsEmpty;
        // k < C: the vector bodies' x loads (C wide, clamped to k − C) would not fit; the reference reads x as 0 past k.
        if (k < shape.C)
        {
            Gemm_F32_Scalar(ref xs, ref vs, ref ix, ref rs, ref bi, hasBias, ref cs, m, shape, act);
            return;
        }
        for (int i = 0; i < m; i++)
        {
            ref float x = ref Unsafe.Add(ref xs, (nint)i * k);
            ref float y = ref Unsafe.Add(ref cs, (nint)i * n);
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                if (shape.C == 4) Gemv_F32_1x4_Vector512(ref x, ref vs, ref ix, ref rs, ref bi, hasBias, ref y, shape, act);
                else Gemv_F32_Rx1_Vector512(ref x, ref vs, ref ix, ref rs, ref bi, hasBias, ref y, shape, act);
            }
            else if (Vector256.IsHardwareAccelerated) Gemv_F32_16_Vector256(ref x, ref vs, ref ix, ref rs, ref bi, hasBias, ref y, shape, act);
            else if (Vector128.IsHardwareAccelerated) Gemv_F32_16_Vector128(ref x, ref vs, ref ix, ref rs, ref bi, hasBias, ref y, shape, act);
            else Gemv_F32_Scalar(ref x, ref vs, ref ix, ref rs, ref bi, hasBias, ref y, shape, act);
        }
        if (Vector128.IsHardwareAccelerated) ActivationF32.PostPass(c[..(m * n)], act);
    }

    /// <summary>The reference for <see cref="Gemm"/>: <see cref="Gemv_F32_Scalar"/> per row.</summary>
    internal static void Gemm_F32_Scalar(ref float a, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float c, int m, in Shape shape, in FusedActivation act)
    {
        for (int i = 0; i < m; i++)
            Gemv_F32_Scalar(ref Unsafe.Add(ref a, (nint)i * shape.K), ref values, ref indices, ref rows, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * shape.N), shape, act);
    }

    /// <summary>
    /// The reference: every row's stored block values times x in step order (x read as 0 outside [0, k)), staged per
    /// sorting window in row order, then bias and the full activation.
    /// </summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_Scalar(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, in Shape shape, in FusedActivation act)
    {
        int n = shape.N, k = shape.K, slices = SparseSell.Slices(n), perSlice = shape.BlockRowsPerSlice;
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sums = stackalloc float[SliceRows];
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            window.Clear();
            for (int s = w0 / SliceRows; s < Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s++)
            {
                sums.Clear();
                for (nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1); t < end; t++)
                    for (int q = 0; q < perSlice; q++)
                    {
                        int col0 = Unsafe.Add(ref indices, t * perSlice + q);
                        for (int r = 0; r < shape.R; r++)
                            for (int j = 0; j < shape.C; j++)
                            {
                                int lane = q * shape.R + r, col = col0 + j;
                                sums[lane] += Unsafe.Add(ref values, t * shape.StepValues + lane * shape.C + j) * (col < k ? Unsafe.Add(ref x, col) : 0f);
                            }
                    }
                ScatterBlocks(sums, ref SparseSell.LaneRows(ref rows, slices, s, perSlice), shape.R, w0, wRows, window);
            }
            SparseSell.BiasActivationScalar(ref MemoryMarshal.GetReference(window), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
        }
    }

    /// <summary>Scatters a slice's 16 row sums (lane b·R + i = row R·blockRow[b] + i) into the window buffer; rows outside are skipped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScatterBlocks(ReadOnlySpan<float> sums, ref int blockRows, int r, int windowStart, int windowRows, Span<float> window)
    {
        for (int q = 0; q < sums.Length / r; q++)
        {
            int br = Unsafe.Add(ref blockRows, q);
            if (br < 0) continue;
            for (int i = 0; i < r; i++)
            {
                long row = (long)br * r + i - windowStart;
                if ((ulong)row < (ulong)windowRows) window[(int)row] = sums[q * r + i];
            }
        }
    }
}
