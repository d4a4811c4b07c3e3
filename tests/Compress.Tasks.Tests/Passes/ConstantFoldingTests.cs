using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Passes;

public class ConstantFoldingTests
{
    static readonly ConstantFolding Pass = new();

    [Fact]
    public void Constant_nodes_become_initializers_and_Unsqueeze_axes_fold()
    {
        var g = new GraphBuilder(13).Input("x", -1, 16)
            .Node("Constant", [], ["axes"], ("value", AttributeValue.Of(Tensor.FromInt64s("", [-1], 1))))
            .Node("Unsqueeze", ["x", "axes"], ["y"]).Output("y").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);
        Assert.Equal(["Unsqueeze"], r.Nodes.Select(n => n.OpType));
        Assert.Equal([-1L], r.Initializers["axes"].Int64s);
        Assert.Contains(log.Entries, e => e.Message.Contains("Constant became the initializer 'axes'"));
    }

    [Fact]
    public void Shape_chains_fold_into_a_constant_reshape_target()
    {
        var g = new GraphBuilder(13).Input("x", 1, 32, 4, 4)
            .Node("Shape", ["x"], ["s"])
            .Ints("zero", [0]).Node("Gather", ["s", "zero"], ["n"], A("axis", 0L))
            .Ints("axes0", [0], 1).Node("Unsqueeze", ["n", "axes0"], ["n1"])
            .Ints("minus1", [-1], 1).Node("Concat", ["n1", "minus1"], ["target"], A("axis", 0L))
            .Node("Reshape", ["x", "target"], ["y"]).Output("y").Build();
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["Reshape"], r.Nodes.Select(n => n.OpType));
        Assert.Equal([1L, -1], r.Initializers["target"].Int64s);
        Assert.Equal(["target"], r.Initializers.Keys); // zero, axes0, minus1 are no longer used
    }

    [Fact]
    public void Shape_of_a_symbolic_batch_stays()
    {
        var g = new GraphBuilder(13).Input("x", -1, 8).Node("Shape", ["x"], ["s"]).Node("Cast", ["s"], ["y"], A("to", (long)DataType.Float))
            .Output("y").Build();
        var log = new PassLog();
        Assert.Equal(2, Pass.Run(g, log).Nodes.Length);
        Assert.Contains(log.Entries, e => e.Message.Contains("not fully known"));
    }

    [Fact]
    public void Evaluates_each_foldable_op()
    {
        var g = new GraphBuilder(13).Input("x", 2, 3)
            .Init("a", [1, 2, 3, 4, 5, 6], 2, 3).Init("b", [10, 20, 30], 3)
            .Node("Add", ["a", "b"], ["add"]).Node("Sub", ["a", "b"], ["sub"]).Node("Mul", ["a", "b"], ["mul"]).Node("Div", ["a", "b"], ["div"])
            .Node("Transpose", ["a"], ["t"])
            .Node("Cast", ["a"], ["i"], A("to", (long)DataType.Int64))
            .Ints("idx", [2, 0], 2).Node("Gather", ["a", "idx"], ["g"], A("axis", 1L))
            .Node("Concat", ["a", "a"], ["cat"], A("axis", 1L))
            .Node("Flatten", ["a"], ["flat"], A("axis", 0L))
            .Ints("sq", [0], 1).Node("Unsqueeze", ["a", "sq"], ["u"]).Node("Squeeze", ["u", "sq"], ["s"])
            .Node("Identity", ["a"], ["id"])
            .Ints("li", [7, -8], 2).Ints("lj", [2]).Node("Div", ["li", "lj"], ["ldiv"])
            .Node("Add", ["x", "add"], ["y"]).Output("y").Build();
        // Keep every folded value alive by feeding it to a consumer that does not fold.
        foreach (var v in new[] { "sub", "mul", "div", "t", "i", "g", "cat", "flat", "s", "id", "ldiv" })
            g = g with { Nodes = g.Nodes.Add(Node.Create($"use_{v}", "Relu", [v], [$"use_{v}"])), Outputs = g.Outputs.Add(new ValueInfo($"use_{v}", DataType.Undefined, null)) };
        g = g with { Inputs = g.Inputs.Add(new ValueInfo("unused", DataType.Float, Shape.Of(1))) };

        var r = Pass.Run(g, new PassLog());
        Assert.All(r.Nodes, n => Assert.True(n.OpType is "Relu" || n.Output0 == "y", n.OpType));
        var c = r.Initializers;
        Assert.Equal([11f, 22, 33, 14, 25, 36], c["add"].Floats);
        Assert.Equal([-9f, -18, -27, -6, -15, -24], c["sub"].Floats);
        Assert.Equal([10f, 40, 90, 40, 100, 180], c["mul"].Floats);
        Assert.Equal([0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f], c["div"].Floats);
        Assert.Equal([1f, 4, 2, 5, 3, 6], c["t"].Floats);
        Assert.Equal([3L, 2], c["t"].Dims.ToArray());
        Assert.Equal([1L, 2, 3, 4, 5, 6], c["i"].Int64s);
        Assert.Equal([3f, 1, 6, 4], c["g"].Floats);
        Assert.Equal([1f, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6], c["cat"].Floats);
        Assert.Equal([2L, 6], c["cat"].Dims.ToArray());
        Assert.Equal([1L, 6], c["flat"].Dims.ToArray());
        Assert.Equal([2L, 3], c["s"].Dims.ToArray());
        Assert.Equal([1f, 2, 3, 4, 5, 6], c["id"].Floats);
        Assert.Equal([3L, -4], c["ldiv"].Int64s); // integer division truncates
        Assert.DoesNotContain("a", c.Keys);       // nothing reads the sources any more
        Assert.DoesNotContain("b", c.Keys);
    }

    [Fact]
    public void Graph_outputs_are_not_folded_and_integer_division_by_zero_is_left_alone()
    {
        var g = new GraphBuilder(13).Input("x", 1).Ints("a", [1], 1).Ints("z", [0], 1)
            .Node("Identity", ["a"], ["y"]).Node("Div", ["a", "z"], ["d"]).Node("Cast", ["d"], ["df"], A("to", (long)DataType.Float))
            .Node("Add", ["x", "df"], ["w"]).Output("y").Output("w").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);
        Assert.Equal(["Identity", "Div", "Cast", "Add"], r.Nodes.Select(n => n.OpType));
        Assert.Contains(log.Entries, e => e.Message.Contains("graph output"));
        Assert.Contains(log.Entries, e => e.Message.Contains("divides an integer by zero"));
    }
}
