using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

/// <summary>Pruned Gemm/MatMul weights lower to the sparse kernel their structure allows, and compute the same result.</summary>
public class SparseLinearLoweringTests
{
    /// <summary>B [k, n] with the given zero structure (seeded; non-zeros away from 0).</summary>
    static float[] Pruned(string pattern, int k, int n, int seed)
    {
        var rng = new Random(seed);
        var b = new float[k * n];
        float Value() => (float)(rng.NextDouble() + 0.25) * (rng.Next(2) == 0 ? -1 : 1);
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++)
            {
                bool keep = pattern switch
                {
                    "dense" => true,
                    "unstructured 8%" => rng.NextDouble() < 0.08,
                    // every group of 4 consecutive k in a column keeps 1 (2:4 pays only on weights beyond the L2)
                    "1:4" => kk % 4 == j % 4,
                    // 8 consecutive output columns × 1 k kept or dropped together, 10% kept
                    "8x1 blocks" => new Random(kk * 1000 + j / 8 + seed).NextDouble() < 0.10,
                    _ => throw new ArgumentException(pattern),
                };
                b[kk * n + j] = keep ? Value() : 0f;
            }
        return b;
    }

    public static TheoryData<string, int, string> Cases => new()
    {
        { "dense", 1, PlanCalls.Gemv },
        { "dense", 3, PlanCalls.Gemm },
        { "unstructured 8%", 1, PlanCalls.SparseGemv },
        { "unstructured 8%", 3, PlanCalls.SparseGemm },
        { "1:4", 1, PlanCalls.NmGemv },
        { "1:4", 3, PlanCalls.NmGemm },
        { "8x1 blocks", 1, PlanCalls.BlockSparseGemv },
        { "8x1 blocks", 3, PlanCalls.BlockSparseGemm },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemm_with_pruned_B_runs_the_matching_kernel(string pattern, int m, string expectedCall)
    {
        const int k = 96, n = 64;
        float[] a = Harness.Random(m * k, 1), b = Pruned(pattern, k, n, 7), c = Harness.Random(n, 3);
        var g = new TestGraph().Input("a", m, k).Const("B", b, k, n).Const("C", c, n)
            .Node("Gemm", ["a", "B", "C"], "y", [m, n], Fused("Relu")).Output("y");
        var lowered = Harness.Lower(g.Build());
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(expectedCall, step.Call);
        var expected = Reference.Gemm(a, b, c, [n], m, k, n, false, false, 1f, 1f).Select(v => Math.Max(v, 0f)).ToArray();
        Harness.Close(expected, Harness.Run(lowered, a)[0]);
    }

    [Fact]
    public void Sparse_weights_take_fewer_bytes_than_dense()
    {
        const int k = 96, n = 64;
        float[] b = Pruned("unstructured 8%", k, n, 7);
        global::Compress.Tasks.Graph.Graph Model(float[] w) => new TestGraph().Input("a", 1, k).Const("B", w, k, n)
            .Node("MatMul", ["a", "B"], "y", [1, n]).Output("y").Build();
        var sparse = Harness.Lower(Model(b));
        var dense = Harness.Lower(Model(Pruned("dense", k, n, 7)));
        Assert.Equal(PlanCalls.SparseGemv, Assert.Single(sparse.Plan.Steps).Call);
        Assert.True(sparse.Weights.Length * 3 < dense.Weights.Length, $"sparse {sparse.Weights.Length} B vs dense {dense.Weights.Length} B");
        Assert.Contains("sparse", Assert.Single(sparse.Plan.Steps).Comment);
    }

    [Fact]
    public void A_barely_pruned_B_stays_dense()
    {
        const int k = 32, n = 16;
        float[] b = Harness.Random(k * n, 5);
        for (int i = 0; i < b.Length; i += 3) b[i] = 0f; // a third zero: above every kernel's break-even density
        var g = new TestGraph().Input("a", 1, k).Const("B", b, k, n).Node("MatMul", ["a", "B"], "y", [1, n]).Output("y").Build();
        Assert.Equal(PlanCalls.Gemv, Assert.Single(Harness.Lower(g).Plan.Steps).Call);
    }
}
