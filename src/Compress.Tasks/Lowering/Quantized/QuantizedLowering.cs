using System.Collections.Immutable;
using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// A quantised kernel for one ONNX op at one <see cref="NodePrecision"/>: what <see cref="ModelLowering"/> runs for a
/// node the quantisation passes decided to quantise. Registered in <see cref="QuantizedLowering.All"/>, the table of
/// quantised kernels. A form the kernels cannot run (transA, a fused Sigmoid on an int8 Conv, an uncalibrated output…)
/// is not an error: <see cref="TryLower"/> emits nothing and says why, and the node runs its fp32 kernel.
/// </summary>
internal interface IQuantizedOpLowerer
{
    /// <summary>The ONNX op type, as in the spec (<c>"Gemm"</c>).</summary>
    string OpType { get; }

    /// <summary>The precision this lowerer implements.</summary>
    NodePrecision Precision { get; }

    /// <summary>Every kernel call (<see cref="PlanCalls"/>) <see cref="TryLower"/> may emit, conversions excluded.</summary>
    IReadOnlyList<string> Calls { get; }

    /// <summary>One line on the supported forms and limits.</summary>
    string Notes { get; }

    /// <summary>Emits the node's quantised kernel calls and returns null, or emits nothing and returns why it cannot.</summary>
    string? TryLower(Node node, LoweringContext ctx);
}

/// <summary>
/// The quantised side of the lowering: which lowerer runs a node (from the <see cref="QuantizationResult"/>'s
/// decisions), which values an int8 kernel will read as u8 (so producers write u8 only where it is read), and the
/// build-time arithmetic shared by the int8 lowerers (Jacob et al., CVPR 2018, §2.2–2.4: int32 bias with scale
/// s_x·s_w[c], per-channel fixed-point multipliers, ReLU/Clip as the requantisation clamp).
/// </summary>
internal static class QuantizedLowering
{
    /// <summary>Every quantised lowerer, by op type then precision.</summary>
    public static ImmutableArray<IQuantizedOpLowerer> All { get; } = new IQuantizedOpLowerer[]
    {
        new QGemmLowerer("Gemm"),
        new QGemmLowerer("MatMul"),
        new QConvLowerer(),
        new QPoolLowerer("MaxPool"),
        new QPoolLowerer("GlobalMaxPool"),
        new QPoolLowerer("GlobalAveragePool"),
        new QBinaryLowerer("Add", BinaryOp.Add),
        new QBinaryLowerer("Sub", BinaryOp.Sub),
        new QBinaryLowerer("Mul", BinaryOp.Mul),
        new DynamicGemmLowerer("Gemm"),
        new DynamicGemmLowerer("MatMul"),
        new Int4GemmLowerer("Gemm"),
        new Int4GemmLowerer("MatMul"),
        new LowBit.ShiftGemmLowerer("Gemm"),
        new LowBit.ShiftGemmLowerer("MatMul"),
        new LowBit.ShiftConvLowerer(),
        new LowBit.TernaryGemmLowerer("Gemm"),
        new LowBit.TernaryGemmLowerer("MatMul"),
        new LowBit.BinaryGemmLowerer("Gemm"),
        new LowBit.BinaryGemmLowerer("MatMul"),
        new LowBit.XnorGemmLowerer("Gemm"),
        new LowBit.XnorGemmLowerer("MatMul"),
    }.OrderBy(l => l.OpType, StringComparer.Ordinal).ThenBy(l => l.Precision).ToImmutableArray();

    static readonly Dictionary<(string, NodePrecision), IQuantizedOpLowerer> ByOp = All.ToDictionary(l => (l.OpType, l.Precision));

    /// <summary>Ops that only relabel or pass data through: their output shares the input's storage, u8 included.</summary>
    public static readonly IReadOnlySet<string> AliasOps = new HashSet<string>(StringComparer.Ordinal)
        { "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout" };

    /// <summary>Pools that run on u8 with the input's scale and zero point; without a decision of their own they follow their input.</summary>
    public static readonly IReadOnlySet<string> PoolOps = new HashSet<string>(StringComparer.Ordinal)
        { "MaxPool", "GlobalMaxPool", "GlobalAveragePool" };

    /// <summary>docs/quantized-ops.md's table: op | precision | kernel calls | notes.</summary>
    public static string MarkdownTable()
    {
        var sb = new System.Text.StringBuilder("| op | precision | kernel calls | notes |\n|---|---|---|---|\n");
        foreach (var l in All)
            sb.Append($"| {l.OpType} | {l.Precision} | {string.Join(", ", l.Calls.Select(c => $"`{c}`"))} | {l.Notes} |\n");
        return sb.ToString();
    }

