using System.Collections.Immutable;
using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Passes;

namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>How an op takes part in quantisation.</summary>
public enum QuantRole
{
    /// <summary>Gemm / MatMul with a constant B: s8 weights per output channel, u8 × s8 → s32 (QGemmU8S8, GemmF32I4).</summary>
    Linear,

    /// <summary>Conv (dense, grouped or depthwise) with constant weights: s8 weights per output channel (QConv2dU8S8, QDepthwiseConv2dU8S8).</summary>
    Conv,

    /// <summary>Add / Sub / Mul of two activations in the quantised domain, requantised to its own output parameters (QBinaryU8).</summary>
    Binary,

    /// <summary>MaxPool, GlobalAveragePool and the alias ops (Flatten, Reshape, Squeeze, Unsqueeze): run on u8 with their input's parameters.</summary>
    PassThrough,
}

/// <summary>
/// A node the planner may quantise: its role, the weight it quantises (input 1 for Linear and Conv) and the output
/// channel axis of that weight, and the work it does (for the cost model).
/// </summary>
/// <param name="Index">Position in <see cref="Graph.Nodes"/>.</param>
/// <param name="DataInputs">The activation inputs an int8 kernel reads as u8 (input 0; both operands of a Binary).</param>
/// <param name="Clamp">The fused activation is none, Relu or Clip: the requantisation clamp can apply it.</param>
public sealed record QuantCandidate(int Index, Node Node, QuantRole Role, ImmutableArray<string> DataInputs, LayerShape Shape,
    string? Weight = null, int ChannelAxis = 0, bool Clamp = true, string? Summary = null)
{
    /// <summary>"Gemm 128→10", "Conv 16→32 3×3 on 8×8", "Add of 1024".</summary>
    public string Describe() => Summary ?? Shape.Describe(Node.OpType);
}

/// <summary>
/// The ops the quantisation planner knows, one analyser per op type: it returns the node as a <see cref="QuantCandidate"/>
/// or the reason this instance cannot be quantised. An op not in <see cref="Analysers"/> has no quantised kernel.
/// </summary>
public static class QuantizableOps
{
    /// <summary>Analyses one node: a candidate, or null with the reason.</summary>
    public delegate QuantCandidate? Analyser(Graph graph, Node node, int index, out string? reason);

