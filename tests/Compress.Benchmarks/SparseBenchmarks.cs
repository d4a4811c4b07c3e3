using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>Pruned weights for the sparse benchmarks (fixed seeds) and their packed, 64-byte aligned arrays.</summary>
internal static class SparseData
{
    /// <summary>W[n, k] (the transposed layout every packer accepts) with each weight kept with probability 1 − sparsity.</summary>
    public static float[] Unstructured(Random rng, int k, int n, double sparsity)
    {
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++)
            if (rng.NextDouble() >= sparsity) w[i] = (float)(rng.NextDouble() * 2 - 1) + 1e-3f;
        return w;
    }

    /// <summary>W[n, k] with R×C blocks kept with probability 1 − sparsity.</summary>
    public static float[] Blocks(Random rng, int k, int n, int r, int c, double sparsity)
    {
        var w = new float[n * k];
        for (int r0 = 0; r0 < n; r0 += r)
            for (int c0 = 0; c0 < k; c0 += c)
                if (rng.NextDouble() >= sparsity)
                    for (int i = r0; i < Math.Min(n, r0 + r); i++)
                        for (int j = c0; j < Math.Min(k, c0 + c); j++) w[i * k + j] = (float)(rng.NextDouble() * 2 - 1) + 1e-3f;
        return w;
    }

    /// <summary>W[n, k] with exactly N of every M consecutive weights of a row kept.</summary>
    public static float[] NM(Random rng, int k, int n, int nmN, int nmM)
    {
        var w = new float[n * k];
        for (int row = 0; row < n; row++)
            for (int g0 = 0; g0 < k; g0 += nmM)
                foreach (int col in Enumerable.Range(g0, Math.Min(nmM, k - g0)).OrderBy(_ => rng.Next()).Take(nmN))
                    w[row * k + col] = (float)(rng.NextDouble() * 2 - 1) + 1e-3f;
        return w;
    }

    public static Memory<float> DenseF32(float[] w, int k, int n)
    {
        var packed = Data.Aligned<float>(GemmF32.PackedLength(k, n));
        GemmF32.PackB(w, true, k, n, packed.Span);
        return packed;
    }

    /// <summary>One packed sparse weight (values, indices, rows), aligned like <see cref="ModelWeights"/> hands them out.</summary>
    public sealed class Sparse
    {
        public Memory<float> Values;
        public Memory<ushort> Indices;
        public int[] Rows = [];

        public static Sparse Unstructured(float[] w, int k, int n)
        {
            var l = SparseGemmF32.PackedLengths(w, true, k, n);
            var s = new Sparse { Values = Data.Aligned<float>(l.Values), Indices = Data.Aligned<ushort>(l.Indices), Rows = new int[l.Rows] };
            SparseGemmF32.Pack(w, true, k, n, s.Values.Span, s.Indices.Span, s.Rows);
            return s;
        }

        public static Sparse Blocks(float[] w, int k, int n, int r, int c)
        {
            var l = BlockSparseGemmF32.PackedLengths(w, true, k, n, r, c);
            var s = new Sparse { Values = Data.Aligned<float>(l.Values), Indices = Data.Aligned<ushort>(l.Indices), Rows = new int[l.Rows] };
            BlockSparseGemmF32.Pack(w, true, k, n, r, c, s.Values.Span, s.Indices.Span, s.Rows);
            return s;
        }

        public static Sparse NM(float[] w, int k, int n, int nmN, int nmM)
        {
            var l = NmGemmF32.PackedLengths(k, n, nmN, nmM);
            var s = new Sparse { Values = Data.Aligned<float>(l.Values), Indices = Data.Aligned<ushort>(l.Indices) };
            NmGemmF32.Pack(w, true, k, n, nmN, nmM, s.Values.Span, s.Indices.Span);
            return s;
        }
    }
}

/// <summary>
/// Batch-1 fp32 layer k×n: dense <see cref="GemmF32.Gemv"/> against the unstructured and block-sparse kernels at the
/// same sparsity. 1024×1024 is the wide MLP's hidden layer (4 MB dense: streams from L3); 256×256 fits the L2 dense,
/// where sparsity has to be much higher to pay. GOPS are dense-equivalent (2·k·n per call).
/// </summary>
public class SparseGemvBenchmarks : IOperationCount
{
    [Params("1024x1024", "256x256")]
    public string Shape { get; set; } = "1024x1024";

    [Params(0.3, 0.5, 0.7, 0.8, 0.9, 0.95)]
    public double Sparsity { get; set; } = 0.9;

