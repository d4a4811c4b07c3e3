using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// A 1×1 Conv (https://onnx.ai/onnx/operators/onnx__Conv.html) of a 1×1 map — the excitation layers of a
/// squeeze-and-excitation block (Hu et al., CVPR 2018) written as convolutions — is a matrix product: it becomes
/// Flatten(axis 1) → Gemm(transB = 1, the weight reshaped to [M, C], the bias as C) → Unsqueeze(axes 2, 3), so it runs
/// on the GEMV kernels and every precision that handles Gemm handles it (a Gemm may end in any activation; the
/// quantised Conv kernels requantise with a clamp only). The Gemm keeps the Conv's name (so LayerOverrides, Exclude
/// and the reports still name it) and any fused activation; the Flatten and Unsqueeze are aliases at run time. Runs after
/// canonicalisation, for shift layers only (<c>ModelCompiler</c>).
/// </summary>
public sealed class PointwiseConvToGemm : IGraphPass
{
    public string Name => "PointwiseConvToGemm";

    public Graph Run(Graph graph, PassLog log)
    {
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var node = graph.Nodes[i];
            if (node.OpType != "Conv" || node.Domain.Length > 0 || !Applies(graph, node, out var w)) continue;
            long m = w!.Dims[0], c = w.Dims[1];
            string flat = graph.UniqueValueName(node.Input(0) + "_flat");
            string weight = graph.UniqueValueName(w.Name + "_gemm");
            graph = graph.WithInitializer(new Tensor(weight, w.Type, [m, c], w.Data));
            string product = graph.UniqueValueName(node.Output0 + "_gemm");
            var nodes = new List<Node>
            {
                Node.Create(Sibling(node, "Flatten"), "Flatten", [node.Input(0)], [flat], [new("axis", AttributeValue.Of(1L))]),
                // A fused activation (FuseActivation's attributes) is element-wise: it moves to the Gemm.
                Node.Create(node.Name, "Gemm", node.HasInput(2) ? [flat, weight, node.Input(2)] : [flat, weight], [product],
                    [new("transB", AttributeValue.Of(1L)), .. node.Attributes.Where(a => a.Key.StartsWith("compress.", StringComparison.Ordinal))]),
            };
            if (graph.Info.DefaultOpset >= 13)
            {
                string axes = graph.UniqueValueName(node.Output0 + "_axes");
                graph = graph.WithInitializer(Tensor.FromInt64s(axes, [2, 3], 2));
                nodes.Add(Node.Create(Sibling(node, "Unsqueeze"), "Unsqueeze", [product, axes], [node.Output0]));
            }
            else
            {
                nodes.Add(Node.Create(Sibling(node, "Unsqueeze"), "Unsqueeze", [product], [node.Output0], [new("axes", AttributeValue.Of(2L, 3L))]));
            }
            graph = graph with { Nodes = graph.Nodes.RemoveAt(i).InsertRange(i, nodes) };
            log.Add(Name, node.Label, $"1×1 Conv {c}→{m} of a 1×1 map → Flatten, Gemm (weight '{weight}' [{m}, {c}]), Unsqueeze");
            i += nodes.Count - 1;
        }
        return graph.RemoveUnusedInitializers(out _);
    }

    /// <summary>W a constant float [M, C, 1, 1], X [N, C, 1, 1], one group, no padding.</summary>
    static bool Applies(Graph graph, Node node, out Tensor? w)
    {
        w = graph.Constant(node.Input(1));
        if (w is not { Type: DataType.Float, Dims: [_, _, 1, 1] }) return false;
        if (node.HasInput(2) && graph.Constant(node.Input(2)) is null) return false;
        if (node.GetInt("group", 1) != 1 || (node.GetInts("pads")?.Any(p => p != 0) ?? false)) return false;
        if (node.GetString("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) return false;
        if (graph.Value(node.Input(0))?.Shape is not { Rank: 4 } x) return false;
        return x.Dims[1].IsKnown && x[1] == w.Dims[1] && x.Dims[2].IsKnown && x[2] == 1 && x.Dims[3].IsKnown && x[3] == 1;
    }

    /// <summary>"/block2/se/fc2/Conv" → "/block2/se/fc2/Flatten"; unnamed nodes stay unnamed.</summary>
    static string Sibling(Node node, string op)
    {
        if (node.Name.Length == 0) return "";
        int slash = node.Name.LastIndexOf('/');
        return slash >= 0 ? node.Name[..(slash + 1)] + op : node.Name + "_" + op;
    }
}
