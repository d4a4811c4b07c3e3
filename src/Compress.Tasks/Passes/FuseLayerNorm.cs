using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Fuses the decomposed layer normalisation that PyTorch (before opset 17) and TensorFlow exports produce back into
/// one ONNX LayerNormalization (opset 17 semantics; Ba, Kiros &amp; Hinton 2016):
/// <code>
/// μ = ReduceMean(x) ; d = Sub(x, μ) ; v = ReduceMean(Pow(d, 2) | Mul(d, d)) ; s = Sqrt(Add(v, ε))
/// y = Div(d, s) [ → Mul(·, γ) ] [ → Add(·, β) ]
/// </code>
/// Both means must reduce the same trailing axes with keepdims; ε, the exponent, γ and β must be constants
/// (initializers or Constant nodes); the intermediates must have no other readers. The pass matches op names and
/// constants only, so it runs before shape inference: the Pow and Sqrt it removes need no kernel.
/// </summary>
public sealed class FuseLayerNorm : IGraphPass
{
    public string Name => "FuseLayerNorm";

    public Graph Run(Graph graph, PassLog log)
    {
        if (!graph.Nodes.Any(n => n.OpType == "ReduceMean")) return graph;
        // Ranks for positive axes, as far as shape inference gets before the ops this pass removes.
        var ranks = ShapeInference.RunPartial(graph).Values;
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var mean = graph.Nodes[i];
            if (mean.OpType != "ReduceMean" || mean.Domain.Length > 0) continue;
            var fused = TryFuse(graph, mean, ranks, out string? why);
            if (fused is null)
            {
                if (why is not null) log.Add(Name, mean.Label, $"not fused: {why}");
                continue;
            }
            graph = fused.Value.Graph;
            log.Add(Name, fused.Value.Label, $"ReduceMean…Sqrt…Div{fused.Value.Tail} fused into LayerNormalization (axis {fused.Value.Axis}, epsilon {fused.Value.Epsilon})");
            i = -1; // indices moved; rescan (each fusion removes nodes, so this terminates)
        }
        return graph;
    }

    static (Graph Graph, string Label, string Tail, long Axis, float Epsilon)? TryFuse(Graph g, Node mean, IReadOnlyDictionary<string, ValueInfo> ranks, out string? why)
    {
        why = null;
        string x = mean.Input(0), mu = mean.Output0;
        // The Sub that centres x: x − μ, μ read by nothing else.
        if (Single(g, mu) is not { OpType: "Sub" } sub || sub.Input(0) != x || sub.Input(1) != mu) return null;
        string d = sub.Output0;
        var users = g.Consumers(d).ToList();
        if (users.Count != 2 || g.IsGraphOutput(d)) { why = $"'{d}' (x − mean) is read by {users.Count} nodes, not exactly the square and the Div"; return null; }
        var div = users.FirstOrDefault(n => n.OpType == "Div");
        var square = users.FirstOrDefault(n => n.OpType is "Pow" or "Mul" && n != div);
        if (square is null || div is null || div.Input(0) != d) { why = $"'{d}' does not feed a square and a Div"; return null; }
        bool squares = square.OpType == "Pow"
            ? square.Input(0) == d && ScalarOf(g, square.Input(1)) == 2f
            : square.Input(0) == d && square.Input(1) == d;
        if (!squares) { why = $"'{square.Label}' is not (x − mean)²"; return null; }
        if (Single(g, square.Output0) is not { OpType: "ReduceMean" } variance) { why = "the square does not feed one ReduceMean"; return null; }
        if (Single(g, variance.Output0) is not { OpType: "Add" } addEps) { why = "the variance does not feed one Add (+ epsilon)"; return null; }
        string eps = addEps.Input(0) == variance.Output0 ? addEps.Input(1) : addEps.Input(0);
        if (ScalarOf(g, eps) is not { } epsilon) { why = "epsilon is not a scalar constant"; return null; }
        if (Single(g, addEps.Output0) is not { OpType: "Sqrt" } sqrt) { why = "variance + epsilon does not feed one Sqrt"; return null; }
        if (Single(g, sqrt.Output0) != div || div.Input(1) != sqrt.Output0) { why = "the Sqrt does not feed the Div"; return null; }

        var axes1 = Axes(g, mean);
        var axes2 = Axes(g, variance);
        if (axes1 is null || axes2 is null || !axes1.SequenceEqual(axes2)) { why = "the two ReduceMeans do not name the same constant axes"; return null; }
        if (mean.GetInt("keepdims", 1) == 0 || variance.GetInt("keepdims", 1) == 0) { why = "a ReduceMean drops its axes (keepdims=0)"; return null; }
        long? axis = TrailingAxis(ranks, x, axes1);
        if (axis is null) { why = $"axes [{string.Join(",", axes1)}] are not the trailing axes of '{x}'"; return null; }

        // Optional affine tail: Mul by γ then Add β (constants), each the only reader of its input.
        var removed = new List<Node> { mean, sub, square, variance, addEps, sqrt, div };
        string y = div.Output0, scale, bias = "";
        string tail = "";
        string? Other(Node n, string value) => n.Input(0) == value ? n.Input(1) : n.Input(1) == value ? n.Input(0) : null;
        if (Single(g, y) is { OpType: "Mul" } mul && Other(mul, y) is { } gamma && IsFloatConstant(g, gamma))
        {
            removed.Add(mul);
            y = mul.Output0;
            scale = gamma;
            tail += "→Mul";
        }
        else scale = "";
        if (Single(g, y) is { OpType: "Add" } add && Other(add, y) is { } beta && IsFloatConstant(g, beta))
        {
            removed.Add(add);
            y = add.Output0;
            bias = beta;
            tail += "→Add";
        }
        if (removed.Any(n => n != removed[^1] && n.Outputs.Any(g.IsGraphOutput))) { why = "an intermediate is a graph output"; return null; }

        var graph = g;
        if (scale.Length == 0)
        {
            // LayerNormalization requires Scale: without γ, a constant 1 broadcasts (shape [1]).
            scale = graph.UniqueValueName(mean.Name + "_scale");
            graph = graph.WithInitializer(Tensor.FromFloats(scale, [1f], 1));
        }
        var fusedNode = Node.Create(mean.Name.Length > 0 ? mean.Name + "_LayerNormalization" : "LayerNormalization_" + y, "LayerNormalization",
            bias.Length > 0 ? [x, scale, bias] : [x, scale], [y],
            [KeyValuePair.Create("axis", AttributeValue.Of(axis.Value)), KeyValuePair.Create("epsilon", AttributeValue.Of(epsilon))]);
        int at = graph.IndexOf(removed[^1]);
        graph = graph.ReplaceNodeAt(at, fusedNode);
        foreach (var n in removed.Take(removed.Count - 1)) graph = graph.RemoveNodeAt(graph.IndexOf(n));
        return (graph, fusedNode.Label, tail, axis.Value, epsilon);
    }

    /// <summary>The only node reading <paramref name="value"/> (and not a graph output), else null.</summary>
    static Node? Single(Graph g, string value)
    {
        if (g.IsGraphOutput(value)) return null;
        var users = g.Consumers(value).Take(2).ToList();
        return users.Count == 1 && users[0].Domain.Length == 0 ? users[0] : null;
    }

    /// <summary>A constant (initializer or Constant node output).</summary>
    static Tensor? ConstantOf(Graph g, string value) =>
        g.Constant(value) ?? (g.Producer(value) is { OpType: "Constant" } c ? ConstantNode.ValueOf(c) : null);

    static float? ScalarOf(Graph g, string value) =>
        ConstantOf(g, value) is { ElementCount: 1 } t && t.Type is DataType.Float or DataType.Double or DataType.Float16 ? (float)TensorData.ToDoubles(t)[0] : null;

    static bool IsFloatConstant(Graph g, string value) => ConstantOf(g, value) is { Type: DataType.Float };

    /// <summary>A ReduceMean's axes, from its attribute or its constant second input.</summary>
    static long[]? Axes(Graph g, Node reduce) =>
        reduce.GetInts("axes") ?? (reduce.HasInput(1) && ConstantOf(g, reduce.Input(1)) is { } t ? TensorData.ToInt64s(t) : null);

    /// <summary>The first axis when <paramref name="axes"/> are the last axes of x (negative ones need no rank), else null.</summary>
    static long? TrailingAxis(IReadOnlyDictionary<string, ValueInfo> ranks, string x, long[] axes)
    {
        if (axes.Length == 0) return null;
        var sorted = axes.Order().ToArray();
        if (sorted.All(a => a < 0))
            return sorted[^1] == -1 && sorted.Zip(sorted.Skip(1)).All(p => p.Second == p.First + 1) ? sorted[0] : null;
        // Positive axes need the rank: without it the pattern is left alone.
        int? rank = ranks.GetValueOrDefault(x)?.Shape?.Rank;
        if (rank is not { } r) return null;
        var normal = axes.Select(a => a < 0 ? a + r : a).Order().ToArray();
        return normal[^1] == r - 1 && normal.Zip(normal.Skip(1)).All(p => p.Second == p.First + 1) ? normal[0] : null;
    }
}
