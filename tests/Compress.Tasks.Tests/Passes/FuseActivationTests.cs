using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Passes;

using Graph = Compress.Tasks.Graph.Graph;

public class FuseActivationTests
{
    static readonly FuseActivation Pass = new();

    static GraphBuilder Gemm(long opset = 13) => new GraphBuilder(opset).Input("x", 1, 6).Random("w", 1, 5, 6).Random("b", 2, 5)
        .Named("fc", "Gemm", ["x", "w", "b"], ["h"], A("transB", 1L));

    static float[] X => [-2f, -0.5f, 0f, 0.7f, 1.9f, 3f];

    [Theory]
    [InlineData("Relu", 0f, 0f)]
    [InlineData("LeakyRelu", 0.01f, 0f)]
    [InlineData("Sigmoid", 0f, 0f)]
    [InlineData("HardSigmoid", 0.2f, 0.5f)]
    [InlineData("HardSwish", 0f, 0f)]
    [InlineData("Tanh", 0f, 0f)]
    [InlineData("Clip", float.NegativeInfinity, float.PositiveInfinity)]
    public void Fuses_each_activation_with_its_defaults(string op, float alpha, float beta)
    {
        var g = Gemm().Named("act", op, ["h"], ["y"]).Output("y").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);
        var fc = Assert.Single(r.Nodes);
        Assert.Equal(["y"], fc.Outputs.ToArray());
        Assert.Equal((op, alpha, beta), FusedActivationAttributes.Read(fc));
        Assert.Contains(log.Entries, e => e.Node == "act" && e.Message.Contains("fused into Gemm 'fc'"));
        Assert.Equal(ReferenceInterpreter.RunOne(g, X, 1, 6), ReferenceInterpreter.RunOne(r, X, 1, 6));
    }

    [Fact]
    public void Attribute_parameters_are_carried()
    {
        var g = Gemm().Node("LeakyRelu", ["h"], ["y"], A("alpha", 0.3f)).Output("y").Build();
        Assert.Equal(("LeakyRelu", 0.3f, 0f), FusedActivationAttributes.Read(Pass.Run(g, new PassLog()).Nodes[0]));
        g = Gemm().Node("HardSigmoid", ["h"], ["y"], A("alpha", 0.25f), A("beta", 0.4f)).Output("y").Build();
        Assert.Equal(("HardSigmoid", 0.25f, 0.4f), FusedActivationAttributes.Read(Pass.Run(g, new PassLog()).Nodes[0]));
    }

    [Fact]
    public void Clip_bounds_from_inputs_since_opset_11_and_attributes_before()
    {
        var g = Gemm(13).Init("lo", [0f]).Init("hi", [6f]).Node("Clip", ["h", "lo", "hi"], ["y"]).Output("y").Build();
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(("Clip", 0f, 6f), FusedActivationAttributes.Read(r.Nodes[0]));
        Assert.DoesNotContain("lo", r.Initializers.Keys); // the bounds are now attributes
        Assert.Equal(ReferenceInterpreter.RunOne(g, X, 1, 6), ReferenceInterpreter.RunOne(r, X, 1, 6));

        g = Gemm(13).Init("hi", [1f]).Node("Clip", ["h", "", "hi"], ["y"]).Output("y").Build();
        Assert.Equal(("Clip", float.NegativeInfinity, 1f), FusedActivationAttributes.Read(Pass.Run(g, new PassLog()).Nodes[0]));

        g = Gemm(6).Node("Clip", ["h"], ["y"], A("min", -1f), A("max", 1f)).Output("y").Build();
        Assert.Equal(("Clip", -1f, 1f), FusedActivationAttributes.Read(Pass.Run(g, new PassLog()).Nodes[0]));

        g = Gemm(13).Input("lo", 1).Node("Clip", ["h", "lo"], ["y"]).Output("y").Build();
        var log = new PassLog();
        Assert.Equal(2, Pass.Run(g, log).Nodes.Length);
        Assert.Contains(log.Entries, e => e.Message.Contains("computed at run time"));
    }

    [Fact]
    public void Fuses_into_every_producer_kind()
    {
        foreach (var producer in new[] { "Add", "Sub", "Mul", "Div" })
        {
            var g = new GraphBuilder().Input("a", 1, 4).Init("c", [1, 2, 3, 4], 4).Node(producer, ["a", "c"], ["h"]).Node("Relu", ["h"], ["y"]).Output("y").Build();
            var fused = Assert.Single(Pass.Run(g, new PassLog()).Nodes);
            Assert.Equal(producer, fused.OpType);
        }
        var conv = new GraphBuilder().Input("x", 1, 1, 4, 4).Random("w", 1, 2, 1, 3, 3).Node("Conv", ["x", "w"], ["h"]).Node("Relu", ["h"], ["y"]).Output("y").Build();
        Assert.Equal("Conv", Assert.Single(Pass.Run(conv, new PassLog()).Nodes).OpType);
        var bn = new GraphBuilder().Input("x", 1, 2, 3, 3).Init("s", [1, 2], 2).Init("b", [0, 1], 2).Init("m", [0, 0], 2).Init("v", [1, 1], 2)
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["h"]).Node("Relu", ["h"], ["y"]).Output("y").Build();
        Assert.Equal("BatchNormalization", Assert.Single(Pass.Run(bn, new PassLog()).Nodes).OpType);
    }

    [Fact]
    public void Respects_preconditions()
    {
        void Kept(Graph g, string reason)
        {
            var log = new PassLog();
            var r = Pass.Run(g, log);
            Assert.Equal(g.Nodes.Length, r.Nodes.Length);
            Assert.Contains(log.For("FuseActivation"), e => e.Message.StartsWith("kept") && e.Message.Contains(reason));
        }
        Kept(Gemm().Node("Relu", ["h"], ["y"]).Node("Tanh", ["h"], ["z"]).Output("y").Output("z").Build(), "2 readers");
        Kept(Gemm().Node("Relu", ["h"], ["y"]).Output("y").Output("h").Build(), "graph output");
        Kept(new GraphBuilder().Input("x", 1, 2, 4, 4).Node("MaxPool", ["x"], ["p"], A("kernel_shape", 2, 2)).Node("Relu", ["p"], ["y"]).Output("y").Build(), "no activation epilogue");
        Kept(new GraphBuilder().Input("x", 1, 4).Node("Relu", ["x"], ["y"]).Output("y").Build(), "graph input");
        Kept(new GraphBuilder().InputOf("a", DataType.Int64, 1, 4).Ints("c", [1, 2, 3, 4], 4).Node("Add", ["a", "c"], ["h"]).Node("Relu", ["h"], ["y"]).Output("y").Build(), "float only");
    }

    [Fact]
    public void A_second_activation_is_not_fused_into_an_already_fused_producer()
    {
        var g = Gemm().Named("r1", "Relu", ["h"], ["a"]).Named("r2", "Sigmoid", ["a"], ["y"]).Output("y").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);
        Assert.Equal(["Gemm", "Sigmoid"], r.Nodes.Select(n => n.OpType));
        Assert.Equal("Relu", FusedActivationAttributes.Read(r.Nodes[0])!.Value.OpType);
        Assert.Contains(log.Entries, e => e.Node == "r2" && e.Message.Contains("already applies Relu"));
        Assert.Equal(ReferenceInterpreter.RunOne(g, X, 1, 6), ReferenceInterpreter.RunOne(r, X, 1, 6));
    }
}
