using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Onnx;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Raises a graph's default-domain opset (e.g. to 13 for per-axis DequantizeLinear in a QDQ export), rewriting the
/// node forms whose schema changed on the way (https://github.com/onnx/onnx/blob/main/docs/Changelog.md): attributes
/// that became inputs (Squeeze/Unsqueeze axes at 13, Clip min/max at 11, Reshape shape at 5) and attributes that were
/// dropped (BatchNormalization <c>spatial</c>/<c>is_test</c>/<c>consumed_inputs</c>, Dropout <c>is_test</c>). A form with no
/// equivalent (Softmax over a non-last axis before 13 coerces to 2-D) is CMP004. One rewrite per op type, in <see cref="Rewrites"/>.
/// </summary>
public static class OpsetUpgrade
{
    /// <summary>Rewrites a node written for <c>from</c> so it means the same at opset <c>to</c>; adds constants through the callback.</summary>
    delegate Node Rewrite(Graph graph, Node node, long from, long to, Func<string, Tensor, string> addConstant);

    static readonly ImmutableSortedDictionary<string, Rewrite> Rewrites = new Dictionary<string, Rewrite>
    {
        ["Squeeze"] = AxesToInput,
        ["Unsqueeze"] = AxesToInput,
        ["Clip"] = ClipBoundsToInputs,
        ["Reshape"] = ReshapeShapeToInput,
        ["BatchNormalization"] = DropAttributes("spatial", "is_test", "consumed_inputs"),
        ["Dropout"] = DropAttributes("is_test"),
        ["Pad"] = AttributesToInputs(11, ("pads", "pads", true), ("value", "constant_value", false)),
        ["Slice"] = AttributesToInputs(10, ("starts", "starts", true), ("ends", "ends", true), ("axes", "axes", true)),
        ["Split"] = AttributesToInputs(13, ("split", "split", true)),
        ["ReduceSum"] = AttributesToInputs(13, ("axes", "axes", true)),
        ["ReduceMean"] = AttributesToInputs(18, ("axes", "axes", true)),
        ["ReduceMax"] = AttributesToInputs(18, ("axes", "axes", true)),
        ["ReduceMin"] = AttributesToInputs(18, ("axes", "axes", true)),
        ["ReduceProd"] = AttributesToInputs(18, ("axes", "axes", true)),
        ["Softmax"] = CoercedAxis,
        ["LogSoftmax"] = CoercedAxis,
        ["Hardmax"] = CoercedAxis,
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>The graph at opset ≥ <paramref name="minimum"/> (unchanged when it already is).</summary>
    /// <exception cref="CompressException">CMP004 for a node form that has no equivalent at the new opset.</exception>
    public static Graph AtLeast(Graph graph, long minimum)
    {
        long from = graph.Info.DefaultOpset;
        if (from >= minimum) return graph;
        var nodes = ImmutableArray.CreateBuilder<Node>(graph.Nodes.Length);
        var g = graph;
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length > 0 || !Rewrites.TryGetValue(node.OpType, out var rewrite))
            {
                nodes.Add(node);
                continue;
            }
            nodes.Add(rewrite(graph, node, from, minimum, (hint, tensor) =>
            {
                string name = g.UniqueValueName(hint);
                g = g.WithInitializer(tensor with { Name = name });
                return name;
            }));
        }
        var opsets = graph.Info.Opsets.Remove("ai.onnx").SetItem("", minimum);
        return g with
        {
            Nodes = nodes.MoveToImmutable(),
            Info = g.Info with { Opsets = opsets, IrVersion = Math.Max(g.Info.IrVersion, IrVersionFor(minimum)) },
        };
    }

    /// <summary>
    /// The graph at the lowest opset that has every op it uses, at least <paramref name="minimum"/>: a fused
    /// LayerNormalization (see <c>FuseLayerNorm</c>) needs opset 17 in an exported model.
    /// </summary>
    public static Graph ForExport(Graph graph, long minimum = 0) =>
        AtLeast(graph, Math.Max(minimum, graph.Nodes.Any(n => n.OpType == "LayerNormalization" && n.Domain.Length == 0) ? 17 : 0));

    /// <summary>
    /// Attributes that became inputs at opset <paramref name="since"/> (Slice at 10, Pad at 11, Split and ReduceSum at 13,
    /// the other reductions at 18), in input order after input 0: (attribute, input, integer?).
    /// </summary>
    static Rewrite AttributesToInputs(long since, params (string Attribute, string Input, bool Ints)[] moved) => (graph, node, from, to, add) =>
    {
        if (from >= since || to < since) return node;
        if (node.OpType == "Pad" && node.Attributes.ContainsKey("paddings"))
            throw new CompressException(ErrorCodes.UnsupportedOp, $"Node '{node.Label}' (Pad) uses the opset 1 attribute 'paddings'; re-export the model with opset ≥ 2.");
        var result = node;
        for (int i = 0; i < moved.Length; i++)
        {
            var (attribute, input, ints) = moved[i];
            if (!node.Attributes.TryGetValue(attribute, out var value)) continue;
            var tensor = ints ? Tensor.FromInt64s("", value.Ints.ToArray(), value.Ints.Length) : new Tensor("", DataType.Float, [], new[] { value.Float });
            result = result.WithInput(i + 1, add($"{node.Output0}_{input}", tensor));
            result = result with { Attributes = result.Attributes.Remove(attribute) };
        }
        return result;
    };

    /// <summary>The lowest IR version that may import <paramref name="opset"/> (ONNX versioning table).</summary>
    public static long IrVersionFor(long opset) => opset switch
    {
        <= 8 => 3,
        <= 10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    static Node AxesToInput(Graph graph, Node node, long from, long to, Func<string, Tensor, string> add)
    {
        if (from >= 13 || to < 13 || node.GetInts("axes") is not { } axes) return node;
        string name = add($"{node.Output0}_axes", Tensor.FromInt64s("", axes, axes.Length));
        return node.WithInput(1, name) with { Attributes = node.Attributes.Remove("axes") };
    }

    static Node ClipBoundsToInputs(Graph graph, Node node, long from, long to, Func<string, Tensor, string> add)
    {
        if (from >= 11 || to < 11) return node;
        var result = node with { Attributes = node.Attributes.Remove("min").Remove("max") };
        if (node.Attributes.ContainsKey("min"))
            result = result.WithInput(1, add($"{node.Output0}_min", new Tensor("", DataType.Float, [], new[] { node.GetFloat("min", 0f) })));
        if (node.Attributes.ContainsKey("max"))
        {
            if (!result.HasInput(1)) result = result.WithInput(1, "");
            result = result.WithInput(2, add($"{node.Output0}_max", new Tensor("", DataType.Float, [], new[] { node.GetFloat("max", 0f) })));
        }
        return result;
    }

    static Node ReshapeShapeToInput(Graph graph, Node node, long from, long to, Func<string, Tensor, string> add)
    {
        if (from >= 5 || to < 5 || node.GetInts("shape") is not { } shape) return node;
        string name = add($"{node.Output0}_shape", Tensor.FromInt64s("", shape, shape.Length));
        return node.WithInput(1, name) with { Attributes = node.Attributes.Remove("shape") };
    }

    static Rewrite DropAttributes(params string[] names) => (graph, node, from, to, add) =>
    {
        if (node.OpType == "BatchNormalization" && node.GetInt("spatial", 1) != 1)
            throw new CompressException(ErrorCodes.UnsupportedOp,
                $"Node '{node.Label}' (BatchNormalization) uses spatial = 0, which opset {to} no longer has; re-export the model with opset ≥ 9.");
        return node with { Attributes = node.Attributes.RemoveRange(names) };
    };

    /// <summary>Before opset 13 Softmax-like ops coerce the input to 2-D at <c>axis</c> (default 1); from 13 they work on one axis (default −1).</summary>
    static Node CoercedAxis(Graph graph, Node node, long from, long to, Func<string, Tensor, string> add)
    {
        if (from >= 13 || to < 13) return node;
        long axis = node.GetInt("axis", 1);
        // The meanings agree when the coerced inner block [axis, rank) is the last axis alone (or the dims after it are 1).
        if (graph.Value(node.Input(0))?.Shape is { } shape)
        {
            long a = axis < 0 ? axis + shape.Rank : axis;
            if (a >= 0 && a < shape.Rank && shape.Dims.Skip((int)a + 1).All(d => d.IsKnown && d.Value == 1))
                return node.WithAttribute("axis", AttributeValue.Of(a));
        }
        throw new CompressException(ErrorCodes.UnsupportedOp,
            $"Node '{node.Label}' ({node.OpType}) uses axis {axis} with opset {from} semantics (coerce to 2-D), which opset {to} expresses differently; re-export the model with opset ≥ 13.");
    }
}
