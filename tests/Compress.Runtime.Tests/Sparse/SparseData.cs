using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Sparse;

/// <summary>
/// Sparse weight matrices for the sparse kernel tests, in the layout every packer takes: B k×n row-major, or n×k
/// (W[n out, k in], ONNX Gemm transB=1) when transposed. W[row, col] is output row × input column.
/// </summary>
internal static class SparseData
{
    public static int Index(bool transposed, int k, int n, int row, int col) => transposed ? row * k + col : col * n + row;

    /// <summary>Each weight non-zero with probability <paramref name="density"/>; rows listed in
    /// <paramref name="emptyRows"/> are all zero, rows in <paramref name="denseRows"/> fully dense.</summary>
    public static float[] Unstructured(Random rng, int k, int n, double density, bool transposed, int[]? emptyRows = null, int[]? denseRows = null)
    {
        var b = new float[k * n];
        for (int row = 0; row < n; row++)
        {
            bool empty = emptyRows?.Contains(row) == true, dense = denseRows?.Contains(row) == true;
            for (int col = 0; col < k; col++)
                if (!empty && (dense || rng.NextDouble() < density))
                    b[Index(transposed, k, n, row, col)] = NonZero(rng);
        }
        return b;
    }

    /// <summary>Rows of very different lengths (every third row 90 % dense, the others 3 %): the packers sort these,
    /// so the kernels' unpermuting path runs.</summary>
    public static float[] Skewed(Random rng, int k, int n, bool transposed)
    {
        var b = new float[k * n];
        for (int row = 0; row < n; row++)
            for (int col = 0; col < k; col++)
                if (rng.NextDouble() < (row % 3 == 0 ? 0.9 : 0.03)) b[Index(transposed, k, n, row, col)] = NonZero(rng);
        return b;
    }

    /// <summary>Whether a packed layout's lane → row map is not the identity (some window was sorted).</summary>
    public static bool IsSorted(int[] rows, int n, int lanesPerSlice)
    {
        int slices = (n + 15) / 16;
        int blockRows = slices * lanesPerSlice;
        for (int q = 0; q < blockRows; q++)
        {
            int v = rows[slices + 1 + q];
            if (v >= 0 && v != q) return true;
        }
        return false;
    }

    /// <summary>A random value in [-1, 1) that is not zero.</summary>
    public static float NonZero(Random rng)
    {
        float v;
        do v = (float)(rng.NextDouble() * 2 - 1); while (v == 0f);
        return v;
    }

    /// <summary>Exactly min(N, group size) non-zeros per group of M consecutive k of each row when <paramref name="full"/>,
    /// else between 0 and N.</summary>
    public static float[] NM(Random rng, int k, int n, int nmN, int nmM, bool transposed, bool full = true)
    {
        var b = new float[k * n];
        for (int row = 0; row < n; row++)
            for (int g0 = 0; g0 < k; g0 += nmM)
            {
                int size = Math.Min(nmM, k - g0), keep = full ? Math.Min(nmN, size) : rng.Next(Math.Min(nmN, size) + 1);
                foreach (int col in Enumerable.Range(g0, size).OrderBy(_ => rng.Next()).Take(keep))
                    b[Index(transposed, k, n, row, col)] = NonZero(rng);
            }
        return b;
    }

    /// <summary>
    /// R×C blocks of W (aligned, partial at the edges) kept with probability <paramref name="density"/>; a kept block is
    /// fully non-zero unless <paramref name="holes"/>, then each of its entries is non-zero with probability 1/2.
    /// </summary>
    public static float[] Blocks(Random rng, int k, int n, int r, int c, double density, bool transposed, bool holes = false)
    {
        var b = new float[k * n];
        for (int r0 = 0; r0 < n; r0 += r)
            for (int c0 = 0; c0 < k; c0 += c)
            {
                if (rng.NextDouble() >= density) continue;
                for (int row = r0; row < Math.Min(n, r0 + r); row++)
                    for (int col = c0; col < Math.Min(k, c0 + c); col++)
                        if (!holes || rng.Next(2) == 0) b[Index(transposed, k, n, row, col)] = NonZero(rng);
            }
        return b;
    }

    /// <summary>Blocks of very different counts per block row (every third block row 90 % of its blocks, the others 3 %).</summary>
    public static float[] SkewedBlocks(Random rng, int k, int n, int r, int c, bool transposed)
    {
        var b = new float[k * n];
        for (int r0 = 0; r0 < n; r0 += r)
            for (int c0 = 0; c0 < k; c0 += c)
            {
                if (rng.NextDouble() >= (r0 / r % 3 == 0 ? 0.9 : 0.03)) continue;
                for (int row = r0; row < Math.Min(n, r0 + r); row++)
                    for (int col = c0; col < Math.Min(k, c0 + c); col++) b[Index(transposed, k, n, row, col)] = NonZero(rng);
            }
        return b;
    }

    /// <summary>The same matrix in the other layout.</summary>
    public static float[] Transpose(float[] b, bool transposed, int k, int n)
    {
        var t = new float[k * n];
        for (int row = 0; row < n; row++)
            for (int col = 0; col < k; col++)
                t[Index(!transposed, k, n, row, col)] = b[Index(transposed, k, n, row, col)];
        return t;
    }

    /// <summary>Packed arrays of one sparse weight.</summary>
    public sealed record Packed(float[] Values, ushort[] Indices, int[] Rows);

    public static Packed PackUnstructured(float[] b, bool transposed, int k, int n)
    {
        var lengths = SparseGemmF32.PackedLengths(b, transposed, k, n);
        var p = new Packed(new float[lengths.Values], new ushort[lengths.Indices], new int[lengths.Rows]);
        SparseGemmF32.Pack(b, transposed, k, n, p.Values, p.Indices, p.Rows);
        return p;
    }

    public static Packed PackNM(float[] b, bool transposed, int k, int n, int nmN, int nmM)
    {
        var lengths = NmGemmF32.PackedLengths(k, n, nmN, nmM);
        Assert.Equal(0, lengths.Rows);
        var p = new Packed(new float[lengths.Values], new ushort[lengths.Indices], []);
        NmGemmF32.Pack(b, transposed, k, n, nmN, nmM, p.Values, p.Indices);
        return p;
    }

    public static Packed PackBlocks(float[] b, bool transposed, int k, int n, int r, int c)
    {
        var lengths = BlockSparseGemmF32.PackedLengths(b, transposed, k, n, r, c);
        var p = new Packed(new float[lengths.Values], new ushort[lengths.Indices], new int[lengths.Rows]);
        BlockSparseGemmF32.Pack(b, transposed, k, n, r, c, p.Values, p.Indices, p.Rows);
        return p;
    }

    /// <summary>y = act(x·B + bias) by the dense kernel on the same matrix, the result every sparse kernel must reproduce.</summary>
    public static float[] Dense(float[] a, float[] b, bool transposed, float[]? bias, int m, int k, int n, FusedActivation act)
    {
        var packed = new float[GemmF32.PackedLength(k, n)];
        GemmF32.PackB(b, transposed, k, n, packed);
        var c = new float[m * n];
        GemmF32.Gemm(a, packed, bias, c, m, k, n, act);
        return c;
    }

    /// <summary>The activations the sparse tests cycle through (fused ones and a post-pass one).</summary>
    public static readonly FusedActivation[] Activations =
    [
        FusedActivation.None,
        FusedActivation.Relu,
        new(ActivationKind.HardSwish, 0, 0),
        new(ActivationKind.Sigmoid, 0, 0),
        new(ActivationKind.Clip, -0.25f, 0.5f),
    ];
}
