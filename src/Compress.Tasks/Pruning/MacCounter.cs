using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Multiply-accumulates of one inference at batch 1: every weight counted, and only the non-zero ones.</summary>
/// <param name="Dense">MACs of the layers as stored (a removed channel is gone; a zero weight still counts).</param>
/// <param name="NonZero">MACs counting only non-zero weights (what a sparse kernel needs to do).</param>
public sealed record MacCount(long Dense, long NonZero)
{
    public static MacCount Zero { get; } = new(0, 0);

    public static MacCount operator +(MacCount a, MacCount b) => new(a.Dense + b.Dense, a.NonZero + b.NonZero);
}

/// <summary>Size and MACs of one Conv/Gemm/MatMul layer.</summary>
/// <param name="Layer">The node's label.</param>
/// <param name="Kind">Conv, Gemm or MatMul.</param>
/// <param name="Weights">Weight elements (dense).</param>
/// <param name="NonZeroWeights">Non-zero weight elements.</param>
/// <param name="Macs">MACs per inference at batch 1.</param>
public sealed record LayerCost(string Layer, string Kind, long Weights, long NonZeroWeights, MacCount Macs);

/// <summary>The cost of a whole model: its layers, every float constant's bytes and the MAC totals.</summary>
/// <param name="Layers">Conv/Gemm/MatMul layers with constant weights, in graph order.</param>
/// <param name="Parameters">Elements of every float initializer (weights, biases, other constants).</param>
/// <param name="NonZeroParameters">Non-zero elements of every float initializer.</param>
/// <param name="Macs">Sum over <paramref name="Layers"/>.</param>
public sealed record ModelCost(ImmutableArray<LayerCost> Layers, long Parameters, long NonZeroParameters, MacCount Macs)
{
    /// <summary>Bytes of the float initializers stored densely as fp32.</summary>
    public long DenseBytes => Parameters * 4;
}

/// <summary>
/// Counts the MACs of the linear layers (Conv: output pixels × non-zero weights; Gemm/MatMul: rows of A × non-zero
/// weights; element-wise work is not counted) and the parameters of a graph. The symbolic batch counts as 1.
/// </summary>
public static class MacCounter
{
    public static ModelCost Count(Graph graph)
    {
        var layers = ImmutableArray.CreateBuilder<LayerCost>();
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length > 0 || node.OpType is not ("Conv" or "Gemm" or "MatMul")) continue;
            if (graph.Constant(node.Input(1)) is not { Type: DataType.Float } w) continue;
            long positions = Positions(graph, node);
            if (positions < 0) continue;
            long nonZero = w.Floats.LongCount(v => v != 0);
            layers.Add(new LayerCost(node.Label, node.OpType, w.ElementCount, nonZero, new MacCount(positions * w.ElementCount, positions * nonZero)));
        }
        long parameters = 0, nonZeroParameters = 0;
        foreach (var t in graph.Initializers.Values)
        {
            if (t.Type != DataType.Float) continue;
            parameters += t.ElementCount;
            nonZeroParameters += t.Floats.LongCount(v => v != 0);
        }
        var total = layers.Aggregate(MacCount.Zero, (a, l) => a + l.Macs);
        return new ModelCost(layers.ToImmutable(), parameters, nonZeroParameters, total);
    }

    /// <summary>How many times each weight is used per inference: output pixels for Conv, rows of A for Gemm/MatMul; −1 when unknown.</summary>
    static long Positions(Graph graph, Node node)
    {
        long Known(Dim d) => d.IsKnown ? d.Value : 1;
        if (graph.Value(node.Output0)?.Shape is not { } y) return -1;
        return node.OpType switch
        {
            "Conv" => y.Dims.Skip(2).Aggregate(1L, (a, d) => a * Known(d)),
            "Gemm" => Known(y.Dims[0]),
            _ => y.Dims.SkipLast(1).Aggregate(1L, (a, d) => a * Known(d)),
        };
    }
}
