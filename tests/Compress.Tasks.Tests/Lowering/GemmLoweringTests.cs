using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class GemmLoweringTests
{
    public static TheoryData<int, int, int, bool, bool, float, float, string> Cases => new()
    {
        // m, k, n, transA, transB, alpha, beta, C shape ("" none, "n", "1n", "s" scalar, "mn", "m1")
        { 1, 7, 5, false, false, 1f, 1f, "n" },
        { 1, 7, 5, false, true, 1f, 1f, "n" },
        { 1, 33, 17, false, true, 0.5f, 2f, "1n" },
        { 1, 8, 20, false, false, 1f, 1f, "" },
        { 1, 8, 20, false, true, 1.5f, 0.25f, "s" },
        { 3, 9, 18, false, false, 1f, 1f, "n" },
        { 4, 16, 33, false, true, 2f, -1f, "n" },
        { 3, 5, 4, false, false, 1f, 0.5f, "mn" },
        { 3, 5, 4, false, true, 1f, 1f, "m1" },
        { 3, 6, 7, true, false, 1f, 1f, "n" },
        { 1, 6, 7, true, true, 0.5f, 1f, "n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemm_matches_reference(int m, int k, int n, bool transA, bool transB, float alpha, float beta, string cShape)
    {
        float[] a = Harness.Random(m * k, 1), b = Harness.Random(k * n, 2);
        long[] cDims = cShape switch { "n" => [n], "1n" => [1, n], "s" => [], "mn" => [m, n], "m1" => [m, 1], _ => [] };
        float[]? c = cShape.Length == 0 ? null : Harness.Random((int)Reference.Count(cDims), 3);
        var g = new TestGraph().Input("a", transA ? [k, m] : [m, k]).Const("B", b, transB ? [n, k] : [k, n]);
        var inputs = new List<string> { "a", "B" };
        if (c is not null) { g.Const("C", c, cDims); inputs.Add("C"); }
        g.Node("Gemm", inputs.ToArray(), "y", [m, n], Attr("alpha", alpha), Attr("beta", beta),
            Attr("transA", transA ? 1L : 0L), Attr("transB", transB ? 1L : 0L)).Output("y");

        var lowered = Harness.Lower(g.Build());
        var y = Harness.Run(lowered, a)[0];

        var expected = Reference.Gemm(a, b, c, cDims, m, k, n, transA, transB, alpha, beta);
        Harness.Close(expected, y);
        Assert.Contains(lowered.Plan.Steps, s => s.Call == (m == 1 ? PlanCalls.Gemv : PlanCalls.Gemm));
    }

    [Fact]
    public void Gemm_with_fused_relu_applies_it_in_the_kernel()
    {
        float[] a = Harness.Random(10, 1), b = Harness.Random(40, 2), c = Harness.Random(4, 3);
        var g = new TestGraph().Input("a", 1, 10).Const("B", b, 10, 4).Const("C", c, 4)
            .Node("Gemm", ["a", "B", "C"], "y", [1, 4], Fused("Relu")).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanCalls.Gemv, step.Call);
        Assert.Equal("Gemm 10→4, bias + Relu", step.Comment);
        Assert.Equal("/y/Gemm", step.Node);
        var expected = Reference.Gemm(a, b, c, [4], 1, 10, 4, false, false, 1, 1).Select(v => Math.Max(v, 0)).ToArray();
        Harness.Close(expected, Harness.Run(lowered, a)[0]);
    }

    [Fact]
    public void Gemm_folds_alpha_into_the_packed_weights_and_beta_into_the_bias()
    {
        float[] b = Harness.Random(12, 2), c = Harness.Random(3, 3);
        var g = new TestGraph().Input("a", 1, 4).Const("B", b, 4, 3).Const("C", c, 3)
            .Node("Gemm", ["a", "B", "C"], "y", [1, 3], Attr("alpha", 2f), Attr("beta", 3f)).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        var bias = Assert.IsType<SpanArg>(step.Args[2]);
        var weights = Compress.Runtime.ModelWeights.FromBytes(lowered.Weights).F32;
        Assert.Equal(c.Select(v => 3f * v).ToArray(), weights.Slice(bias.Offset, bias.Length).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Gemm_with_runtime_C_adds_it_after_the_product(int m)
    {
        float[] a = Harness.Random(m * 5, 1), b = Harness.Random(5 * 4, 2), c = Harness.Random(m * 4, 3);
        var g = new TestGraph().Input("a", m, 5).Input("c", m, 4).Const("B", b, 5, 4)
            .Node("Gemm", ["a", "B", "c"], "y", [m, 4], Fused("Relu")).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.Equal([m == 1 ? PlanCalls.Gemv : PlanCalls.Gemm, PlanCalls.Binary], lowered.Plan.Steps.Select(s => s.Call));
        var expected = Reference.Gemm(a, b, c, [m, 4], m, 5, 4, false, false, 1, 1).Select(v => Math.Max(v, 0)).ToArray();
        Harness.Close(expected, Harness.Run(lowered, a, c)[0]);
    }

    [Fact]
    public void Gemm_with_runtime_B_is_unsupported()
    {
        var g = new TestGraph().Input("a", 1, 4).Input("b", 4, 3)
            .Node("Gemm", ["a", "b"], "y", [1, 3]).Output("y").Build();
        var e = Assert.Throws<Diagnostics.CompressException>(() => Harness.Lower(g));
        Assert.Equal(Diagnostics.ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("/y/Gemm", e.Message);
        Assert.Contains("B", e.Message);
    }
}

public class MatMulLoweringTests
{
    [Theory]
    [InlineData(new long[] { 1, 12 }, 7)]
    [InlineData(new long[] { 5, 12 }, 7)]
    [InlineData(new long[] { 2, 3, 12 }, 20)]
    [InlineData(new long[] { 12 }, 3)]
    public void MatMul_flattens_leading_dims_into_rows(long[] aDims, int n)
    {
        int k = (int)aDims[^1], m = (int)(Reference.Count(aDims) / k);
        float[] a = Harness.Random(m * k, 1), b = Harness.Random(k * n, 2);
        long[] yDims = [.. aDims[..^1], n];
        var g = new TestGraph().Input("a", aDims).Const("B", b, k, n).Node("MatMul", ["a", "B"], "y", yDims).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(Reference.Gemm(a, b, null, [], m, k, n, false, false, 1, 1), Harness.Run(lowered, a)[0]);
        Assert.Equal(m == 1 ? PlanCalls.Gemv : PlanCalls.Gemm, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void MatMul_with_vector_B()
    {
        float[] a = Harness.Random(15, 1), b = Harness.Random(5, 2);
        var g = new TestGraph().Input("a", 3, 5).Const("B", b, 5).Node("MatMul", ["a", "B"], "y", [3]).Output("y").Build();
        Harness.Close(Reference.Gemm(a, b, null, [], 3, 5, 1, false, false, 1, 1), Harness.Run(g, a)[0]);
    }
}
