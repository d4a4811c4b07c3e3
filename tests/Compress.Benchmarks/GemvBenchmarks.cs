using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>Random layer data shared by the benchmarks (fixed seed; values do not change kernel speed).</summary>
internal static class Data
{
    public static float[] Floats(Random rng, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static byte[] Bytes(Random rng, int n)
    {
        var a = new byte[n];
        rng.NextBytes(a);
        return a;
    }

    public static sbyte[] SBytes(Random rng, int n)
    {
        var a = new sbyte[n];
        for (int i = 0; i < n; i++) a[i] = (sbyte)rng.Next(-127, 128);
        return a;
    }

    /// <summary>A quantised dense layer k→n: packed s8 weights, s32 bias, per-column requantisation and f32 scales.</summary>
    public sealed class QLayer
    {
        public readonly sbyte[] Packed;
        public readonly int[] Bias, Multiplier, Shift, Sums;
        public readonly float[] Scale, WeightScale, FloatBias, PackedF32;
        public readonly int K, N;

        public QLayer(Random rng, int k, int n)
        {
            K = k;
            N = n;
            var w = SBytes(rng, k * n);
            Packed = new sbyte[QGemmU8S8.PackedLength(k, n)];
            QGemmU8S8.PackB(w, false, k, n, Packed);
            Sums = new int[n];
            QGemmU8S8.ColumnSums(w, false, k, n, Sums);
            Bias = new int[n];
            Multiplier = new int[n];
            Shift = new int[n];
            Scale = new float[n];
            WeightScale = new float[n];
            FloatBias = Floats(rng, n);
            for (int j = 0; j < n; j++)
            {
                Bias[j] = rng.Next(-1000, 1000);
                WeightScale[j] = 0.01f;
                Scale[j] = 0.0001f;
                (Multiplier[j], Shift[j]) = QuantMath.QuantizeMultiplier(1.0 / (k * 64.0));
            }
            var wf = new float[k * n];
            for (int i = 0; i < wf.Length; i++) wf[i] = w[i] * 0.01f;
            PackedF32 = new float[GemmF32.PackedLength(k, n)];
            GemmF32.PackB(wf, false, k, n, PackedF32);
        }
    }
}

/// <summary>One-row dense layers (batch 1): fp32 GEMV against the int8 kernels and weight-only int4.</summary>
public class GemvBenchmarks : IOperationCount
{
    [Params("64x256", "1024x1024")]
    public string Shape { get; set; } = "64x256";

    private int _k, _n;
    private Data.QLayer _layer = null!;
    private float[] _xf = null!, _yf = null!;
    private byte[] _x = null!, _y = null!, _scratch = null!;
    private byte[] _nibbles = null!;
    private float[] _i4Scales = null!;

    private (int K, int N) Dims => (int.Parse(Shape.Split('x')[0]), int.Parse(Shape.Split('x')[1]));

    public double Operations(string method) => 2.0 * Dims.K * Dims.N;

    [GlobalSetup]
    public void Setup()
    {
        (_k, _n) = Dims;
        var rng = new Random(42);
        _layer = new Data.QLayer(rng, _k, _n);
        _xf = Data.Floats(rng, _k);
        _yf = new float[_n];
        _x = Data.Bytes(rng, _k);
        _y = new byte[_n];
        _scratch = new byte[_k];
        _nibbles = new byte[GemmF32I4.PackedLength(_k, _n, 32)];
        _i4Scales = new float[GemmF32I4.ScalesLength(_k, _n, 32)];
        GemmF32I4.Pack(Data.Floats(rng, _k * _n), false, _k, _n, 32, _nibbles, _i4Scales);
    }

