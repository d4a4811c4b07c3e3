using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

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
        GemmF32.Gemv(_x, _l1.PackedF32.Span, _l1.FloatBias, _h1, 64, 1024, FusedActivation.Relu);
        GemmF32.Gemv(_h1, _l2.PackedF32.Span, _l2.FloatBias, _h2, 1024, 1024, FusedActivation.Relu);
        GemmF32.Gemv(_h2, _l3.PackedF32.Span, _l3.FloatBias, _out, 1024, 10, FusedActivation.None);
    }

    [Benchmark(Description = "int8 MLP 64-1024-1024-10 (incl. input quantisation)")]
    public void Int8()
    {
        QuantizeF32.Run(_x, _xq, 1f / 127, 128);
        var relu = new Requant(0, 0, 255);
        QGemmU8S8.Gemv(_xq, _l1.Packed.Span, _l1.Bias, _l1.Multiplier, _l1.Shift, _h1q, 64, 1024, relu);
        QGemmU8S8.Gemv(_h1q, _l2.Packed.Span, _l2.Bias, _l2.Multiplier, _l2.Shift, _h2q, 1024, 1024, relu);
        QGemmU8S8.GemvToF32(_h2q, _l3.Packed.Span, _l3.Bias, _l3.Scale, _out, 1024, 10, FusedActivation.None);
    }
}
