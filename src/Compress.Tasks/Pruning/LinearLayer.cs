using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// A prunable layer — Conv, Gemm or MatMul with a constant float weight — seen as one matrix per group:
/// <c>W[row][k]</c> with a row per output channel and <see cref="K"/> reduction elements (Conv: C/group·kh·kw in the
/// weight's own order; Gemm: B's row with transB=1, column with transB=0, alpha folded in; MatMul: B's column), plus a
/// bias per row (Conv B, Gemm beta·C) that the reconstruction refits too. The reduction order is what N:M groups and
/// block columns follow.
/// </summary>
internal sealed record LinearLayer
{
    public required Node Node { get; init; }

    /// <summary>Conv, Gemm or MatMul.</summary>
    public string Kind => Node.OpType;

    /// <summary>Output channels (all groups).</summary>
    public required int Rows { get; init; }

    /// <summary>Reduction length of one row.</summary>
    public required int K { get; init; }

    /// <summary>Conv groups (1 for Gemm/MatMul); rows and input channels are split evenly between them.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Input channels (Conv) or input features (Gemm/MatMul) of the whole layer.</summary>
    public required int InChannels { get; init; }

    /// <summary>Reduction elements per input channel: kh·kw for Conv, 1 otherwise.</summary>
    public int KernelSize { get; init; } = 1;

    /// <summary>Output positions per sample at batch 1 (Conv: output pixels; Gemm/MatMul: rows of A): MACs = positions · non-zero weights.</summary>
    public required long Positions { get; init; }

    /// <summary>Whether the layer has (or can be given) a per-row bias the refit may change.</summary>
    public required bool HasBias { get; init; }

    /// <summary>The Conv window (null for Gemm/MatMul), over the input's spatial size.</summary>
    public ConvGeometry? Window { get; init; }

    /// <summary>Input spatial size [H, W] for Conv (1-D: [1, W]).</summary>
    public int[] InSpatial { get; init; } = [];

    public int RowsPerGroup => Rows / Groups;

    public int ChannelsPerGroup => InChannels / Groups;

    /// <summary>Depthwise: one input channel per group and one output per group.</summary>
    public bool IsDepthwise => Groups > 1 && Groups == InChannels && Groups == Rows;

    public string Label => Node.Label;

    /// <summary>The view of <paramref name="node"/>, or null with the reason it cannot be pruned.</summary>
    public static LinearLayer? TryCreate(Graph graph, Node node, out string reason)
    {
        reason = "";
        if (node.Domain.Length > 0 || node.OpType is not ("Conv" or "Gemm" or "MatMul")) { reason = "not a Conv, Gemm or MatMul"; return null; }
        if (graph.Constant(node.Input(1)) is not { Type: DataType.Float } w) { reason = "its weight is not a constant float tensor"; return null; }
        if (graph.UseCount(node.Input(1)) != 1) { reason = $"its weight '{node.Input(1)}' is shared with another node"; return null; }
        long[] x = graph.ShapeOf(node.Input(0)).Dims.Select(d => d.IsKnown ? d.Value : 1).ToArray(); // the symbolic batch counts as 1
        switch (node.OpType)
        {
            case "Conv":
            {
                if (w.Dims.Length is not (3 or 4) || x.Length != w.Dims.Length) { reason = "only 1-D and 2-D convolutions are pruned"; return null; }
                int groups = (int)node.GetInt("group", 1);
                var spatial = x[2..];
                var kernel = w.Dims.Skip(2).ToArray();
                var geometry = ConvGeometry.Resolve(node, spatial, kernel, allowDilations: true, ceilMode: false);
                bool hasBias = !node.HasInput(2) || (graph.Constant(node.Input(2)) is { Type: DataType.Float } b && b.ElementCount == w.Dims[0]);
                if (!hasBias) { reason = "its bias is not a constant float tensor"; return null; }
                return new LinearLayer
                {
                    Node = node,
                    Rows = (int)w.Dims[0],
                    K = (int)(w.ElementCount / w.Dims[0]),
                    Groups = groups,
                    InChannels = (int)x[1],
                    KernelSize = (int)kernel.Aggregate(1L, (a, d) => a * d),
                    Positions = geometry.Output.Aggregate(1L, (a, d) => a * d),
                    HasBias = true,
                    Window = geometry,
                    InSpatial = spatial.Length == 1 ? [1, (int)spatial[0]] : [(int)spatial[0], (int)spatial[1]],
                };
            }
            case "Gemm":
            {
                if (node.GetInt("transA", 0) != 0) { reason = "Gemm with transA=1"; return null; }
                if (w.Dims.Length != 2 || x.Length != 2) { reason = "Gemm operands are not 2-D"; return null; }
                bool transB = node.GetInt("transB", 0) != 0;
                int n = (int)w.Dims[transB ? 0 : 1], k = (int)w.Dims[transB ? 1 : 0];
                return new LinearLayer
                {
                    Node = node, Rows = n, K = k, InChannels = k, Positions = x[0],
                    HasBias = GemmBias(graph, node, n) is not null,
                };
            }
            default:
            {
                if (w.Dims.Length != 2 || x.Length < 2) { reason = "MatMul B is not a 2-D matrix"; return null; }
                int n = (int)w.Dims[1], k = (int)w.Dims[0];
                return new LinearLayer
                {
                    Node = node, Rows = n, K = k, InChannels = k,
                    Positions = x[..^1].Aggregate(1L, (a, d) => a * d), HasBias = false,
                };
            }
        }
    }

