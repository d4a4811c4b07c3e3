using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Passes;

public class PointwiseConvToGemmTests
{
    static readonly PointwiseConvToGemm Pass = new();

    static float[] Input(int n)
    {
        var rng = new Random(n);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_1x1_Conv_of_a_1x1_map_becomes_Flatten_Gemm_Unsqueeze(bool withBias)
    {
        var b = new GraphBuilder().Input("x", 1, 8, 1, 1).Random("w", 1, 32, 8, 1, 1);
        if (withBias) b.Random("cb", 2, 32);
        b.Named("/se/fc2/Conv", "Conv", withBias ? ["x", "w", "cb"] : ["x", "w"], ["y"]);
        var g = ShapeInference.Run(b.Output("y").Build());
        var log = new PassLog();
        var r = ShapeInference.Run(Pass.Run(g, log));

        Assert.Equal(["Flatten", "Gemm", "Unsqueeze"], r.Nodes.Select(n => n.OpType));
        var gemm = r.Nodes[1];
        Assert.Equal("/se/fc2/Conv", gemm.Name);
        Assert.Equal(1, gemm.GetInt("transB", 0));
        Assert.Equal([32L, 8], r.Constant(gemm.Input(1))!.Dims.ToArray());
        Assert.Equal(withBias, gemm.HasInput(2));
        Assert.Equal("/se/fc2/Flatten", r.Nodes[0].Name);
        Assert.False(r.IsConstant("w"), "the 4-D weight is no longer used");
        Assert.Equal([1L, 32, 1, 1], r.ShapeOf("y").ToArray());
        Assert.Contains(log.For("PointwiseConvToGemm"), e => e.Node == "/se/fc2/Conv");
        var x = Input(8);
        GraphAssert.MaxAbsDiff(ReferenceInterpreter.RunOne(g, x, [1, 8, 1, 1]), ReferenceInterpreter.RunOne(r, x, [1, 8, 1, 1]), 1e-5);
    }

    [Fact]
    public void A_fused_activation_moves_to_the_Gemm()
    {
        var g = new GraphBuilder().Input("x", 1, 8, 1, 1).Random("w", 1, 32, 8, 1, 1).Random("cb", 2, 32)
            .Named("/se/fc2/Conv", "Conv", ["x", "w", "cb"], ["c"]).Node("Sigmoid", ["c"], ["y"]).Output("y").Build();
        g = CanonicalPipeline.Run(g, new PassLog()); // FuseActivation puts the Sigmoid on the Conv
        Assert.Equal(["Conv"], g.Nodes.Select(n => n.OpType));
        var r = ShapeInference.Run(Pass.Run(g, new PassLog()));
        Assert.Equal(["Flatten", "Gemm", "Unsqueeze"], r.Nodes.Select(n => n.OpType));
        Assert.Equal("Sigmoid", FusedActivationAttributes.Read(r.Nodes[1])!.Value.OpType);
        var x = Input(8);
        GraphAssert.MaxAbsDiff(ReferenceInterpreter.RunOne(g, x, [1, 8, 1, 1]), ReferenceInterpreter.RunOne(r, x, [1, 8, 1, 1]), 1e-5);
    }

    [Fact]
    public void Leaves_other_Convs_alone()
    {
        var g = ShapeInference.Run(new GraphBuilder().Input("x", 1, 8, 2, 2).Random("w", 1, 4, 8, 1, 1).Random("w3", 2, 4, 4, 3, 3)
            .Node("Conv", ["x", "w"], ["a"])                                   // 1×1 kernel, but a 2×2 map
            .Node("Conv", ["a", "w3"], ["y"], A("pads", 1, 1, 1, 1))           // 3×3 kernel
            .Output("y").Build());
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["Conv", "Conv"], r.Nodes.Select(n => n.OpType));
    }
}
