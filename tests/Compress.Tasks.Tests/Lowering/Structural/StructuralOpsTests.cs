using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

/// <summary>Reduce*, Pad, Slice, Gather, Split, Expand: each op form end to end against ONNX Runtime.</summary>
public class ReduceOpsTests
{
    [Theory]
    [InlineData("ReduceMean", new long[] { -1 }, 1L, 13)]
    [InlineData("ReduceMean", new long[] { 1 }, 0L, 13)]
    [InlineData("ReduceMean", new long[] { 1, 3 }, 1L, 13)]
    [InlineData("ReduceSum", new long[] { 2, 3 }, 0L, 11)]
    [InlineData("ReduceMax", new long[] { 0, 2 }, 1L, 13)]
    [InlineData("ReduceMin", new long[] { 3 }, 1L, 13)]
    [InlineData("ReduceProd", new long[] { 1 }, 1L, 13)]
    [InlineData("ReduceMax", null, 0L, 13)]
    public void Attribute_axes_match_onnxruntime(string op, long[]? axes, long keepdims, long opset)
    {
        var b = new GraphBuilder(opset).Input("x", 2, 3, 4, 5);
        var attrs = new List<(string, AttributeValue)> { A("keepdims", keepdims) };
        if (axes is not null) attrs.Add(A("axes", axes));
        var lowered = OrtCheck.Matches(b.Node(op, ["x"], ["y"], [.. attrs]).Output("y", DataType.Float).Build());
        Assert.All(lowered.Plan.Steps, s => Assert.Equal(PlanCalls.Reduce, s.Call));
    }

    [Theory]
    [InlineData("ReduceSum", 13)]
    [InlineData("ReduceMean", 18)]
    [InlineData("ReduceMax", 18)]
    public void Input_axes_match_onnxruntime(string op, long opset)
    {
        var g = new GraphBuilder(opset).Input("x", 1, 6, 7).Ints("axes", [-1], 1)
            .Node(op, ["x", "axes"], ["y"]).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }

    [Fact]
    public void Empty_axes_with_noop_is_an_alias_and_without_reduces_everything()
    {
        var noop = new GraphBuilder(18).Input("x", 1, 3, 4).Ints("axes", [], 0).Node("Relu", ["x"], ["r"])
            .Node("ReduceMean", ["r", "axes"], ["y"], A("noop_with_empty_axes", 1L)).Output("y", DataType.Float).Build();
        Assert.DoesNotContain(OrtCheck.Matches(noop).Plan.Steps, s => s.Call == PlanCalls.Reduce);
        var all = new GraphBuilder(18).Input("x", 1, 3, 4).Node("ReduceSum", ["x"], ["y"], A("keepdims", 0L)).Output("y", DataType.Float).Build();
        OrtCheck.Matches(all);
    }
}

public class PadOpsTests
{
    [Theory]
    [InlineData("constant", new long[] { 0, 0, 1, 2, 0, 0, 3, 1 }, 13)]
    [InlineData("reflect", new long[] { 0, 0, 2, 1, 0, 0, 1, 2 }, 13)]
    [InlineData("edge", new long[] { 0, 1, 2, 0, 0, 0, 1, 3 }, 13)]
    [InlineData("constant", new long[] { 0, 0, -1, 1, 0, 0, 1, -2 }, 13)]
    [InlineData("constant", new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, 2)]
    [InlineData("reflect", new long[] { 0, 0, 1, 1, 0, 0, 1, 1 }, 2)]
    public void Pads_match_onnxruntime(string mode, long[] pads, long opset)
    {
        var b = new GraphBuilder(opset).Input("x", 1, 2, 5, 6);
        var g = opset < 11
            ? b.Node("Pad", ["x"], ["y"], A("mode", mode), A("pads", pads), A("value", 0.5f))
            : b.Ints("pads", pads, pads.Length).Init("value", [0.5f]).Node("Pad", ["x", "pads", "value"], ["y"], A("mode", mode));
        OrtCheck.Matches(g.Output("y", DataType.Float).Build());
    }

