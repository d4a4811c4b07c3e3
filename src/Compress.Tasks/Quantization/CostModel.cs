namespace Compress.Tasks.Quantization;

/// <summary>
/// The cost of one kernel call: <c>Call + max(MACs·PerMac, streamed weight bytes / bandwidth) + aux·PerAux + outputs·PerOutput</c>
/// (ns). "aux" is the kernel's other per-element work: the im2col matrix of the fp32 Conv, the input interleave of the
/// int8 Conv, the channels of a depthwise Conv, the per-call quantisation (k values) of dynamic int8, or the elements of
/// an element-wise kernel.
/// </summary>
public readonly record struct KernelCost(double CallNs, double PerMacNs, double PerAuxNs = 0, double PerOutputNs = 0)
{
    public double Estimate(double macs, double aux = 0, double outputs = 0, double streamNs = 0) =>
        CallNs + Math.Max(macs * PerMacNs, streamNs) + aux * PerAuxNs + outputs * PerOutputNs;
}

/// <summary>
/// "Never slower": estimated single-thread latency of a node's kernel in fp32 and quantised, from its multiply-
/// accumulates (padded to the kernels' tiles: 16 columns, and 4 k for int8), the bytes of weights it streams once they
/// no longer fit the core's L2, and per-call and per-element overheads, plus the quantise/dequantise steps at the
/// boundaries between fp32 and u8. All times in nanoseconds. The constants of <see cref="Default"/> are fitted to
/// measurements of the Compress.Runtime kernels on the build machine (see its remarks); a node whose quantised estimate
/// is not below its fp32 estimate stays fp32.
/// </summary>
public sealed record CostModel
{
    public KernelCost F32Gemv { get; init; }
    /// <summary>GemmF32.Gemm (m &gt; 1 rows).</summary>
    public KernelCost F32Gemm { get; init; }
    /// <summary>Conv2dF32; aux = im2col elements (K·pixels·groups, 0 for pointwise).</summary>
    public KernelCost F32Conv { get; init; }
    /// <summary>WinogradConv2dF32 (3×3 stride 1, where <c>ConvLowerer.UseWinograd</c> picks it): per MAC of the direct convolution.</summary>
    public KernelCost F32Winograd { get; init; }
    /// <summary>DepthwiseConv2dF32; aux = channels.</summary>
    public KernelCost F32Depthwise { get; init; }
    /// <summary>BinaryF32; aux = elements.</summary>
    public KernelCost F32Elementwise { get; init; }

    /// <summary>QGemmU8S8.Gemv / GemvToF32; outputs = n (requantisation or scaling).</summary>
    public KernelCost Int8Gemv { get; init; }
    public KernelCost Int8Gemm { get; init; }
    /// <summary>QConv2dU8S8; aux = input elements (padding and interleave), outputs = requantised outputs.</summary>
    public KernelCost Int8Conv { get; init; }
    /// <summary>QDepthwiseConv2dU8S8; aux = channels.</summary>
    public KernelCost Int8Depthwise { get; init; }
    /// <summary>QBinaryU8; aux = elements.</summary>
    public KernelCost Int8Elementwise { get; init; }
    /// <summary>QGemmU8S8.GemvDynamic (one call per row): aux = k (min/max and quantisation of the input), outputs = n.</summary>
    public KernelCost Int8DynamicGemv { get; init; }
    /// <summary>GemmF32I4.Gemv.</summary>
    public KernelCost Int4Gemv { get; init; }

    /// <summary>QuantizeF32; aux = elements.</summary>
    public KernelCost Quantize { get; init; }
    /// <summary>DequantizeU8; aux = elements.</summary>
    public KernelCost Dequantize { get; init; }

    /// <summary>Weights up to this many bytes stay in the core's L2 from one call to the next.</summary>
    public double CacheBytes { get; init; }
    /// <summary>Bandwidth (bytes per ns) for weights beyond <see cref="CacheBytes"/> (streamed from L3 or memory).</summary>
    public double StreamBytesPerNs { get; init; }