    /// <summary>Gemm's effective bias beta·C per output feature (zeros when C is absent), or null when C is not a constant scalar/[N]/[1,N].</summary>
    static double[]? GemmBias(Graph graph, Node node, int n)
    {
        double beta = node.GetFloat("beta", 1f);
        if (!node.HasInput(2) || beta == 0) return new double[n];
        if (graph.Constant(node.Input(2)) is not { Type: DataType.Float } c) return null;
        bool row = c.ElementCount == n && (c.Dims.Length == 1 || (c.Dims.Length == 2 && c.Dims[0] == 1));
        if (c.ElementCount == 1) return Enumerable.Repeat(beta * c.Floats[0], n).ToArray();
        return row ? c.Floats.Select(v => beta * v).ToArray() : null;
    }

    /// <summary>The weights as rows × K doubles (Gemm alpha folded in).</summary>
    public double[] ReadWeights(Graph graph)
    {
        var w = graph.Constant(Node.Input(1))!.Floats;
        var result = new double[(long)Rows * K];
        switch (Kind)
        {
            case "Conv":
                for (long i = 0; i < result.Length; i++) result[i] = w[i];
                break;
            case "Gemm" when Node.GetInt("transB", 0) != 0:
            {
                double alpha = Node.GetFloat("alpha", 1f);
                for (long i = 0; i < result.Length; i++) result[i] = alpha * w[i];
                break;
            }
            default:
            {
                double alpha = Kind == "Gemm" ? Node.GetFloat("alpha", 1f) : 1.0;
                for (int k = 0; k < K; k++)
                    for (int r = 0; r < Rows; r++) result[(long)r * K + k] = alpha * w[(long)k * Rows + r];
                break;
            }
        }
        return result;
    }

    /// <summary>The bias per row (zeros when the layer has none).</summary>
    public double[] ReadBias(Graph graph)
    {
        if (!HasBias) return new double[Rows];
        if (Kind == "Gemm") return GemmBias(graph, Node, Rows)!;
        return Node.HasInput(2) ? graph.Constant(Node.Input(2))!.Floats.Select(v => (double)v).ToArray() : new double[Rows];
    }

    /// <summary>
    /// The graph with this layer's weight (and, when given, its bias) replaced — same layout, same names when only this
    /// node reads them, a new bias initializer when the node had none (Gemm: beta becomes 1).
    /// </summary>
    public Graph Write(Graph graph, double[] weights, double[]? bias)
    {
        var wTensor = graph.Constant(Node.Input(1))!;
        var data = new float[wTensor.ElementCount];
        switch (Kind)
        {
            case "Conv":
                for (long i = 0; i < data.Length; i++) data[i] = (float)weights[i];
                break;
            case "Gemm" when Node.GetInt("transB", 0) != 0:
            {
                double alpha = Node.GetFloat("alpha", 1f);
                for (long i = 0; i < data.Length; i++) data[i] = (float)(weights[i] / alpha);
                break;
            }
            default:
            {
                double alpha = Kind == "Gemm" ? Node.GetFloat("alpha", 1f) : 1.0;
                for (int k = 0; k < K; k++)
                    for (int r = 0; r < Rows; r++) data[(long)k * Rows + r] = (float)(weights[(long)r * K + k] / alpha);
                break;
            }
        }
        graph = graph.WithInitializer(wTensor with { Data = data });
        var node = graph.Nodes.First(n => n.Output0 == Node.Output0);
        int index = graph.IndexOf(node);
        if (bias is null || !HasBias) return graph;

        var values = bias.Select(v => (float)v).ToArray();
        if (Kind == "Gemm") node = node.WithAttribute("beta", AttributeValue.Of(1f));
        var existing = node.HasInput(2) ? graph.Constant(node.Input(2)) : null;
        if (existing is not null && existing.ElementCount == Rows && graph.UseCount(existing.Name) == 1)
            graph = graph.WithInitializer(existing with { Data = values });
        else
        {
            string name = graph.UniqueValueName(Node.Input(1) + "_bias");
            graph = graph.WithInitializer(new Tensor(name, DataType.Float, [Rows], values));
            node = node.WithInput(2, name);
        }
        return graph.ReplaceNodeAt(index, node).RemoveUnusedInitializers(out _);
    }

    /// <summary>Bytes of the layer's dense fp32 weight.</summary>
    public long WeightCount => (long)Rows * K;
}