    [Benchmark(Baseline = true, Description = "fp32 GemmF32.Gemv")]
    public void Fp32() => GemmF32.Gemv(_xf, _layer.PackedF32, _layer.FloatBias, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.Gemv (u8→u8)")]
    public void Int8() => QGemmU8S8.Gemv(_x, _layer.Packed, _layer.Bias, _layer.Multiplier, _layer.Shift, _y, _k, _n, new Requant(0, 0, 255));

    [Benchmark(Description = "int8 QGemmU8S8.GemvToF32")]
    public void Int8ToF32() => QGemmU8S8.GemvToF32(_x, _layer.Packed, _layer.Bias, _layer.Scale, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.GemvDynamic (f32→f32)")]
    public void Int8Dynamic() => QGemmU8S8.GemvDynamic(_xf, _scratch, _layer.Packed, _layer.Sums, _layer.WeightScale, _layer.FloatBias, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int4 GemmF32I4.Gemv (block 32)")]
    public void Int4() => GemmF32I4.Gemv(_xf, _nibbles, _i4Scales, _layer.FloatBias, _yf, _k, _n, 32, FusedActivation.Relu);
}

/// <summary>m-row dense layers (a batch of m), k = n = 512.</summary>
public class GemmBenchmarks : IOperationCount
{
    [Params(16, 64)]
    public int M { get; set; } = 16;

    private const int K = 512, N = 512;
    private Data.QLayer _layer = null!;
    private float[] _af = null!, _cf = null!;
    private byte[] _a = null!, _c = null!;

    public double Operations(string method) => 2.0 * M * K * N;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        _layer = new Data.QLayer(rng, K, N);
        _af = Data.Floats(rng, M * K);
        _cf = new float[M * N];
        _a = Data.Bytes(rng, M * K);
        _c = new byte[M * N];
    }

    [Benchmark(Baseline = true, Description = "fp32 GemmF32.Gemm")]
    public void Fp32() => GemmF32.Gemm(_af, _layer.PackedF32, _layer.FloatBias, _cf, M, K, N, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.Gemm (u8→u8)")]
    public void Int8() => QGemmU8S8.Gemm(_a, _layer.Packed, _layer.Bias, _layer.Multiplier, _layer.Shift, _c, M, K, N, new Requant(0, 0, 255));
}

/// <summary>
/// The 64→1024→1024→10 MLP at batch 1: fp32 (3 × GemmF32.Gemv) against int8 (quantise the input, two u8→u8 layers,
/// one u8→f32 layer). The fp32 weights are 4.3 MB (past the L2), the int8 ones 1.1 MB.
/// </summary>
public class MlpBenchmarks : IOperationCount
{
    private Data.QLayer _l1 = null!, _l2 = null!, _l3 = null!;
    private float[] _x = null!, _h1 = null!, _h2 = null!, _out = null!;
    private byte[] _xq = null!, _h1q = null!, _h2q = null!;

    public double Operations(string method) => 2.0 * (64 * 1024 + 1024 * 1024 + 1024 * 10);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _l1 = new Data.QLayer(rng, 64, 1024);
        _l2 = new Data.QLayer(rng, 1024, 1024);
        _l3 = new Data.QLayer(rng, 1024, 10);
        _x = Data.Floats(rng, 64);
        _h1 = new float[1024];
        _h2 = new float[1024];
        _out = new float[10];
        _xq = new byte[64];
        _h1q = new byte[1024];
        _h2q = new byte[1024];
    }

    [Benchmark(Baseline = true, Description = "fp32 MLP 64-1024-1024-10")]
    public void Fp32()
    {
        GemmF32.Gemv(_x, _l1.PackedF32, _l1.FloatBias, _h1, 64, 1024, FusedActivation.Relu);
        GemmF32.Gemv(_h1, _l2.PackedF32, _l2.FloatBias, _h2, 1024, 1024, FusedActivation.Relu);
        GemmF32.Gemv(_h2, _l3.PackedF32, _l3.FloatBias, _out, 1024, 10, FusedActivation.None);
    }

    [Benchmark(Description = "int8 MLP 64-1024-1024-10 (incl. input quantisation)")]
    public void Int8()
    {
        QuantizeF32.Run(_x, _xq, 1f / 127, 128);
        var relu = new Requant(0, 0, 255);
        QGemmU8S8.Gemv(_xq, _l1.Packed, _l1.Bias, _l1.Multiplier, _l1.Shift, _h1q, 64, 1024, relu);
        QGemmU8S8.Gemv(_h1q, _l2.Packed, _l2.Bias, _l2.Multiplier, _l2.Shift, _h2q, 1024, 1024, relu);
        QGemmU8S8.GemvToF32(_h2q, _l3.Packed, _l3.Bias, _l3.Scale, _out, 1024, 10, FusedActivation.None);
    }
}

/// <summary>Convolutions at the digits CNN's sizes: 16→32 3×3 pad 1 on 8×8, and a 32-channel 3×3 depthwise on 14×14.</summary>
public class ConvBenchmarks : IOperationCount
{
    private static readonly Conv2dShape Dense = new(1, 16, 8, 8, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    private static readonly Conv2dShape Depthwise = new(1, 32, 14, 14, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 32);

    private float[] _xf = null!, _wf = null!, _yf = null!, _sf = null!, _bf = null!;
    private float[] _dxf = null!, _dwf = null!, _dyf = null!, _dsf = null!, _dbf = null!;
    private byte[] _x = null!, _y = null!, _s = null!, _dx = null!, _dy = null!, _ds = null!;
    private sbyte[] _w = null!, _dw = null!;
    private int[] _bias = null!, _mult = null!, _shift = null!;

    public double Operations(string method)
    {
        var s = method.Contains("Depthwise") ? Depthwise : Dense;
        return 2.0 * s.OutChannels * s.OutHeight * s.OutWidth * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth;
    }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        (_xf, _wf, _yf, _sf, _bf) = F32(rng, Dense, false);
        (_dxf, _dwf, _dyf, _dsf, _dbf) = F32(rng, Depthwise, true);
        (_x, _w, _y, _s) = U8(rng, Dense, false);
        (_dx, _dw, _dy, _ds) = U8(rng, Depthwise, true);
        _bias = new int[32];
        _mult = new int[32];
        _shift = new int[32];
        for (int c = 0; c < 32; c++) (_mult[c], _shift[c]) = QuantMath.QuantizeMultiplier(0.0005);
    }

    private static (float[], float[], float[], float[], float[]) F32(Random rng, Conv2dShape s, bool depthwise)
    {
        var w = Data.Floats(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var packed = new float[depthwise ? DepthwiseConv2dF32.PackedWeightsLength(s) : Conv2dF32.PackedWeightsLength(s)];
        if (depthwise) DepthwiseConv2dF32.PackWeights(w, s, packed);
        else Conv2dF32.PackWeights(w, s, packed);
        var scratch = new float[depthwise ? DepthwiseConv2dF32.ScratchLength(s) : Conv2dF32.ScratchLength(s)];
        return (Data.Floats(rng, s.InChannels * s.InHeight * s.InWidth), packed, new float[s.OutChannels * s.OutHeight * s.OutWidth], scratch, Data.Floats(rng, s.OutChannels));
    }

    private static (byte[], sbyte[], byte[], byte[]) U8(Random rng, Conv2dShape s, bool depthwise)
    {
        var w = Data.SBytes(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var packed = new sbyte[depthwise ? QDepthwiseConv2dU8S8.PackedWeightsLength(s) : QConv2dU8S8.PackedWeightsLength(s)];
        if (depthwise) QDepthwiseConv2dU8S8.PackWeights(w, s, packed);
        else QConv2dU8S8.PackWeights(w, s, packed);
        var scratch = new byte[depthwise ? QDepthwiseConv2dU8S8.ScratchLength(s) : QConv2dU8S8.ScratchLength(s)];
        return (Data.Bytes(rng, s.InChannels * s.InHeight * s.InWidth), packed, new byte[s.OutChannels * s.OutHeight * s.OutWidth], scratch);
    }

    [Benchmark(Baseline = true, Description = "fp32 Conv2dF32 16→32 3×3 on 8×8")]
    public void Fp32Conv() => Conv2dF32.Run(_xf, _wf, _bf, _yf, _sf, Dense, FusedActivation.Relu);

    [Benchmark(Description = "int8 QConv2dU8S8 16→32 3×3 on 8×8")]
    public void Int8Conv() => QConv2dU8S8.Run(_x, _w, _bias, _mult, _shift, _y, _s, Dense, 3, new Requant(0, 0, 255));

    [Benchmark(Description = "fp32 DepthwiseConv2dF32 32ch 3×3 on 14×14")]
    public void Fp32Depthwise() => DepthwiseConv2dF32.Run(_dxf, _dwf, _dbf, _dyf, _dsf, Depthwise, FusedActivation.Relu);

    [Benchmark(Description = "int8 QDepthwiseConv2dU8S8 32ch 3×3 on 14×14")]
    public void Int8Depthwise() => QDepthwiseConv2dU8S8.Run(_dx, _dw, _bias, _mult, _shift, _dy, _ds, Depthwise, 3, new Requant(0, 0, 255));
}