    private int _k, _n;
    private Memory<float> _dense;
    private SparseData.Sparse _unstructured = null!, _b1x4 = null!, _b4x1 = null!, _b8x1 = null!;
    private float[] _x = null!, _y = null!, _bias = null!;

    private (int K, int N) Dims => (int.Parse(Shape.Split('x')[0]), int.Parse(Shape.Split('x')[1]));

    public double Operations(string method) => 2.0 * Dims.K * Dims.N;

    [GlobalSetup]
    public void Setup()
    {
        (_k, _n) = Dims;
        var rng = new Random(42);
        _dense = SparseData.DenseF32(Data.Floats(rng, _k * _n), _k, _n);
        _unstructured = SparseData.Sparse.Unstructured(SparseData.Unstructured(rng, _k, _n, Sparsity), _k, _n);
        _b1x4 = SparseData.Sparse.Blocks(SparseData.Blocks(rng, _k, _n, 1, 4, Sparsity), _k, _n, 1, 4);
        _b4x1 = SparseData.Sparse.Blocks(SparseData.Blocks(rng, _k, _n, 4, 1, Sparsity), _k, _n, 4, 1);
        _b8x1 = SparseData.Sparse.Blocks(SparseData.Blocks(rng, _k, _n, 8, 1, Sparsity), _k, _n, 8, 1);
        _x = Data.Floats(rng, _k);
        _y = new float[_n];
        _bias = Data.Floats(rng, _n);
    }

    [Benchmark(Baseline = true, Description = "dense GemmF32.Gemv")]
    public void Dense() => GemmF32.Gemv(_x, _dense.Span, _bias, _y, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "SparseGemmF32.Gemv (unstructured)")]
    public void Unstructured() =>
        SparseGemmF32.Gemv(_x, _unstructured.Values.Span, _unstructured.Indices.Span, _unstructured.Rows, _bias, _y, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "BlockSparseGemmF32.Gemv 1x4")]
    public void Block1x4() =>
        BlockSparseGemmF32.Gemv(_x, _b1x4.Values.Span, _b1x4.Indices.Span, _b1x4.Rows, _bias, _y, _k, _n, 1, 4, FusedActivation.Relu);

    [Benchmark(Description = "BlockSparseGemmF32.Gemv 4x1")]
    public void Block4x1() =>
        BlockSparseGemmF32.Gemv(_x, _b4x1.Values.Span, _b4x1.Indices.Span, _b4x1.Rows, _bias, _y, _k, _n, 4, 1, FusedActivation.Relu);

    [Benchmark(Description = "BlockSparseGemmF32.Gemv 8x1")]
    public void Block8x1() =>
        BlockSparseGemmF32.Gemv(_x, _b8x1.Values.Span, _b8x1.Indices.Span, _b8x1.Rows, _bias, _y, _k, _n, 8, 1, FusedActivation.Relu);
}

/// <summary>Batch-1 fp32 layer: dense against N:M (2:4 is 50 % sparse, 1:4 and 2:8 are 75 %).</summary>
public class NmGemvBenchmarks : IOperationCount
{
    [Params("1024x1024", "256x256")]
    public string Shape { get; set; } = "1024x1024";

    private int _k, _n;
    private Memory<float> _dense;
    private SparseData.Sparse _s24 = null!, _s14 = null!, _s28 = null!;
    private float[] _x = null!, _y = null!, _bias = null!;

    private (int K, int N) Dims => (int.Parse(Shape.Split('x')[0]), int.Parse(Shape.Split('x')[1]));

    public double Operations(string method) => 2.0 * Dims.K * Dims.N;

    [GlobalSetup]
    public void Setup()
    {
        (_k, _n) = Dims;
        var rng = new Random(43);
        _dense = SparseData.DenseF32(Data.Floats(rng, _k * _n), _k, _n);
        _s24 = SparseData.Sparse.NM(SparseData.NM(rng, _k, _n, 2, 4), _k, _n, 2, 4);
        _s14 = SparseData.Sparse.NM(SparseData.NM(rng, _k, _n, 1, 4), _k, _n, 1, 4);
        _s28 = SparseData.Sparse.NM(SparseData.NM(rng, _k, _n, 2, 8), _k, _n, 2, 8);
        _x = Data.Floats(rng, _k);
        _y = new float[_n];
        _bias = Data.Floats(rng, _n);
    }