    [Fact]
    public void Zero_pads_are_an_alias()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4).Ints("pads", [0, 0, 0, 0], 4).Node("Relu", ["x"], ["r"])
            .Node("Pad", ["r", "pads"], ["y"]).Output("y", DataType.Float).Build();
        Assert.DoesNotContain(OrtCheck.Matches(g).Plan.Steps, s => s.Call == PlanCalls.GatherAxis);
    }
}

public class SliceOpsTests
{
    [Theory]
    [InlineData(new long[] { 1 }, new long[] { 4 }, new long[] { 3 }, new long[] { 1 })]
    [InlineData(new long[] { 0, -3 }, new long[] { 2, 100 }, new long[] { 1, 3 }, new long[] { 1, 1 })]
    [InlineData(new long[] { -1 }, new long[] { long.MinValue }, new long[] { 3 }, new long[] { -1 })]
    [InlineData(new long[] { 5, 0 }, new long[] { 0, 6 }, new long[] { 2, 3 }, new long[] { -2, 2 })]
    [InlineData(new long[] { 0 }, new long[] { 1 }, new long[] { 0 }, new long[] { 1 })]
    public void Input_form_matches_onnxruntime(long[] starts, long[] ends, long[] axes, long[] steps)
    {
        var g = new GraphBuilder(13).Input("x", 2, 3, 6, 7)
            .Ints("starts", starts, starts.Length).Ints("ends", ends, ends.Length).Ints("axes", axes, axes.Length).Ints("steps", steps, steps.Length)
            .Node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"]).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }

    [Fact]
    public void Opset_1_attribute_form_matches_onnxruntime()
    {
        var g = new GraphBuilder(9).Input("x", 1, 4, 5)
            .Node("Slice", ["x"], ["y"], A("starts", 1L, 1L), A("ends", 3L, -1L), A("axes", 1L, 2L)).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }
}

public class GatherSplitExpandTests
{
    [Theory]
    [InlineData(0, new long[] { 0 }, new long[] { 1 })]
    [InlineData(1, new long[] { 2, 0, -1 }, new long[] { 3 })]
    [InlineData(2, new long[] { 1, 1, 3, 0 }, new long[] { 2, 2 })]
    [InlineData(-1, new long[] { 4 }, new long[0])]
    public void Gather_with_constant_indices_matches_onnxruntime(long axis, long[] indices, long[] indicesDims)
    {
        var g = new GraphBuilder(13).Input("x", 1, 3, 4, 5).Ints("i", indices, indicesDims)
            .Node("Gather", ["x", "i"], ["y"], A("axis", axis)).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }

    [Theory]
    [InlineData(1, new long[] { 1, 3, 2 }, 13)]
    [InlineData(2, new long[] { 2, 3 }, 11)]
    [InlineData(-1, null, 13)]
    public void Split_matches_onnxruntime(long axis, long[]? split, long opset)
    {
        var b = new GraphBuilder(opset).Input("x", 1, 6, 5, 4);
        int outputs = split?.Length ?? 2;
        string[] names = Enumerable.Range(0, outputs).Select(i => $"y{i}").ToArray();
        if (split is null) b.Node("Split", ["x"], names, A("axis", axis));
        else if (opset < 13) b.Node("Split", ["x"], names, A("axis", axis), A("split", split));
        else b.Ints("split", split, split.Length).Node("Split", ["x", "split"], names, A("axis", axis));
        foreach (var n in names) b.Output(n, DataType.Float);
        OrtCheck.Matches(b.Build());
    }

    [Fact]
    public void Split_num_outputs_opset_18_matches_onnxruntime()
    {
        var b = new GraphBuilder(18).Input("x", 1, 7, 3).Node("Split", ["x"], ["a", "b", "c"], A("axis", 1L), A("num_outputs", 3L));
        OrtCheck.Matches(b.Output("a", DataType.Float).Output("b", DataType.Float).Output("c", DataType.Float).Build());
    }

