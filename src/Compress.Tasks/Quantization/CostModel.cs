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
    /// Fitted 2026-11-28 on the build machine — Intel Xeon (Sapphire/Emerald Rapids class, family 6 model 207) under
    /// KVM, not the AMD Zen 5 the design notes say; 2 vCPU, 2 MB L2 per core, AVX-512 + AVX-VNNI; .NET 10.0 Release,
    /// one thread — by least squares on relative error (non-negative coefficients) over the timings of
    /// <c>tests/Compress.Tasks.Tests/Quantization/KernelTimings.cs</c>, each the minimum over ~40 µs batches, best of 3
    /// passes, with the int8 kernels as they were that day. The machine was shared and busy: small shapes carry ±30 %
    /// noise. Re-check with <c>CostModelCalibrationTests</c>. Measured (ns), fp32 / int8:
    /// <code>
    /// Gemv 16→10        54 / 75        Gemv 128→10        104 / 105      Gemv 1024→10    698 / 325
    /// Gemv 64→256      984 / 319       Gemv 256→128      2225 / 424      Gemv 64→1024   2244 / 1381
    /// Gemv 1024→1024 161300 / 12450 (f32 weights 4 MB stream at ≈ 25 B/ns; s8 1 MB stay in L2)
    /// Gemm 16×256→128 32400 / 5125     GemvDynamic 1024→1024 15750      GemmF32I4.Gemv 1024→1024 126800
    /// Conv 1→16 3×3 8×8    322 / 1061  Conv 16→32 3×3 8×8  6000 / 4069   Conv 16→16 1×1 8×8   285 / 1016
    /// Conv 64→64 3×3 16×16 172100 / 96900
    /// Depthwise 16 ch 3×3 8×8 1016 / 3613   Depthwise 64 ch 3×3 28×28 143000 / 82000
    /// Quantize 1024 298    Dequantize 1024 184    Add 1024 f32 123 / u8 2113
    /// </code>
    /// </summary>
    public static CostModel Default { get; } = new()
    {
        F32Gemv = new(19.4, 0.0463),
        F32Gemm = new(20, 0.0569),
        F32Conv = new(65.9, 0.0136, 0.228),
        F32Depthwise = new(15, 0.0696, 33.8),
        F32Elementwise = new(17.9, 0, 0.097),
        Int8Gemv = new(45.5, 0.0140, 0, 0.25),
        Int8Gemm = new(76.2, 0.00861, 0, 0.441),
        Int8Conv = new(275, 0.00862, 0.0393, 0.748),
        Int8Depthwise = new(31, 0, 130, 1.2),
        Int8Elementwise = new(14.3, 0, 1.8),
        Int8DynamicGemv = new(78.2, 0.0115, 0.781, 0.344),
        Int4Gemv = new(30, 0.125),
        Quantize = new(10.9, 0, 0.268),
        Dequantize = new(3.35, 0, 0.16),
        CacheBytes = 2 << 20,
        StreamBytesPerNs = 25,
    };

    static long Up(long v, long tile) => (v + tile - 1) / tile * tile;

    /// <summary>Time to stream <paramref name="bytes"/> of weights, 0 while they fit the cache.</summary>
    double Stream(double bytes) => bytes > CacheBytes ? bytes / StreamBytesPerNs : 0;

    /// <summary>The node's fp32 kernel.</summary>
    public double Fp32(in LayerShape s) => s.Kind switch
    {
        LayerKind.Linear => (s.M == 1 ? F32Gemv : F32Gemm).Estimate(s.M * s.K * Up(s.N, 16), streamNs: Stream(4.0 * s.K * s.N)),
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
