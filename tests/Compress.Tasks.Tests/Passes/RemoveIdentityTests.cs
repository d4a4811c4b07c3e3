using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Passes;

public class RemoveIdentityTests
{
    static readonly RemoveIdentity Pass = new();

    [Fact]
    public void Rewires_consumers_to_the_input()
    {
        var g = new GraphBuilder().Input("x", 1, 4)
            .Node("Relu", ["x"], ["a"]).Node("Identity", ["a"], ["b"]).Node("Dropout", ["b"], ["c"])
            .Node("Sigmoid", ["c"], ["y"]).Node("Tanh", ["b"], ["z"]).Output("y").Output("z").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);
        Assert.Equal(["Relu", "Sigmoid", "Tanh"], r.Nodes.Select(n => n.OpType));
        Assert.Equal(["a"], r.Nodes[1].Inputs.ToArray());
        Assert.Equal(["a"], r.Nodes[2].Inputs.ToArray());
        Assert.Equal(2, log.For("RemoveIdentity").Count());
        Assert.Equal(5, g.Nodes.Length); // the input graph is untouched
    }

    [Fact]
    public void A_removed_graph_output_keeps_its_name()
    {
        var g = new GraphBuilder().Input("x", 1, 4)
            .Node("Relu", ["x"], ["a"]).Node("Tanh", ["a"], ["t"]).Node("Identity", ["a"], ["y"]).Node("Identity", ["y"], ["y2"])
            .Output("y").Output("t").Output("y2").Build();
        var r = Pass.Run(g, new PassLog());
        Assert.Equal(["y"], r.Nodes[0].Outputs.ToArray());  // Relu now writes the graph output directly
        Assert.Equal(["y"], r.Nodes[1].Inputs.ToArray());   // and its other reader follows the rename
        Assert.Equal(["Relu", "Tanh", "Identity"], r.Nodes.Select(n => n.OpType)); // y → y2 copies one output to another
        Assert.Equal(["y", "t", "y2"], r.Outputs.Select(o => o.Name));
        var x = new float[] { -1, 2, -3, 4 };
        var before = ReferenceInterpreter.Run(g, new Dictionary<string, Tensor> { ["x"] = Tensor.FromFloats("x", x, 1, 4) });
        var after = ReferenceInterpreter.Run(r, new Dictionary<string, Tensor> { ["x"] = Tensor.FromFloats("x", x, 1, 4) });
        foreach (var o in new[] { "y", "t", "y2" }) Assert.Equal(before[o].Floats, after[o].Floats);
    }

    [Fact]
    public void Keeps_what_cannot_go()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4)
            .Node("Identity", ["x"], ["y"])                                   // graph input → graph output
            .Node("Dropout", ["x"], ["d", "mask"]).Node("Cast", ["mask"], ["m"], A("to", (long)DataType.Float))
            .Input("mode", 1).Node("Dropout", ["x", "", "mode"], ["e"])         // run-time training_mode
            .Output("y").Output("d").Output("m").Output("e").Build();
        var log = new PassLog();
        var r = Pass.Run(g, log);
        Assert.Equal(g.Nodes.Length, r.Nodes.Length);
        var messages = log.Entries.Select(e => e.Message).ToList();
        Assert.Contains(messages, m => m.Contains("graph input 'x'"));
        Assert.Contains(messages, m => m.Contains("mask output 'mask' is used"));
        Assert.Contains(messages, m => m.Contains("training_mode"));
    }

    [Fact]
    public void Dropout_with_constant_false_training_mode_goes()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4).Ints("r", [0], 0)
            .Node("Relu", ["x"], ["a"]).Node("Dropout", ["a", "", "r"], ["b"]).Node("Tanh", ["b"], ["y"]).Output("y").Build();
        g = g with { Initializers = g.Initializers.SetItem("r", new Tensor("r", DataType.Bool, [], new byte[] { 0 })) };
        Assert.Equal(["Relu", "Tanh"], Pass.Run(g, new PassLog()).Nodes.Select(n => n.OpType));
    }
}