    /// <summary>
    /// Fitted 2026-11-28 (05:26, load average ≈ 2) on the build machine — Intel Xeon (Sapphire/Emerald Rapids class,
    /// family 6 model 207) under KVM, not the AMD Zen 5 the design notes say; 2 vCPU, 2 MB L2 per core, AVX-512 +
    /// AVX-VNNI; .NET 10.0 Release, one thread — by least squares on relative error (non-negative coefficients) over
    /// the timings of <c>tests/Compress.Tasks.Tests/Quantization/KernelTimings.cs</c> (each the minimum over ~40 µs
    /// batches, best of 3 passes), with the int8 kernels as they were that morning (an earlier fit under heavy load,
    /// 04:52, agreed within ±30 %). Small shapes carry ±25 % noise; rms relative error of the fits: Gemv 23–28 %,
    /// Gemm 1–5 %, Conv 2 % fp32 / 36 % int8 (small pointwise int8 convs run up to 3.6× slower than estimated),
    /// depthwise 16–21 % (at plane widths that are multiples of 8; other widths run 2–4× slower in fp32), element-wise
    /// 0–33 % (QuantizeF32 below 64 values runs its scalar tail, ~4× the estimate). Re-check with
    /// <c>CostModelCalibrationTests</c>. Measured (ns), fp32 / int8:
    /// <code>
    /// Gemv 16→10        63 / 102 (u8 out), 71 (f32 out)  Gemv 128→10    112 / 104    Gemv 1024→10   700 / 186
    /// Gemv 64→256     1014 / 326                         Gemv 256→128  2125 / 473    Gemv 64→1024  2344 / 1700
    /// Gemv 1024→1024 152400 / 16050 (f32 weights, 4 MB, stream at ≈ 26 B/ns; the s8 1 MB stay in L2)
    /// Gemv 2048→2048 639400 / 157600                     Gemm 16×256→128  33500 / 5500
    /// GemvDynamic 1024→10 916, 1024→1024 18850           GemmF32I4.Gemv 256→128 4188, 1024→1024 131700
    /// Conv 1→16 3×3 8×8      352 / 1066                  Conv 16→32 3×3 8×8   6350 / 4075
    /// Conv 16→16 1×1 8×8     281 / 1009                  Conv 32→32 1×1 4×4    274 / 2762
    /// Conv 64→64 3×3 16×16 172100 / 96700                Depthwise 16 ch 3×3 8×8   1056 / 3775
    /// QuantizeF32 1024  316   DequantizeU8 1024  173     Add 1024  f32 101 / u8 1878
    /// </code>
    /// </summary>
    public static CostModel Default { get; } = new()
    {
        F32Gemv = new(19.5, 0.0444),
        F32Gemm = new(222, 0.0607),
        F32Conv = new(65.7, 0.0132, 0.281),
        // Winograd F(2×2, 3×3), fitted by hand to the lowering's measured points (docs/runtime-kernels.md): 16→32 on 8×8
        // 3.9 µs (tile-major path), 64→64 on 56×56 2.0 ms, 512→512 on 7×7 1.9 ms; it under-estimates the large layers by
        // up to a third, which errs toward int8 there, where int8 is measured faster anyway.
        F32Winograd = new(100, 0.0130),
        F32Depthwise = new(195, 0.0466, 31),
        F32Elementwise = new(19.5, 0, 0.0952),
        Int8Gemv = new(39, 0.0105, 0, 0.44),
        Int8Gemm = new(30, 0.00818, 0, 0.629),
        Int8Conv = new(317, 0.00875, 0.0059, 0.709),
        Int8Depthwise = new(248, 0.12, 130),
        Int8Elementwise = new(15.5, 0, 1.81),
        Int8DynamicGemv = new(84, 0.0156, 0.559, 0.0854),
        Int4Gemv = new(30.4, 0.126),
        Quantize = new(9.3, 0, 0.28),
        Dequantize = new(3.6, 0, 0.162),
        CacheBytes = 2 << 20,
        StreamBytesPerNs = 26,
    };

    static long Up(long v, long tile) => (v + tile - 1) / tile * tile;

    /// <summary>Time to stream <paramref name="bytes"/> of weights, 0 while they fit the cache.</summary>
    double Stream(double bytes) => bytes > CacheBytes ? bytes / StreamBytesPerNs : 0;

    /// <summary>The node's fp32 kernel.</summary>
    public double Fp32(in LayerShape s) => s.Kind switch
    {
        LayerKind.Linear => (s.M == 1 ? F32Gemv : F32Gemm).Estimate(s.M * s.K * Up(s.N, 16), streamNs: Stream(4.0 * s.K * s.N)),
        LayerKind.Conv when s.Winograd => F32Winograd.Estimate(s.Macs, streamNs: Stream(4.0 * 16 / 9 * s.WeightCount)),
        LayerKind.Conv => F32Conv.Estimate(s.Macs, s.Pointwise ? 0 : s.M * s.K * s.Groups, s.OutputElements, Stream(4.0 * s.WeightCount)),
        LayerKind.Depthwise => F32Depthwise.Estimate(s.Macs, s.N, s.OutputElements),
        _ => F32Elementwise.Estimate(0, s.M),
    };

    /// <summary>The node's static int8 kernel (u8 in, u8 or f32 out); boundaries are separate (<see cref="QuantizeCost"/>, <see cref="DequantizeCost"/>).</summary>
    public double Int8(in LayerShape s) => s.Kind switch
    {
        LayerKind.Linear => (s.M == 1 ? Int8Gemv : Int8Gemm).Estimate(s.M * Up(s.K, 4) * Up(s.N, 16), 0, s.OutputElements, Stream(1.0 * s.K * s.N)),
        LayerKind.Conv => Int8Conv.Estimate(s.M * Up(s.K, 4) * s.N, s.InputElements, s.OutputElements, Stream(s.WeightCount)),
        LayerKind.Depthwise => Int8Depthwise.Estimate(s.Macs, s.N, s.OutputElements),
        _ => Int8Elementwise.Estimate(0, s.M),
    };

    /// <summary>A Gemm/MatMul with dynamic quantisation, one GemvDynamic per row: quantise the row, int8 product, f32 epilogue.</summary>
    public double Int8Dynamic(in LayerShape s) =>
        s.M * Int8DynamicGemv.Estimate(Up(s.K, 4) * Up(s.N, 16), s.K, s.N, Stream(1.0 * s.K * s.N));

    /// <summary>A Gemm/MatMul with int4 weights (blocks of 32) and f32 activations.</summary>
    public double Int4(in LayerShape s) =>
        s.M * Int4Gemv.Estimate(s.K * Up(s.N, 16), streamNs: Stream(0.5 * s.K * s.N + 4.0 * s.N * Math.Ceiling(s.K / 32.0)));

    /// <summary>QuantizeF32 over <paramref name="elements"/> values.</summary>
    public double QuantizeCost(long elements) => Quantize.Estimate(0, elements);

    /// <summary>DequantizeU8 over <paramref name="elements"/> values.</summary>
    public double DequantizeCost(long elements) => Dequantize.Estimate(0, elements);
}
