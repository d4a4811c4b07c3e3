using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>
/// ResNet-18's stem MaxPool (3×3 stride 2, pads 1,1,0,0, 64×112×112 → 64×56×56, batch 1) in fp32 and u8, and the
/// quantise/dequantise steps of the int8 variant on a tensor of the same size.
/// </summary>
public class PoolBenchmarks
{
    private static readonly Pool2dShape Stem = new(1, 64, 112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1);
    private float[] _xf = null!, _yf = null!, _d = null!;
    private byte[] _xb = null!, _yb = null!, _q = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        int n = 64 * 112 * 112;
        _xf = Data.Floats(rng, n);
        _xb = Data.Bytes(rng, n);
        _yf = new float[64 * 56 * 56];
        _yb = new byte[_yf.Length];
        _q = new byte[n];
        _d = new float[n];
    }

    [Benchmark(Baseline = true, Description = "fp32 PoolF32.Max 3×3/2 64×112×112")]
    public void MaxF32() => PoolF32.Max(_xf, _yf, Stem);

    [Benchmark(Description = "u8 PoolU8.Max 3×3/2 64×112×112")]
    public void MaxU8() => PoolU8.Max(_xb, _yb, Stem);

    [Benchmark(Description = "QuantizeF32.Run 802,816")]
    public void Quantize() => QuantizeF32.Run(_xf, _q, 0.01f, 128);

    [Benchmark(Description = "DequantizeU8.Run 802,816")]
    public void Dequantize() => DequantizeU8.Run(_xb, _d, 0.01f, 128);
}
