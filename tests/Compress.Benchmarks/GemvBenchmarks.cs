using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>One-row dense layers (batch 1): fp32 GEMV against the int8 kernels and weight-only int4.</summary>
public class GemvBenchmarks : IOperationCount
{
    [Params("64x256", "1024x1024")]
    public string Shape { get; set; } = "64x256";

    private int _k, _n;
    private Data.QLayer _layer = null!;
    private float[] _xf = null!, _yf = null!;
    private byte[] _x = null!, _y = null!, _scratch = null!;
    private Memory<byte> _nibbles;
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
        _nibbles = Data.Aligned<byte>(GemmF32I4.PackedLength(_k, _n, 32));
        _i4Scales = new float[GemmF32I4.ScalesLength(_k, _n, 32)];
        GemmF32I4.Pack(Data.Floats(rng, _k * _n), false, _k, _n, 32, _nibbles.Span, _i4Scales);
    }

    [Benchmark(Baseline = true, Description = "fp32 GemmF32.Gemv")]
    public void Fp32() => GemmF32.Gemv(_xf, _layer.PackedF32.Span, _layer.FloatBias, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.Gemv (u8→u8)")]
    public void Int8() => QGemmU8S8.Gemv(_x, _layer.Packed.Span, _layer.Bias, _layer.Multiplier, _layer.Shift, _y, _k, _n, new Requant(0, 0, 255));

    [Benchmark(Description = "int8 QGemmU8S8.GemvToF32")]
    public void Int8ToF32() => QGemmU8S8.GemvToF32(_x, _layer.Packed.Span, _layer.Bias, _layer.Scale, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.GemvDynamic (f32→f32)")]
    public void Int8Dynamic() => QGemmU8S8.GemvDynamic(_xf, _scratch, _layer.Packed.Span, _layer.Sums, _layer.WeightScale, _layer.FloatBias, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int4 GemmF32I4.Gemv (block 32)")]
    public void Int4() => GemmF32I4.Gemv(_xf, _nibbles.Span, _i4Scales, _layer.FloatBias, _yf, _k, _n, 32, FusedActivation.Relu);
}
