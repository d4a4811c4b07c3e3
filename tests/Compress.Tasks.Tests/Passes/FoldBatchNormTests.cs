using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Passes;

using Graph = Compress.Tasks.Graph.Graph;

public class FoldBatchNormTests
{
    static readonly FoldBatchNorm Pass = new();

    /// <summary>BN parameters for <paramref name="c"/> channels, with a positive variance.</summary>
    static GraphBuilder Bn(GraphBuilder b, int c, string x, string y, float epsilon = 1e-3f)
    {
        var rng = new Random(c);
        float[] R(double lo, double hi) => Enumerable.Range(0, c).Select(_ => (float)(lo + rng.NextDouble() * (hi - lo))).ToArray();
        return b.Init("gamma", R(0.5, 2), c).Init("beta", R(-1, 1), c).Init("mean", R(-0.5, 0.5), c).Init("var", R(0.1, 3), c)
            .Named("bn", "BatchNormalization", [x, "gamma", "beta", "mean", "var"], [y], A("epsilon", epsilon));
    }

    static float[] Input(int n, int seed = 7)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    static void SameResults(Graph before, Graph after, long[] dims, double tolerance = 1e-5)
    {
        var x = Input((int)dims.Aggregate(1L, (a, d) => a * d));
        GraphAssert.MaxAbsDiff(ReferenceInterpreter.RunOne(before, x, dims), ReferenceInterpreter.RunOne(after, x, dims), tolerance);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Folds_into_Conv_with_or_without_bias(bool withBias)
    {
        var b = new GraphBuilder().Input("x", 1, 3, 6, 6).Random("w", 1, 4, 3, 3, 3);
        if (withBias) b.Random("cb", 2, 4);
        b.Named("conv", "Conv", withBias ? ["x", "w", "cb"] : ["x", "w"], ["c"], A("pads", 1, 1, 1, 1));
        var g = Bn(b, 4, "c", "y").Output("y").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);

        Assert.Equal(["Conv"], r.Nodes.Select(n => n.OpType));
        var conv = r.Nodes[0];
        Assert.Equal("conv", conv.Name);
        Assert.Equal(["y"], conv.Outputs.ToArray());
        Assert.Equal(3, conv.Inputs.Length);
        Assert.Equal("w_bnfold", conv.Inputs[1]);
        Assert.Equal(withBias ? "cb_bnfold" : "w_bnfold_bias", conv.Inputs[2]);
        Assert.Equal(new[] { "w_bnfold", conv.Inputs[2] }.Order(StringComparer.Ordinal), r.Initializers.Keys.Order(StringComparer.Ordinal));
        Assert.Contains(log.For("FoldBatchNorm"), e => e.Node == "bn" && e.Message.StartsWith("folded into Conv 'conv'"));
        SameResults(g, r, [1, 3, 6, 6]);
    }

