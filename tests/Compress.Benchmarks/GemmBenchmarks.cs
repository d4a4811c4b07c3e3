using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

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
    public void Fp32() => GemmF32.Gemm(_af, _layer.PackedF32.Span, _layer.FloatBias, _cf, M, K, N, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.Gemm (u8→u8)")]
    public void Int8() => QGemmU8S8.Gemm(_a, _layer.Packed.Span, _layer.Bias, _layer.Multiplier, _layer.Shift, _c, M, K, N, new Requant(0, 0, 255));
}