    [Benchmark(Baseline = true, Description = "dense GemmF32.Gemv")]
    public void Dense() => GemmF32.Gemv(_x, _dense.Span, _bias, _y, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "NmGemmF32.Gemv 2:4")]
    public void Nm2of4() => NmGemmF32.Gemv(_x, _s24.Values.Span, _s24.Indices.Span, _bias, _y, _k, _n, 2, 4, FusedActivation.Relu);

    [Benchmark(Description = "NmGemmF32.Gemv 1:4")]
    public void Nm1of4() => NmGemmF32.Gemv(_x, _s14.Values.Span, _s14.Indices.Span, _bias, _y, _k, _n, 1, 4, FusedActivation.Relu);

    [Benchmark(Description = "NmGemmF32.Gemv 2:8")]
    public void Nm2of8() => NmGemmF32.Gemv(_x, _s28.Values.Span, _s28.Indices.Span, _bias, _y, _k, _n, 2, 8, FusedActivation.Relu);
}

/// <summary>Batch-1 int8 layer 1024×1024: dense <see cref="QGemmU8S8.Gemv"/> against <see cref="SparseQGemmU8S8.Gemv"/> on
/// 1×4-block-pruned weights, and on unstructured weights (every 4-group with a non-zero is stored).</summary>
public class SparseQGemvBenchmarks : IOperationCount
{
    [Params(0.5, 0.7, 0.8, 0.9, 0.95)]
    public double Sparsity { get; set; } = 0.9;

    private const int K = 1024, N = 1024;
    private Data.QLayer _dense = null!;
    private sbyte[] _v1x4 = null!, _vUn = null!;
    private ushort[] _i1x4 = null!, _iUn = null!;
    private int[] _r1x4 = null!, _rUn = null!;
    private byte[] _x = null!, _y = null!;

    public double Operations(string method) => 2.0 * K * N;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(44);
        _dense = new Data.QLayer(rng, K, N);
        (_v1x4, _i1x4, _r1x4) = Pack(Blocks(rng));
        (_vUn, _iUn, _rUn) = Pack(Unstructured(rng));
        _x = Data.Bytes(rng, K);
        _y = new byte[N];
    }

    private sbyte[] Blocks(Random rng)
    {
        var w = new sbyte[N * K];
        for (int i = 0; i < w.Length; i += 4)
            if (rng.NextDouble() >= Sparsity)
                for (int j = 0; j < 4; j++) w[i + j] = (sbyte)rng.Next(-127, 128);
        return w;
    }

    private sbyte[] Unstructured(Random rng)
    {
        var w = new sbyte[N * K];
        for (int i = 0; i < w.Length; i++)
            if (rng.NextDouble() >= Sparsity) w[i] = (sbyte)rng.Next(1, 128);
        return w;
    }

    private static (sbyte[], ushort[], int[]) Pack(sbyte[] w)
    {
        var l = SparseQGemmU8S8.PackedLengths(w, true, K, N);
        var v = new sbyte[l.Values];
        var ix = new ushort[l.Indices];
        var r = new int[l.Rows];
        SparseQGemmU8S8.Pack(w, true, K, N, v, ix, r);
        return (v, ix, r);
    }

    private static readonly Requant Relu = new(0, 0, 255);

    [Benchmark(Baseline = true, Description = "dense QGemmU8S8.Gemv")]
    public void Dense() => QGemmU8S8.Gemv(_x, _dense.Packed.Span, _dense.Bias, _dense.Multiplier, _dense.Shift, _y, K, N, Relu);

    [Benchmark(Description = "SparseQGemmU8S8.Gemv (1x4 blocks)")]
    public void Blocks1x4() => SparseQGemmU8S8.Gemv(_x, _v1x4, _i1x4, _r1x4, _dense.Bias, _dense.Multiplier, _dense.Shift, _y, K, N, Relu);

    [Benchmark(Description = "SparseQGemmU8S8.Gemv (unstructured)")]
    public void UnstructuredInt8() => SparseQGemmU8S8.Gemv(_x, _vUn, _iUn, _rUn, _dense.Bias, _dense.Multiplier, _dense.Shift, _y, K, N, Relu);
}

/// <summary>
/// The whole wide MLP 64→1024→1024→10 at batch 1 (Relu between layers) with every layer pruned: dense against 90 %
/// unstructured, 2:4 and 90 % 1×4 blocks — the issue-4 targets (≥ 3× and ≥ 1.5× faster than dense).
/// </summary>
public class SparseMlpBenchmarks : IOperationCount
{
    private static readonly (int K, int N)[] Layers = [(64, 1024), (1024, 1024), (1024, 10)];
    private Memory<float>[] _dense = null!;
    private SparseData.Sparse[] _un90 = null!, _nm24 = null!, _b90 = null!;
    private float[][] _bias = null!;
    private float[] _x = null!, _h1 = null!, _h2 = null!, _out = null!;

