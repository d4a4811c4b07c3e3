using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// The canonicalisation every model goes through before compression and lowering: shape inference, then the passes
/// below in order, re-inferring shapes after each so <see cref="Graph.Values"/> is always complete and current.
/// </summary>
public static class CanonicalPipeline
{
    /// <summary>The passes, in the order they run.</summary>
    public static ImmutableArray<IGraphPass> Passes { get; } =
    [
        new RemoveIdentity(),   // Identity/Dropout are no-ops at inference; removing them exposes producer → consumer pairs
        new ConstantFolding(),  // Constant nodes and constant subgraphs (Unsqueeze axes, shape arithmetic) become initializers
        new FoldBatchNorm(),    // BN after Conv/Gemm/MatMul disappears into the weights
        new FuseActivation(),   // last: producers are final, so each activation lands in the right kernel epilogue
    ];

    /// <exception cref="Diagnostics.CompressException">CMP004/CMP005 from shape inference.</exception>
    public static Graph Run(Graph graph, PassLog log)
    {
        graph = ShapeInference.Run(graph);
        foreach (var pass in Passes)
            graph = ShapeInference.Run(pass.Run(graph, log));
        return graph;
    }
}
