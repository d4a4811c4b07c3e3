using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// ONNX Identity and Dropout (https://onnx.ai/onnx/operators/onnx__Dropout.html: the identity when not training).
/// Removes Identity and inference-mode Dropout nodes, wiring their
/// consumers to the input. When the removed node's output is a graph output, the producer of its input is renamed
/// to that output instead, so the graph's output names never change.
/// </summary>
public sealed class RemoveIdentity : IGraphPass
{
    public string Name => "RemoveIdentity";

    public Graph Run(Graph graph, PassLog log)
    {
        for (int i = 0; i < graph.Nodes.Length;)
        {
            var node = graph.Nodes[i];
            if (node.OpType is not ("Identity" or "Dropout") || node.Domain.Length > 0)
            {
                i++;
                continue;
            }
            if (Blocker(graph, node) is { } reason)
            {
                log.Add(Name, node.Label, $"kept {node.OpType}: {reason}");
                i++;
                continue;
            }
            string x = node.Input(0), y = node.Output0;
            graph = graph.RemoveNodeAt(i);
            if (graph.IsGraphOutput(y))
            {
                graph = graph.RenameValue(x, y);
                log.Add(Name, node.Label, $"removed {node.OpType}; the producer of '{x}' now writes the graph output '{y}' directly");
            }
            else
            {
                graph = graph.ReplaceUses(y, x) with { Values = graph.Values.Remove(y) };
                log.Add(Name, node.Label, $"removed {node.OpType}; readers of '{y}' now read '{x}'");
            }
        }
        return graph;
    }

    static string? Blocker(Graph graph, Node node)
    {
        if (!node.HasInput(0) || node.Output0.Length == 0) return "it has no input or output";
        if (node.OpType == "Dropout")
        {
            if (node.Outputs.Length > 1 && node.Outputs[1].Length > 0 && (graph.UseCount(node.Outputs[1]) > 0 || graph.IsGraphOutput(node.Outputs[1])))
                return $"its mask output '{node.Outputs[1]}' is used";
            if (node.HasInput(2))
            {
                if (graph.Constant(node.Input(2)) is not { } mode) return "its training_mode input is computed at run time";
                if (TensorData.ToDoubles(mode).Any(v => v != 0)) return "training_mode is true (the model would drop activations at random)";
            }
        }
        string x = node.Input(0), y = node.Output0;
        if (graph.IsGraphOutput(y))
        {
            if (graph.Inputs.Any(i => i.Name == x)) return $"it copies the graph input '{x}' to the graph output '{y}'";
            if (graph.IsConstant(x)) return $"it copies the constant '{x}' to the graph output '{y}'";
            if (graph.IsGraphOutput(x)) return $"both '{x}' and '{y}' are graph outputs";
        }
        return null;
    }
}