    /// <summary>The op types with a quantised kernel (default domain), and their analysers.</summary>
    public static ImmutableSortedDictionary<string, Analyser> Analysers { get; } = new Dictionary<string, Analyser>
    {
        ["Gemm"] = Gemm,
        ["MatMul"] = MatMul,
        ["Conv"] = Conv,
        ["Add"] = Binary,
        ["Sub"] = Binary,
        ["Mul"] = Binary,
        ["MaxPool"] = MaxPool,
        ["GlobalAveragePool"] = GlobalAveragePool,
        ["Flatten"] = Alias,
        ["Reshape"] = Alias,
        ["Squeeze"] = Alias,
        ["Unsqueeze"] = Alias,
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>The fused activations a requantising kernel applies as its clamp.</summary>
    public static bool IsClamp(Node node) => FusedActivationAttributes.Read(node) is null or { OpType: "Relu" or "Clip" };

    /// <summary>The node as a candidate, or null with the reason (also for ops without a quantised kernel).</summary>
    public static QuantCandidate? Analyse(Graph graph, Node node, int index, out string? reason)
    {
        if (node.Domain.Length > 0 || !Analysers.TryGetValue(node.OpType, out var analyse))
        {
            reason = $"no quantised kernel for {(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}";
            return null;
        }
        return analyse(graph, node, index, out reason);
    }

    /// <summary>Dims of a value; unknown (symbolic batch) dims count as 1, as the lowering treats them.</summary>
    internal static long[]? Dims(Graph graph, string value)
    {
        var shape = graph.Constant(value)?.Shape ?? graph.Value(value)?.Shape;
        return shape?.Dims.Select(d => d.IsKnown ? d.Value : 1L).ToArray();
    }

    static QuantCandidate? Gemm(Graph graph, Node node, int index, out string? reason)
    {
        reason = null;
        if (node.GetInt("transA", 0) != 0) { reason = "transA = 1: the int8 kernels read A row-major"; return null; }
        if (!(node.GetFloat("alpha", 1f) > 0f)) { reason = "alpha ≤ 0: the requantisation multiplier s_x·alpha·s_w/s_y must be positive"; return null; }
        if (Common(graph, node, out reason) is not { } b) return null;
        var a = Dims(graph, node.Input(0));
        if (a is not { Length: 2 }) { reason = "A is not 2-D"; return null; }
        bool transB = node.GetInt("transB", 0) != 0;
        long k = a[1], n = transB ? b.Dims[0] : b.Dims[1];
        if ((transB ? b.Dims[1] : b.Dims[0]) != k) { reason = "B does not match A"; return null; }
        if (node.HasInput(2) && node.GetFloat("beta", 1f) != 0f)
        {
            var c = graph.Constant(node.Input(2));
            if (c is null || c.Type != DataType.Float || (c.ElementCount != 1 && c.ElementCount != n) || (c.Dims.Length == 2 && c.Dims[0] != 1))
            {
                reason = "C is not a constant per-column bias";
                return null;
            }
        }
        return new QuantCandidate(index, node, QuantRole.Linear, [node.Input(0)], LayerShape.Linear(a[0], k, n),
            node.Input(1), transB ? 0 : 1, IsClamp(node));
    }

    static QuantCandidate? MatMul(Graph graph, Node node, int index, out string? reason)
    {
        if (Common(graph, node, out reason) is not { } b) return null;
        var a = Dims(graph, node.Input(0));
        if (a is null || a.Length == 0 || a[^1] != b.Dims[0]) { reason = "A does not match B"; return null; }
        long m = a[..^1].Aggregate(1L, (p, d) => p * d);
        return new QuantCandidate(index, node, QuantRole.Linear, [node.Input(0)], LayerShape.Linear(m, b.Dims[0], b.Dims[1]),
            node.Input(1), 1, IsClamp(node));
    }

    /// <summary>Gemm/MatMul: A computed, B a constant float matrix.</summary>
    static Tensor? Common(Graph graph, Node node, out string? reason)
    {
        reason = null;
        if (graph.IsConstant(node.Input(0))) { reason = "A is a constant"; return null; }
        if (graph.Constant(node.Input(1)) is not { Type: DataType.Float, Dims.Length: 2 } b) { reason = "B is not a constant float matrix"; return null; }
        if (node.Outputs.Length != 1) { reason = "it has more than one output"; return null; }
        return b;
    }

    static QuantCandidate? Conv(Graph graph, Node node, int index, out string? reason)
    {
        reason = null;
        if (graph.IsConstant(node.Input(0))) { reason = "X is a constant"; return null; }
        if (graph.Constant(node.Input(1)) is not { Type: DataType.Float, Dims.Length: 4 } w) { reason = "W is not a constant 4-D float tensor (2-D convolution)"; return null; }
        if (node.HasInput(2) && graph.Constant(node.Input(2)) is not { Type: DataType.Float }) { reason = "B is not a constant"; return null; }
        if (!IsClamp(node))
        {
            reason = $"its fused {FusedActivationAttributes.Read(node)!.Value.OpType} is not a clamp; the int8 Conv kernels requantise with a clamp only";
            return null;
        }
        var x = Dims(graph, node.Input(0));
        var y = Dims(graph, node.Output0);
        if (x is not { Length: 4 } || y is not { Length: 4 }) { reason = "X or Y is not 4-D (NCHW)"; return null; }
        long group = node.GetInt("group", 1);
        bool depthwise = group > 1 && group == x[1] && group == y[1] && w.Dims[1] == 1;
        var strides = node.GetInts("strides") ?? [1, 1];
        var shape = depthwise
            ? LayerShape.Depthwise(y[0] * y[2] * y[3], y[1], w.Dims[2] * w.Dims[3])
            : LayerShape.Convolution(y[0] * y[2] * y[3], w.Dims[1] * w.Dims[2] * w.Dims[3], y[1], group, x[1] * x[2] * x[3] * x[0],
                pointwise: w.Dims[2] == 1 && w.Dims[3] == 1 && strides.All(v => v == 1) && (node.GetInts("pads")?.All(p => p == 0) ?? true),
                winograd: RunsWinogradInFp32(x, y, [.. w.Dims], strides, node.GetInts("dilations"), group));
        string stride = strides.Any(v => v != 1) ? $" stride {string.Join("×", strides)}" : "";
        string summary = depthwise
            ? $"Conv depthwise {y[1]} ch {w.Dims[2]}×{w.Dims[3]}{stride} on {x[2]}×{x[3]}"
            : $"Conv {x[1]}→{y[1]} {w.Dims[2]}×{w.Dims[3]}{stride}{(group > 1 ? $" {group} groups" : "")} on {x[2]}×{x[3]}";
        return new QuantCandidate(index, node, QuantRole.Conv, [node.Input(0)], shape, node.Input(1), 0, Clamp: true, Summary: summary);
    }

    /// <summary>
    /// Whether the fp32 lowering would run this Conv with Winograd (<see cref="Lowering.Ops.ConvLowerer.UseWinograd"/>), so
    /// the cost model weighs int8 against that kernel rather than im2col. Pads do not enter the choice.
    /// </summary>
    static bool RunsWinogradInFp32(long[] x, long[] y, long[] w, long[] strides, long[]? dilations, long group)
    {
        int Int(long v) => checked((int)v);
        long[] d = dilations ?? [1, 1];
        var shape = new Conv2dShape(Int(x[0]), Int(x[1]), Int(x[2]), Int(x[3]), Int(y[1]), Int(y[2]), Int(y[3]), Int(w[2]), Int(w[3]),
            Int(strides[0]), Int(strides[1]), 0, 0, Int(d[0]), Int(d[1]), Int(group));
        return Lowering.Ops.ConvLowerer.UseWinograd(shape);
    }

    static QuantCandidate? Binary(Graph graph, Node node, int index, out string? reason)
    {
        reason = null;
        if (node.Inputs.Length != 2 || node.Outputs.Length != 1) { reason = "it does not have two inputs and one output"; return null; }
        if (node.Inputs.Any(graph.IsConstant)) { reason = "an operand is a constant (the u8 kernel takes two activations)"; return null; }
        if (!IsClamp(node))
        {
            reason = $"its fused {FusedActivationAttributes.Read(node)!.Value.OpType} is not a clamp";
            return null;
        }
        var a = Dims(graph, node.Input(0));
        var b = Dims(graph, node.Input(1));
        var y = Dims(graph, node.Output0);
        if (a is null || b is null || y is null) { reason = "a shape is not known"; return null; }
        try
        {
            Broadcast4.Create(y, a, b);
        }
        catch (ArgumentException e)
        {
            reason = $"its broadcast does not fit the u8 kernel: {e.Message}";
            return null;
        }
        return new QuantCandidate(index, node, QuantRole.Binary, [node.Input(0), node.Input(1)],
            LayerShape.Elementwise(y.Aggregate(1L, (p, d) => p * d)));
    }

    static QuantCandidate? MaxPool(Graph graph, Node node, int index, out string? reason)
    {
        reason = null;
        if (node.Outputs.Length > 1 && node.Outputs[1].Length > 0) { reason = "its Indices output is used"; return null; }
        if (Dims(graph, node.Input(0)) is not { Length: 4 }) { reason = "X is not 4-D (NCHW)"; return null; }
        return PassThrough(graph, node, index);
    }

    static QuantCandidate? GlobalAveragePool(Graph graph, Node node, int index, out string? reason)
    {
        reason = null;
        if (Dims(graph, node.Input(0)) is not { Length: 4 }) { reason = "X is not 4-D (NCHW)"; return null; }
        return PassThrough(graph, node, index);
    }

    static QuantCandidate? Alias(Graph graph, Node node, int index, out string? reason)
    {
        reason = null;
        if (graph.IsConstant(node.Input(0))) { reason = "its data is a constant"; return null; }
        for (int i = 1; i < node.Inputs.Length; i++)
            if (node.HasInput(i) && !graph.IsConstant(node.Inputs[i])) { reason = $"its input '{node.Inputs[i]}' (shape or axes) is computed at run time"; return null; }
        return PassThrough(graph, node, index);
    }

    static QuantCandidate PassThrough(Graph graph, Node node, int index) =>
        new(index, node, QuantRole.PassThrough, [node.Input(0)], LayerShape.Elementwise(Dims(graph, node.Output0)?.Aggregate(1L, (p, d) => p * d) ?? 0));
}