    [Fact]
    public void Never_mutates_existing_tensors()
    {
        var g = Bn(new GraphBuilder().Input("x", 1, 2, 4, 4).Random("w", 1, 2, 2, 1, 1).Node("Conv", ["x", "w"], ["c"]), 2, "c", "y").Output("y").Build();
        var copy = g.Initializers.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Floats.Clone());
        var r = Pass.Run(g, new PassLog());
        foreach (var (name, data) in copy) Assert.Equal(data, g.Initializers[name].Floats);
        Assert.NotSame(g.Initializers["w"].Data, r.Initializers["w_bnfold"].Data);
    }

    [Fact]
    public void Folds_into_depthwise_Conv()
    {
        var g = Bn(new GraphBuilder().Input("x", 1, 4, 5, 5).Random("w", 1, 4, 1, 3, 3)
            .Node("Conv", ["x", "w"], ["c"], A("group", 4L), A("pads", 1, 1, 1, 1)), 4, "c", "y").Output("y").Build();
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["Conv"], r.Nodes.Select(n => n.OpType));
        SameResults(g, r, [1, 4, 5, 5]);
    }

    [Theory]
    [InlineData(1L, true, new long[] { 5 })]
    [InlineData(0L, true, new long[] { 5 })]
    [InlineData(1L, true, new long[] { 1, 5 })]
    [InlineData(0L, true, new long[] { 1 })]
    [InlineData(1L, false, new long[0])]
    public void Folds_into_Gemm_respecting_transB(long transB, bool withC, long[] cDims)
    {
        var b = new GraphBuilder().Input("x", 1, 6).Random("w", 1, transB == 1 ? new long[] { 5, 6 } : new long[] { 6, 5 });
        if (withC) b.Random("cc", 2, cDims);
        b.Named("fc", "Gemm", withC ? ["x", "w", "cc"] : ["x", "w"], ["h"], A("transB", transB), A("alpha", 0.5f), A("beta", 2f));
        var g = Bn(b, 5, "h", "y").Output("y").Build();
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["Gemm"], r.Nodes.Select(n => n.OpType));
        Assert.Equal(1f, r.Nodes[0].GetFloat("beta", 0));
        Assert.Equal(0.5f, r.Nodes[0].GetFloat("alpha", 0));
        Assert.Equal([5L], r.Initializers[r.Nodes[0].Inputs[2]].Dims.ToArray().TakeLast(1));
        SameResults(g, r, [1, 6]);
    }

    [Fact]
    public void Folds_into_MatMul_which_becomes_Gemm()
    {
        var g = Bn(new GraphBuilder().Input("x", 3, 6).Random("w", 1, 6, 5).Named("mm", "MatMul", ["x", "w"], ["h"]), 5, "h", "y").Output("y").Build();
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["Gemm"], r.Nodes.Select(n => n.OpType));
        Assert.Equal("mm", r.Nodes[0].Name);
        SameResults(g, r, [3, 6]);
    }

    [Fact]
    public void Keeps_BN_when_preconditions_fail()
    {
        void Kept(Graph g, string reason)
        {
            var log = new PassLog();
            var r = Pass.Run(g, log);
            Assert.Contains(r.Nodes, n => n.OpType == "BatchNormalization");
            Assert.Contains(log.For("FoldBatchNorm"), e => e.Message.StartsWith("kept") && e.Message.Contains(reason));
        }

        // Standalone: the input is a graph input.
        Kept(Bn(new GraphBuilder().Input("x", 1, 3, 4, 4), 3, "x", "y").Output("y").Build(), "not produced by a Conv");
        // The Conv output has another reader.
        Kept(Bn(new GraphBuilder().Input("x", 1, 3, 4, 4).Random("w", 1, 3, 3, 1, 1).Node("Conv", ["x", "w"], ["c"]).Node("Relu", ["c"], ["r"]), 3, "c", "y")
            .Output("y").Output("r").Build(), "also read");
        // The Conv output is a graph output.
        Kept(Bn(new GraphBuilder().Input("x", 1, 3, 4, 4).Random("w", 1, 3, 3, 1, 1).Node("Conv", ["x", "w"], ["c"]), 3, "c", "y")
            .Output("y").Output("c").Build(), "graph output");
        // After an activation.
        Kept(Bn(new GraphBuilder().Input("x", 1, 3, 4, 4).Node("Relu", ["x"], ["c"]), 3, "c", "y").Output("y").Build(), "not produced by a Conv");
        // Weights computed at run time.
        Kept(Bn(new GraphBuilder().Input("x", 1, 3, 4, 4).Input("w", 3, 3, 1, 1).Node("Conv", ["x", "w"], ["c"]), 3, "c", "y").Output("y").Build(), "weight is not a float constant");
        // MatMul with rank-3 input: BN normalizes axis 1, not the output features.
        Kept(Bn(new GraphBuilder().Input("x", 2, 5, 6).Random("w", 1, 6, 5).Node("MatMul", ["x", "w"], ["h"]), 5, "h", "y").Output("y").Build(), "only [M,K]");
        // Legacy spatial=0.
        var spatial = Bn(new GraphBuilder(7).Input("x", 1, 3, 4, 4).Random("w", 1, 3, 3, 1, 1).Node("Conv", ["x", "w"], ["c"]), 3, "c", "y").Output("y").Build();
        spatial = spatial with { Nodes = spatial.Nodes.SetItem(1, spatial.Nodes[1].WithAttribute("spatial", AttributeValue.Of(0L))) };
        Kept(spatial, "spatial=0");
    }

    [Fact]
    public void Legacy_attributes_is_test_and_spatial_1_fold()
    {
        var g = Bn(new GraphBuilder(7).Input("x", 1, 3, 4, 4).Random("w", 1, 3, 3, 1, 1).Node("Conv", ["x", "w"], ["c"]), 3, "c", "y").Output("y").Build();
        g = g with { Nodes = g.Nodes.SetItem(1, g.Nodes[1].WithAttribute("spatial", AttributeValue.Of(1L)).WithAttribute("is_test", AttributeValue.Of(1L))) };
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["Conv"], r.Nodes.Select(n => n.OpType));
        SameResults(g, r, [1, 3, 4, 4]);
    }
}