    /// <summary>The quantised lowerer for an op at a precision, or null.</summary>
    public static IQuantizedOpLowerer? Find(string opType, NodePrecision precision) => ByOp.GetValueOrDefault((opType, precision));

    /// <summary>
    /// How a node should run: its decision, or — for a pool the passes left undecided — int8 (it then runs on u8 when
    /// its input is u8, which loses nothing: max and mean commute with the affine dequantisation up to rounding).
    /// </summary>
    public static NodePrecision PrecisionOf(Node node, IReadOnlyDictionary<string, NodeDecision> decisions) =>
        decisions.TryGetValue(node.Label, out var d) ? d.Precision
        : PoolOps.Contains(node.OpType) ? NodePrecision.Int8
        : NodePrecision.Fp32;

    /// <summary>
    /// The values some node reads as u8: the activation inputs of int8 Gemm/MatMul/Conv/Add/Sub/Mul, and, walking back
    /// through aliases and int8 pools (which keep u8 storage), their inputs. A producer writes u8 only for these.
    /// Nodes <see cref="Refuses"/> rules out are skipped; a refusal found only while lowering (a weight of the wrong
    /// layout, say) still works, at the cost of a dequantise step after a producer that wrote u8 for nothing.
    /// </summary>
    public static HashSet<string> U8Demand(IReadOnlyList<Node> live, Graph.Graph graph, IReadOnlyDictionary<string, NodeDecision> decisions,
        QuantizationResult quantization)
    {
        var demand = new HashSet<string>(StringComparer.Ordinal);
        for (int i = live.Count - 1; i >= 0; i--)
        {
            var node = live[i];
            var precision = PrecisionOf(node, decisions);
            bool transparent = AliasOps.Contains(node.OpType) || (PoolOps.Contains(node.OpType) && precision == NodePrecision.Int8);
            if (transparent)
            {
                if (demand.Contains(node.Output0) && node.HasInput(0)) demand.Add(node.Input(0));
                continue;
            }
            // Shift layers read u8 exactly as int8 ones do (power-of-two weights on the int8 dataflow).
            if (precision is not (NodePrecision.Int8 or NodePrecision.Shift) || Find(node.OpType, NodePrecision.Int8) is null || Refuses(node, quantization)) continue;
            if (node.OpType is "Gemm" or "MatMul" or "Conv") demand.Add(node.Input(0));
            else
                foreach (string input in node.Inputs)
                    if (input.Length > 0 && !graph.IsConstant(input)) demand.Add(input);
        }
        return demand;
    }

    /// <summary>
    /// The int8 lowerers' refusals that the graph alone shows: Gemm with transA; Conv/Add/Sub/Mul with a fused activation
    /// that is not a clamp, or without calibrated output parameters.
    /// </summary>
    static bool Refuses(Node node, QuantizationResult quantization) => node.OpType switch
    {
        "Gemm" => node.GetInt("transA", 0) != 0,
        "Conv" or "Add" or "Sub" or "Mul" => !quantization.Activations.ContainsKey(node.Output0)
            || Activations.ReadFused(node) is { Kind: not (ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip) },
        _ => false,
    };

    // ───────────────────────────── build-time arithmetic ─────────────────────────────

    /// <summary>
    /// The requantisation clamp [Min, Max] for output parameters <paramref name="y"/> with a fused activation folded in
    /// (Relu: from the zero point; Clip(a, b): from a and b quantised), or null when the activation is not a clamp.
    /// </summary>
    public static Requant? Requant(QuantParams y, FusedActivation? activation)
    {
        int Q(double v) => (int)Math.Clamp(Math.Round(y.ZeroPoint + v / y.Scale, MidpointRounding.ToEven), 0, 255);
        return activation switch
        {
            null or { Kind: ActivationKind.None } => new Requant(y.ZeroPoint, 0, 255),
            { Kind: ActivationKind.Relu } => new Requant(y.ZeroPoint, Math.Clamp(y.ZeroPoint, 0, 255), 255),
            { Kind: ActivationKind.Clip } c => new Requant(y.ZeroPoint, c.Alpha <= float.MinValue ? 0 : Q(c.Alpha), c.Beta >= float.MaxValue ? 255 : Q(c.Beta)),
            _ => null,
        };
    }

