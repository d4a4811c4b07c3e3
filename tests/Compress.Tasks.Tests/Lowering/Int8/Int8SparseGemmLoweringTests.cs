using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>Pruned int8 Gemms run the block-sparse u8×s8 kernel and compute exactly what the dense int8 kernel does.</summary>
public class Int8SparseGemmLoweringTests
{
    /// <summary>W [k, n] with 90 % of its 1×4 blocks (4 consecutive k of a column) zero.</summary>
    static float[] BlockPruned(int k, int n, int seed)
    {
        var w = Harness.Random(k * n, seed, 0.4f);
        var rng = new Random(seed);
        for (int j = 0; j < n; j++)
            for (int k0 = 0; k0 < k; k0 += 4)
                if (rng.NextDouble() >= 0.10)
                    for (int kk = k0; kk < Math.Min(k, k0 + 4); kk++) w[kk * n + j] = 0f;
        return w;
    }

    static global::Compress.Tasks.Graph.Graph Chain(Func<int, int, int, float[]> weights) => new TestGraph().Input("x", 1, 64)
        .Const("W1", weights(64, 96, 1), 64, 96).Const("b1", Harness.Random(96, 2, 0.2f), 96)
        .Const("W2", weights(96, 10, 3), 96, 10).Const("b2", Harness.Random(10, 4, 0.2f), 10)
        .Node("Gemm", ["x", "W1", "b1"], "h", [1, 96], Fused("Relu"))
        .Node("Gemm", ["h", "W2", "b2"], "y", [1, 10])
        .Output("y").Build();

    [Fact]
    public void Block_pruned_chain_runs_sparse_and_matches_the_dense_int8_kernel_exactly()
    {
        var samples = Int8Harness.Samples(12, 64, seed: 30);
        var g = Chain(BlockPruned);
        var q = Int8Harness.Result(g, samples);
        var sparse = Int8Harness.Lower(g, q);
        Assert.Equal([PlanCalls.Quantize, PlanCalls.SparseQGemv, PlanCalls.SparseQGemvToF32], Int8Harness.Calls(sparse));
        Assert.Contains("sparse 1×4 blocks", sparse.Plan.Steps[1].Comment);

        // Exact int8 arithmetic, step by step, against the simulation the dense kernels are checked with.
        var (px, ph) = (q.Activations["x"], q.Activations["h"]);
        foreach (var sample in samples)
        {
            var trace = Int8Simulation.Trace(sparse, sample);
            Int8Simulation.CheckGemmStep(trace, 1, 1, 64, 96, q.Weights["W1"], false, Harness.Random(96, 2, 0.2f), 1, px, ph, lo: ph.ZeroPoint, output: 7);
            Int8Simulation.CheckGemmStep(trace, 2, 1, 96, 10, q.Weights["W2"], false, Harness.Random(10, 4, 0.2f), 1, ph, null, output: 6);
        }

        var denseGraph = Chain((k, n, seed) => Harness.Random(k * n, seed, 0.4f));
        var dense = Int8Harness.Lower(denseGraph, Int8Harness.Result(denseGraph, samples));
        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.QGemvToF32], Int8Harness.Calls(dense));
        Assert.True(sparse.Weights.Length * 2 < dense.Weights.Length, $"sparse {sparse.Weights.Length} B vs dense {dense.Weights.Length} B");
    }
}