    public double Operations(string method) => 2.0 * Layers.Sum(l => (double)l.K * l.N);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(45);
        _dense = Layers.Select(l => SparseData.DenseF32(Data.Floats(rng, l.K * l.N), l.K, l.N)).ToArray();
        _un90 = Layers.Select(l => SparseData.Sparse.Unstructured(SparseData.Unstructured(rng, l.K, l.N, 0.9), l.K, l.N)).ToArray();
        _nm24 = Layers.Select(l => SparseData.Sparse.NM(SparseData.NM(rng, l.K, l.N, 2, 4), l.K, l.N, 2, 4)).ToArray();
        _b90 = Layers.Select(l => SparseData.Sparse.Blocks(SparseData.Blocks(rng, l.K, l.N, 1, 4, 0.9), l.K, l.N, 1, 4)).ToArray();
        _bias = Layers.Select(l => Data.Floats(rng, l.N)).ToArray();
        _x = Data.Floats(rng, 64);
        _h1 = new float[1024];
        _h2 = new float[1024];
        _out = new float[10];
    }

    private FusedActivation Act(int layer) => layer < 2 ? FusedActivation.Relu : FusedActivation.None;

    private Span<float> In(int layer) => layer switch { 0 => _x, 1 => _h1, _ => _h2 };

    private Span<float> Out(int layer) => layer switch { 0 => _h1, 1 => _h2, _ => _out };

    [Benchmark(Baseline = true, Description = "dense (3 × GemmF32.Gemv)")]
    public void Dense()
    {
        for (int i = 0; i < 3; i++) GemmF32.Gemv(In(i), _dense[i].Span, _bias[i], Out(i), Layers[i].K, Layers[i].N, Act(i));
    }

    [Benchmark(Description = "90 % unstructured (3 × SparseGemmF32.Gemv)")]
    public void Unstructured90()
    {
        for (int i = 0; i < 3; i++)
            SparseGemmF32.Gemv(In(i), _un90[i].Values.Span, _un90[i].Indices.Span, _un90[i].Rows, _bias[i], Out(i), Layers[i].K, Layers[i].N, Act(i));
    }

    [Benchmark(Description = "2:4 (3 × NmGemmF32.Gemv)")]
    public void Nm2of4()
    {
        for (int i = 0; i < 3; i++)
            NmGemmF32.Gemv(In(i), _nm24[i].Values.Span, _nm24[i].Indices.Span, _bias[i], Out(i), Layers[i].K, Layers[i].N, 2, 4, Act(i));
    }

    [Benchmark(Description = "90 % 1x4 blocks (3 × BlockSparseGemmF32.Gemv)")]
    public void Block1x4Sparse90()
    {
        for (int i = 0; i < 3; i++)
            BlockSparseGemmF32.Gemv(In(i), _b90[i].Values.Span, _b90[i].Indices.Span, _b90[i].Rows, _bias[i], Out(i), Layers[i].K, Layers[i].N, 1, 4, Act(i));
    }
}

/// <summary>Batch 16 at 1024×1024: dense <see cref="GemmF32.Gemm"/> against 90 % unstructured and 2:4.</summary>
public class SparseGemmBenchmarks : IOperationCount
{
    private const int M = 16, K = 1024, N = 1024;
    private Memory<float> _dense;
    private SparseData.Sparse _un90 = null!, _nm24 = null!;
    private float[] _a = null!, _c = null!, _bias = null!;

    public double Operations(string method) => 2.0 * M * K * N;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(46);
        _dense = SparseData.DenseF32(Data.Floats(rng, K * N), K, N);
        _un90 = SparseData.Sparse.Unstructured(SparseData.Unstructured(rng, K, N, 0.9), K, N);
        _nm24 = SparseData.Sparse.NM(SparseData.NM(rng, K, N, 2, 4), K, N, 2, 4);
        _a = Data.Floats(rng, M * K);
        _c = new float[M * N];
        _bias = Data.Floats(rng, N);
    }

    [Benchmark(Baseline = true, Description = "dense GemmF32.Gemm m=16")]
    public void Dense() => GemmF32.Gemm(_a, _dense.Span, _bias, _c, M, K, N, FusedActivation.Relu);

    [Benchmark(Description = "SparseGemmF32.Gemm m=16 (90 %)")]
    public void Unstructured90() => SparseGemmF32.Gemm(_a, _un90.Values.Span, _un90.Indices.Span, _un90.Rows, _bias, _c, M, K, N, FusedActivation.Relu);

    [Benchmark(Description = "NmGemmF32.Gemm m=16 (2:4)")]
    public void Nm2of4() => NmGemmF32.Gemm(_a, _nm24.Values.Span, _nm24.Indices.Span, _bias, _c, M, K, N, 2, 4, FusedActivation.Relu);
}
