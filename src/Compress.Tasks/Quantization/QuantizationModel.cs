using System.Collections.Immutable;

namespace Compress.Tasks.Quantization;

/// <summary>Observed range of one graph value over the calibration data, after the calibration method's clipping.</summary>
public sealed record TensorRange(float Min, float Max);

/// <summary>Affine u8 parameters of an activation tensor: real = Scale · (q − ZeroPoint).</summary>
public sealed record QuantParams(float Scale, int ZeroPoint)
{
    /// <summary>u8 parameters covering [min, max] ∪ {0} so that 0 is exactly representable (Jacob et al. 2018 §2.1).</summary>
    public static QuantParams FromRange(float min, float max)
    {
        min = Math.Min(min, 0f);
        max = Math.Max(max, 0f);
        if (max - min < 1e-12f) return new QuantParams(1f, 0);
        float scale = (max - min) / 255f;
        int zp = (int)Math.Round(-min / scale, MidpointRounding.ToEven);
        return new QuantParams(scale, Math.Clamp(zp, 0, 255));
    }
}

/// <summary>How one node runs after quantisation, and why (the report prints the reason).</summary>
public enum NodePrecision
{
    Fp32,
    Int8,
    Int8Dynamic,
    Int4,

    /// <summary>Power-of-two weights (4-bit codes), u8 activations as Int8 (docs/low-bit.md).</summary>
    Shift,

    /// <summary>Weight-only ternary {−αn, 0, +αp} (two bit masks), f32 activations.</summary>
    Ternary,

    /// <summary>Weight-only binary ±α (one bit), f32 activations.</summary>
    Binary,

    /// <summary>Fully binary: binary weights and activations binarised per call (XNOR + popcount).</summary>
    BinaryXnor,
}

/// <summary>The decision for one node.</summary>
/// <param name="Node">The node's name (<see cref="Graph.Node.Label"/>).</param>
/// <param name="Precision">What it runs as.</param>
/// <param name="Reason">Why: "Exclude", "int8 kernel 2.1× faster than fp32 (cost model)", "op has no int8 kernel", …</param>
public sealed record NodeDecision(string Node, NodePrecision Precision, string Reason)
{
    /// <summary>The cost model's estimate of the node in fp32, in µs, including the quantise/dequantise steps that choice implies; null when not estimated.</summary>
    public double? Fp32Microseconds { get; init; }

    /// <summary>The cost model's estimate of the node quantised (int8, dynamic int8 or int4), in µs, including the quantise/dequantise steps that choice implies; null when not estimated.</summary>
    public double? QuantizedMicroseconds { get; init; }
}

/// <summary>A weight quantised per output channel: int8 values in the ONNX layout of the original weight, plus scales.</summary>
/// <remarks>
/// real = Scales[c] · Values[i] (symmetric, zero point 0) where c is the index of element i along <see cref="ChannelAxis"/>.
/// With <see cref="BlockSize"/> &gt; 0 (int4, the MatMulNBits idea) the weight is 2-D, the codes are in [−8, 7] and
/// there is one scale per output channel per block of <see cref="BlockSize"/> consecutive elements along the other
/// (reduction) axis: <c>Scales[c · blocks + b]</c> with <c>blocks = ceil(k / BlockSize)</c>.
/// </remarks>
public sealed record QuantizedWeight(string Name, ImmutableArray<long> Dims, sbyte[] Values, float[] Scales, int ChannelAxis)
{
    /// <summary>Bits per value: 8 (codes in [−127, 127]) or 4 (codes in [−8, 7]).</summary>
    public int Bits { get; init; } = 8;

    /// <summary>0: one scale per output channel; &gt; 0: one scale per output channel per block of this many values along the reduction axis (int4).</summary>
    public int BlockSize { get; init; }

    /// <summary>
    /// Ternary weights (TTQ): the per-channel magnitude of the negative codes (real = −NegativeScales[c] for code −1);
    /// null when negative codes use <see cref="Scales"/> like the others.
    /// </summary>
    public float[]? NegativeScales { get; init; }

    /// <summary>
    /// Shift weights on a log-domain scale grid (<c>ShiftScaleGrid</c>): Scales[c] = (float)(<see cref="ScaleCodeBase"/>·2^(ScaleCodes[c]/16)),
    /// so a channel's scale is stored as one signed byte (<c>ShiftRecord</c>); null otherwise.
    /// </summary>
    public sbyte[]? ScaleCodes { get; init; }

    /// <summary>The layer scale of <see cref="ScaleCodes"/>.</summary>
    public double ScaleCodeBase { get; init; }

    /// <summary>The real values Scales·Values in the ONNX layout of the original weight (what the quantised kernel multiplies by).</summary>
    public float[] Dequantize() => WeightQuantizer.Dequantize(this);
}

/// <summary>Which way a <see cref="QuantBoundary"/> converts.</summary>
public enum BoundaryKind
{
    /// <summary>fp32 → u8 with the value's <see cref="QuantizationResult.Activations"/> parameters (<c>QuantizeF32</c>).</summary>
    Quantize,

    /// <summary>u8 → fp32 (<c>DequantizeU8</c>).</summary>
    Dequantize,
}

/// <summary>
/// One conversion between fp32 and u8 the quantised model performs at run time: <see cref="BoundaryKind.Quantize"/>
/// when a value produced in fp32 (a graph input, an fp32 node, an int8 Gemm writing floats) is read by an int8 node;
/// <see cref="BoundaryKind.Dequantize"/> when a value produced in u8 (an int8 Conv, a requantising Gemm, a u8 pool or
/// alias) is read by an fp32 node or is a graph output. The planner places them so that a run of int8 nodes stays u8.
/// </summary>
public sealed record QuantBoundary(string Value, BoundaryKind Kind);

/// <summary>
/// The result of the quantisation passes, consumed by the lowering (which kernels and parameters), the QDQ ONNX
/// export and the report. Values not in <see cref="Activations"/> stay fp32.
/// </summary>
public sealed record QuantizationResult(
    string Mode,
    ImmutableDictionary<string, QuantParams> Activations,
    ImmutableDictionary<string, QuantizedWeight> Weights,
    ImmutableArray<NodeDecision> Decisions)
{
    public NodeDecision? DecisionFor(string node) => Decisions.FirstOrDefault(d => d.Node == node);

    /// <summary>
    /// The fp32 ↔ u8 conversions at run time, in graph order (empty for Int8Dynamic and Int4, whose activations stay fp32
    /// between nodes). Informational for the lowering, which places conversions lazily; the QDQ export and the report use it.
    /// </summary>
    public ImmutableArray<QuantBoundary> Boundaries { get; init; } = [];

    /// <summary>Values whose u8 parameters are those of another value (alias ops, MaxPool, GlobalAveragePool running on u8) → that value.</summary>
    public ImmutableDictionary<string, string> SharedParams { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Per node: how its low-bit weights were fitted (calibration error, threshold, exponents…), for the report.</summary>
    public ImmutableDictionary<string, string> LayerNotes { get; init; } = ImmutableDictionary<string, string>.Empty;
}
