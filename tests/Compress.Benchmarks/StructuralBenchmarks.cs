using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>
/// The structural kernels on the hot paths of CNNs and small transformers, at typical sizes: LayerNorm and a
/// last-axis ReduceMean over 64 tokens × 768, bilinear 2× Resize of [32, 56, 56], a 2×2 stride-2 ConvTranspose
/// 64→32 on 28×28 (a U-Net upsampler), and 12 heads of 64×64 attention scores (Q·Kᵀ).
/// </summary>
public class StructuralBenchmarks : IOperationCount
{
    private const int Tokens = 64, Width = 768, Heads = 12, HeadDim = 64;
    private static readonly Conv2dShape Up = new(1, 64, 28, 28, 32, 56, 56, 2, 2, 2, 2, 0, 0, 1, 1, 1);

    private float[] _x = null!, _y = null!, _scale = null!, _bias = null!, _rows = null!;
    private float[] _image = null!, _upH = null!, _upW = null!, _big = null!, _weight = null!;
    private int[] _first = null!, _second = null!;
    private float[] _ctX = null!, _ctW = null!, _ctB = null!, _ctY = null!, _ctScratch = null!;
    private float[] _q = null!, _k = null!, _scores = null!, _packed = null!;

    public double Operations(string method) => method switch
    {
        nameof(ConvTranspose) => 2.0 * Up.InChannels * Up.InHeight * Up.InWidth * Up.OutChannels * Up.KernelHeight * Up.KernelWidth,
        nameof(AttentionScores) => 2.0 * Heads * Tokens * Tokens * HeadDim,
        _ => 0,
    };

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(11);
        _x = Data.Floats(rng, Tokens * Width);
        _y = new float[Tokens * Width];
        _scale = Data.Floats(rng, Width);
        _bias = Data.Floats(rng, Width);
        _rows = new float[Tokens];
        _image = Data.Floats(rng, 32 * 56 * 56);
        _upH = new float[32 * 112 * 56];
        _upW = new float[32 * 56 * 112];
        _big = new float[32 * 112 * 112];
        (_first, _second, _weight) = HalfPixel2x(56);
        _ctX = Data.Floats(rng, Up.InChannels * Up.InHeight * Up.InWidth);
        var w = Data.Floats(rng, Up.InChannels * Up.OutChannels * 4);
        _ctW = new float[ConvTranspose2dF32.WeightsLength(Up)];
        ConvTranspose2dF32.PackWeights(w, Up, _ctW);
        _ctB = Data.Floats(rng, Up.OutChannels);
        _ctY = new float[Up.OutChannels * Up.OutHeight * Up.OutWidth];
        _ctScratch = new float[ConvTranspose2dF32.ScratchLength(Up)];
        _q = Data.Floats(rng, Heads * Tokens * HeadDim);
        _k = Data.Floats(rng, Heads * HeadDim * Tokens);
        _scores = new float[Heads * Tokens * Tokens];
        _packed = new float[BatchedMatMulF32.ScratchLength(HeadDim, Tokens)];
    }

    /// <summary>Linear 2× upsampling positions and weights, half_pixel coordinates clamped into the axis.</summary>
    private static (int[], int[], float[]) HalfPixel2x(int size)
    {
        var first = new int[2 * size];
        var second = new int[2 * size];
        var weight = new float[2 * size];
        for (int j = 0; j < 2 * size; j++)
        {
            double c = Math.Clamp((j + 0.5) / 2 - 0.5, 0, size - 1);
            first[j] = (int)Math.Floor(c);
            second[j] = Math.Min(first[j] + 1, size - 1);
            weight[j] = (float)(c - first[j]);
        }
        return (first, second, weight);
    }

    [Benchmark(Description = "LayerNormF32 64×768")]
    public void LayerNorm() => LayerNormF32.Run(_x, _scale, _bias, _y, Tokens, Width, 1e-5f);

    [Benchmark(Description = "ReduceF32 Mean 64×[768] (last axis)")]
    public void ReduceMeanLastAxis() => ReduceF32.Run(ReduceOp.Mean, _x, _rows, Tokens, Width, 1);

    [Benchmark(Description = "ResizeF32 linear 2× [32,56,56] (H then W)")]
    public void ResizeBilinear()
    {
        ResizeF32.LinearAxis(_image, _first, _second, _weight, _upH, 32, 56, 56);
        ResizeF32.LinearAxis(_upH, _first, _second, _weight, _big, 32 * 112, 56, 1);
    }

    [Benchmark(Description = "ResizeF32 linear 2× [32,56,56] (W then H, the lowering's order)")]
    public void ResizeBilinearLastAxisFirst()
    {
        ResizeF32.LinearAxis(_image, _first, _second, _weight, _upW, 32 * 56, 56, 1);
        ResizeF32.LinearAxis(_upW, _first, _second, _weight, _big, 32, 56, 112);
    }

    [Benchmark(Description = "ConvTranspose2dF32 64→32 2×2 s2 on 28×28")]
    public void ConvTranspose() => ConvTranspose2dF32.Run(_ctX, _ctW, _ctB, _ctY, _ctScratch, Up);

    [Benchmark(Description = "BatchedMatMulF32 12×[64×64]·[64×64]")]
    public void AttentionScores() => BatchedMatMulF32.Run(_q, _k, _scores, _packed, Heads, Tokens, HeadDim, Tokens, Tokens * HeadDim, HeadDim * Tokens);
}