    /// <summary>" + Relu as clamp" / " + Clip(0, 6) as clamp" / "" for a step comment.</summary>
    public static string ClampNote(FusedActivation? activation) =>
        activation is { Kind: ActivationKind.Relu or ActivationKind.Clip } a ? $" + {Activations.Describe(a)} as clamp" : "";

    /// <summary>
    /// Per-channel weight scales as the kernel sees them: a per-tensor scale broadcast to <paramref name="channels"/>,
    /// times <paramref name="factor"/> (Gemm's alpha). A zero scale (an all-zero channel) becomes 1: its products are
    /// zero whatever the scale, and a non-zero one keeps the bias representable.
    /// </summary>
    public static double[] ChannelScales(QuantizedWeight w, int channels, double factor = 1)
    {
        var s = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double v = w.Scales[w.Scales.Length == 1 ? 0 : c] * factor;
            s[c] = v > 0 && double.IsFinite(v) ? v : 1.0;
        }
        return s;
    }

    /// <summary>
    /// bias'[c] = round(bias[c] / (s_x·s_w[c])) − zp_x·sums[c] (the input zero point folded in: Σ(x − zp_x)·w =
    /// Σx·w − zp_x·Σw), saturated to int32.
    /// </summary>
    public static int[] FoldBias(float[]? bias, QuantParams x, double[] weightScales, int[] sums)
    {
        var result = new int[sums.Length];
        for (int c = 0; c < sums.Length; c++)
        {
            double q = bias is null ? 0 : Math.Round(bias[c] / (x.Scale * weightScales[c]), MidpointRounding.ToEven);
            double v = q - (double)x.ZeroPoint * sums[c];
            result[c] = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
        }
        return result;
    }

    /// <summary>Per-channel (multiplier, shift) of M = s_x·s_w[c]/s_y (<see cref="QuantMath.QuantizeMultiplier"/>).</summary>
    public static (int[] Multiplier, int[] Shift) Multipliers(QuantParams x, double[] weightScales, QuantParams y)
    {
        var m = new int[weightScales.Length];
        var s = new int[weightScales.Length];
        for (int c = 0; c < m.Length; c++)
            (m[c], s[c]) = QuantMath.QuantizeMultiplier(x.Scale * weightScales[c] / y.Scale);
        return (m, s);
    }

    /// <summary>
    /// The quantised weight the passes produced for constant <paramref name="name"/>, checked against the layout the
    /// kernel needs (<paramref name="elements"/> values, scales per tensor or per channel along <paramref name="channelAxis"/>
    /// of <paramref name="channels"/>); null with a reason otherwise.
    /// </summary>
    public static QuantizedWeight? Weight(LoweringContext ctx, string name, long elements, int channelAxis, int channels, out string? reason)
    {
        reason = null;
        if (ctx.Quantization?.Weights.GetValueOrDefault(name) is not { } w)
        {
            reason = $"the quantisation result has no int8 weight '{name}'";
            return null;
        }
        if (w.Values.LongLength != elements)
            reason = $"the int8 weight '{name}' has {w.Values.Length} values, the op needs {elements}";
        else if (w.Scales.Length != 1 && (w.Scales.Length != channels || w.ChannelAxis != channelAxis))
            reason = $"the int8 weight '{name}' has {w.Scales.Length} scales along axis {w.ChannelAxis}, the kernel needs one per output channel ({channels} along axis {channelAxis})";
        return reason is null ? w : null;
    }

    /// <summary>Quantises float constants to u8 at build time: parameters from their range (0 included), round half to even.</summary>
    public static (byte[] Values, QuantParams Params) QuantizeConstant(float[] values)
    {
        var p = QuantParams.FromRange(values.Length == 0 ? 0 : values.Min(), values.Length == 0 ? 0 : values.Max());
        var q = new byte[values.Length];
        for (int i = 0; i < q.Length; i++)
            q[i] = (byte)Math.Clamp(Math.Round(values[i] / p.Scale, MidpointRounding.ToEven) + p.ZeroPoint, 0, 255);
        return (q, p);
    }

    /// <summary>A <c>new Requant(…)</c> argument.</summary>
    public static NewArg RequantArg(in Requant r) =>
        PlanArg.New(PlanCalls.Structs.Requant, PlanArg.Int(r.OutZeroPoint), PlanArg.Int(r.Min), PlanArg.Int(r.Max));
}
