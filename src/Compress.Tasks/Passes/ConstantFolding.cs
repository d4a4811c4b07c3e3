using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Constant folding (Aho, Lam, Sethi &amp; Ullman, "Compilers", 2nd ed., §9.4) over the ONNX graph.
/// Turns constant computation into initializers: every <c>Constant</c> node, every node whose inputs are all
/// constant and whose op <see cref="ConstantEvaluator"/> can evaluate, and <c>Shape</c> of a value whose shape is
/// fully known (so Shape-driven Reshape chains fold). Initializers nothing reads any more are removed.
/// Nodes writing a graph output are kept, so outputs stay computed values.
/// </summary>
public sealed class ConstantFolding : IGraphPass
{
    public string Name => "ConstantFolding";

    public Graph Run(Graph graph, PassLog log)
    {
        graph = ShapeInference.EnsureInferred(graph);

        for (int i = 0; i < graph.Nodes.Length;)
        {
            var node = graph.Nodes[i];
            var folded = TryFold(graph, node, out string? reason);
            if (folded is null)
            {
                if (reason is not null) log.Add(Name, node.Label, $"kept {node.OpType}: {reason}");
                i++;
                continue;
            }
            graph = graph.RemoveNodeAt(i);
            foreach (var t in folded) graph = graph.WithInitializer(t);
            log.Add(Name, node.Label, node.OpType == "Constant"
                ? $"Constant became the initializer '{folded[0].Name}' {folded[0].Shape}"
                : $"{node.OpType} of constants evaluated at build time into '{string.Join("', '", folded.Select(t => t.Name))}' {folded[0].Shape}");
        }

        graph = graph.RemoveUnusedInitializers(out var removed);
        if (!removed.IsEmpty)
            log.Add(Name, "(graph)", $"removed {removed.Length} unused initializer(s): {string.Join(", ", removed)}");
        return graph;
    }

    /// <summary>The node's outputs as constants, or null (with a reason when the node looked foldable).</summary>
    static Tensor[]? TryFold(Graph graph, Node node, out string? reason)
    {
        reason = null;
        if (node.Domain.Length > 0) return null;
        bool constantInputs = node.Inputs.All(i => i.Length == 0 || graph.IsConstant(i));
        if (node.OpType == "Constant")
        {
            if (node.Outputs.Any(graph.IsGraphOutput)) { reason = "its output is a graph output"; return null; }
            if (ConstantNode.ValueOf(node) is not { } value) { reason = "its value form (sparse_value) is not supported"; return null; }
            return [value];
        }
        if (!ConstantEvaluator.Evaluators.TryGetValue(node.OpType, out var evaluate)) return null;
        bool shapeOnly = ConstantEvaluator.NeedsOnlyShapes(node.OpType);
        if (!constantInputs && !shapeOnly) return null;
        if (node.Inputs.All(i => i.Length == 0)) return null;
        if (node.Outputs.Any(graph.IsGraphOutput))
        {
            if (constantInputs) reason = "its output is a graph output";
            return null;
        }
        try
        {
            var outputs = evaluate(new ConstantEvaluator.Context(graph, node));
            if (outputs.Length != node.Outputs.Count(o => o.Length > 0)) { reason = "it has outputs the evaluator does not produce"; return null; }
            return outputs;
        }
        catch (ConstantEvaluator.NotFoldableException e)
        {
            reason = e.Message;
            return null;
        }
    }
}