    [Theory]
    [InlineData(new long[] { 1, 3, 1 }, new long[] { 2, 3, 4 })]
    [InlineData(new long[] { 3, 1 }, new long[] { 2, 1, 3, 5 })]
    [InlineData(new long[] { 1, 4 }, new long[] { 3, 1 })]
    public void Expand_matches_onnxruntime(long[] input, long[] shape)
    {
        var g = new GraphBuilder(13).Input("x", input).Ints("shape", shape, shape.Length)
            .Node("Expand", ["x", "shape"], ["y"]).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }
}

public class ShapeChainTests
{
    /// <summary>PyTorch's x.view(x.size(0), -1) and friends: Shape → Gather/Slice → Unsqueeze → Concat → Reshape folds to a constant.</summary>
    [Fact]
    public void Shape_gather_slice_concat_reshape_folds_at_build_time()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4, 3, 2).Random("W", 1, 6, 5)
            .Node("Shape", ["x"], ["s"])
            .Ints("i0", [0], []).Node("Gather", ["s", "i0"], ["n"], A("axis", 0L))
            .Ints("axes", [0], 1).Node("Unsqueeze", ["n", "axes"], ["n1"])
            .Ints("st", [1], 1).Ints("en", [2], 1).Node("Slice", ["s", "st", "en"], ["c"])
            .Ints("m1", [-1], 1)
            .Node("Concat", ["n1", "c", "m1"], ["shape"], A("axis", 0L))
            .Node("Reshape", ["x", "shape"], ["r"])
            .Node("MatMul", ["r", "W"], ["y"]).Output("y", DataType.Float).Build();
        var canonical = Compress.Tasks.Passes.CanonicalPipeline.Run(g, new Compress.Tasks.Passes.PassLog());
        Assert.Equal(["Reshape", "MatMul"], canonical.Nodes.Select(n => n.OpType));
        Assert.True(canonical.IsConstant(canonical.Nodes[0].Input(1)));
        OrtCheck.Matches(g);
    }

    [Fact]
    public void Slice_of_a_shape_with_a_symbolic_batch_keeps_the_symbol()
    {
        var g = new GraphBuilder(13).Input("x", -1, 4, 6)
            .Node("Shape", ["x"], ["s"])
            .Ints("st", [0], 1).Ints("en", [1], 1).Node("Slice", ["s", "st", "en"], ["n"])
            .Ints("rest", [24], 1).Node("Concat", ["n", "rest"], ["shape"], A("axis", 0L))
            .Node("Reshape", ["x", "shape"], ["y"]).Output("y", DataType.Float).Build();
        var inferred = ShapeInference.Run(g);
        Assert.Equal(ShapeOf(-1, 24), inferred.Outputs[0].Shape);
    }
}

public class StructuralErrorTests
{
    [Fact]
    public void Run_time_slice_bounds_are_cmp005()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4).InputOf("st", DataType.Int64, 1).Ints("en", [3], 1)
            .Node("Slice", ["x", "st", "en"], ["y"]).Output("y", DataType.Float).Build();
        var e = Assert.Throws<CompressException>(() => ShapeInference.Run(g));
        Assert.Equal(ErrorCodes.ShapeInference, e.Code);
        Assert.Contains("constant", e.Message);
    }

    [Fact]
    public void Wrap_pad_mode_is_cmp004()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4).Ints("pads", [0, 1, 0, 1], 4)
            .Node("Pad", ["x", "pads"], ["y"], A("mode", "wrap")).Output("y", DataType.Float).Build();
        Assert.Equal(ErrorCodes.UnsupportedOp, Assert.Throws<CompressException>(() => ShapeInference.Run(g)).Code);
    }
}
