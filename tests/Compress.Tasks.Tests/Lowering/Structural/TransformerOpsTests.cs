using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

/// <summary>LayerNormalization (the op and the fused decomposition) and MatMul of two activations, against ONNX Runtime.</summary>
public class LayerNormalizationTests
{
    [Theory]
    [InlineData(-1L, true)]
    [InlineData(-1L, false)]
    [InlineData(1L, true)]
    public void Opset_17_op_matches_onnxruntime(long axis, bool withBias)
    {
        long[] normalised = axis == -1 ? [24] : [5, 24];
        var b = new GraphBuilder(17).Input("x", 1, 5, 24).Random("gamma", 2, normalised);
        if (withBias) b.Random("beta", 3, normalised);
        var lowered = OrtCheck.Matches(b.Node("LayerNormalization", withBias ? ["x", "gamma", "beta"] : ["x", "gamma"], ["y"], A("axis", axis), A("epsilon", 1e-3f))
            .Output("y", DataType.Float).Build());
        Assert.Equal(PlanCalls.LayerNorm, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Theory]
    [InlineData(-1L, true, true)]
    [InlineData(1L, true, false)]
    [InlineData(-1L, false, true)]
    [InlineData(0L, true, true)]
    public void Mean_and_inv_std_dev_outputs_match_onnxruntime(long axis, bool mean, bool invStdDev)
    {
        long[] normalised = axis switch { -1 => [24], 1 => [5, 24], _ => [2, 5, 24] };
        var b = new GraphBuilder(17).Input("x", 2, 5, 24).Random("gamma", 2, normalised).Random("beta", 3, normalised)
            .Node("LayerNormalization", ["x", "gamma", "beta"], ["y", "mean", "inv"], A("axis", axis), A("epsilon", 1e-3f))
            .Output("y", DataType.Float);
        if (mean) b.Output("mean", DataType.Float);                                              // a graph output
        if (invStdDev) b.Node("Mul", ["inv", "inv"], ["inv2"]).Output("inv2", DataType.Float);   // read by a later node
        var lowered = OrtCheck.Matches(b.Build());
        var step = Assert.Single(lowered.Plan.Steps, s => s.Call == PlanCalls.LayerNorm);
        Assert.Equal(mean, step.Comment.Contains("Mean"));
        Assert.Equal(invStdDev, step.Comment.Contains("InvStdDev"));
    }

    /// <summary>What torch.onnx (opset &lt; 17) writes for nn.LayerNorm: ε and the exponent as Constant nodes.</summary>
    static GraphBuilder Decomposed(long opset, bool mulSquare, bool affine, long[] axes)
    {
        var b = new GraphBuilder(opset).Input("x", 1, 6, 16).Random("W", 4, 16, 16).Random("gamma", 2, 16).Random("beta", 3, 16)
            .Node("MatMul", ["x", "W"], ["h"]);
        (string, AttributeValue)[] Reduce() => opset < 18 ? [A("axes", axes), A("keepdims", 1L)] : [A("keepdims", 1L)];
        string[] In(string v) => opset < 18 ? [v] : [v, "axes"];
        if (opset >= 18) b.Ints("axes", axes, axes.Length);
        b.Named("mean", "ReduceMean", In("h"), ["mu"], Reduce())
            .Named("sub", "Sub", ["h", "mu"], ["d"]);
        if (mulSquare) b.Named("sq", "Mul", ["d", "d"], ["d2"]);
        else b.Named("two", "Constant", [], ["2"], ("value", AttributeValue.Of(Tensor.FromFloats("", [2f])))).Named("sq", "Pow", ["d", "2"], ["d2"]);
        b.Named("var", "ReduceMean", In("d2"), ["v"], Reduce())
            .Named("eps", "Constant", [], ["e"], ("value", AttributeValue.Of(Tensor.FromFloats("", [1e-5f]))))
            .Named("addeps", "Add", ["v", "e"], ["ve"])
            .Named("sqrt", "Sqrt", ["ve"], ["s"])
            .Named("div", "Div", ["d", "s"], [affine ? "n" : "y"]);
        if (affine) b.Named("scale", "Mul", ["n", "gamma"], ["m"]).Named("shift", "Add", ["m", "beta"], ["y"]);
        return b.Output("y", DataType.Float);
    }

    [Theory]
    [InlineData(13, false, true, new long[] { -1 })]
    [InlineData(13, true, true, new long[] { 2 })]
    [InlineData(11, false, false, new long[] { -1 })]
    [InlineData(18, false, true, new long[] { -1 })]
    public void Decomposed_form_fuses_into_one_kernel_and_matches_onnxruntime(long opset, bool mulSquare, bool affine, long[] axes)
    {
        var g = Decomposed(opset, mulSquare, affine, axes).Build();
        var log = new PassLog();
        var canonical = CanonicalPipeline.Run(g, log);
        Assert.Equal(["MatMul", "LayerNormalization"], canonical.Nodes.Select(n => n.OpType));
        Assert.Single(log.For("FuseLayerNorm"), e => e.Message.Contains("fused into LayerNormalization"));
        var lowered = OrtCheck.Matches(g, 2e-4f);
        Assert.Single(lowered.Plan.Steps, s => s.Call == PlanCalls.LayerNorm);
    }

    [Fact]
    public void Different_axes_are_not_fused_and_say_why()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4, 8)
            .Named("mean", "ReduceMean", ["x"], ["mu"], A("axes", new long[] { -1 }))
            .Named("sub", "Sub", ["x", "mu"], ["d"]).Named("sq", "Mul", ["d", "d"], ["d2"])
            .Named("var", "ReduceMean", ["d2"], ["v"], A("axes", -2L, -1L)).Init("e", [1e-5f])
            .Named("addeps", "Add", ["v", "e"], ["ve"]).Named("sqrt", "Sqrt", ["ve"], ["s"]).Named("div", "Div", ["d", "s"], ["y"])
            .Output("y", DataType.Float).Build();
        var log = new PassLog();
        var fused = new FuseLayerNorm().Run(g, log);
        Assert.Same(g, fused);
        Assert.Contains(log.For("FuseLayerNorm"), e => e.Message.Contains("same constant axes"));
    }

    [Fact]
    public void The_exported_model_of_a_fused_graph_runs_in_onnxruntime_at_opset_17()
    {
        var g = Decomposed(13, false, true, [-1]).Build();
        var canonical = CanonicalPipeline.Run(g, new PassLog());
        var exported = Compress.Tasks.Onnx.OpsetUpgrade.ForExport(canonical);
        Assert.Equal(17, exported.Info.DefaultOpset);
        using var dir = TestFiles.TempFolder();
        Compress.Tasks.Onnx.OnnxModelWriter.Write(exported, dir.File("m.onnx"));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(dir.File("m.onnx"));
        Assert.Single(session.OutputMetadata);
    }
}

public class AttentionMatMulTests
{
    [Theory]
    [InlineData(new long[] { 1, 2, 5, 8 }, new long[] { 1, 2, 8, 5 })]   // Q·Kᵀ per head
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4, 6 })]            // B an activation of rank 2, shared
    [InlineData(new long[] { 4, 7 }, new long[] { 3, 7, 2 })]            // A shared across B's batch
    [InlineData(new long[] { 6 }, new long[] { 2, 6, 3 })]               // a vector times a batch
    [InlineData(new long[] { 1, 1, 17 }, new long[] { 1, 17, 33 })]      // one row: the GEMV path
    public void Two_activations_match_onnxruntime(long[] a, long[] b)
    {
        var g = new GraphBuilder(13).Input("a", a).Input("b", b).Node("MatMul", ["a", "b"], ["y"]).Output("y", DataType.Float).Build();
        var lowered = OrtCheck.Matches(g, 1e-4f);
        Assert.Equal(PlanCalls.BatchedMatMul, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void Scaled_dot_product_attention_matches_onnxruntime()
    {
        // softmax(Q·Kᵀ / √d)·V with Q, K, V from one input by constant projections, two heads.
        var g = new GraphBuilder(13).Input("x", 1, 5, 8).Random("Wq", 1, 8, 8).Random("Wk", 2, 8, 8).Random("Wv", 3, 8, 8)
            .Ints("heads", [1, 5, 2, 4], 4).Init("scale", [0.5f])
            .Node("MatMul", ["x", "Wq"], ["q0"]).Node("Reshape", ["q0", "heads"], ["q1"]).Node("Transpose", ["q1"], ["q"], A("perm", 0L, 2L, 1L, 3L))
            .Node("MatMul", ["x", "Wk"], ["k0"]).Node("Reshape", ["k0", "heads"], ["k1"]).Node("Transpose", ["k1"], ["kt"], A("perm", 0L, 2L, 3L, 1L))
            .Node("MatMul", ["x", "Wv"], ["v0"]).Node("Reshape", ["v0", "heads"], ["v1"]).Node("Transpose", ["v1"], ["v"], A("perm", 0L, 2L, 1L, 3L))
            .Node("MatMul", ["q", "kt"], ["s0"]).Node("Mul", ["s0", "scale"], ["s"]).Node("Softmax", ["s"], ["p"], A("axis", -1L))
            .Node("MatMul", ["p", "v"], ["y"]).Output("y", DataType.Float).Build();
        var lowered = OrtCheck.Matches(g, 1e-4f);
        Assert.Equal(2, lowered.Plan.Steps.Count(s => s.Call == PlanCalls.BatchedMatMul));
    }
}

public class LayoutTests
{
    /// <summary>A TensorFlow (tf2onnx) export keeps NHWC inputs and transposes to NCHW in front of the first Conv.</summary>
    [Fact]
    public void Nhwc_input_through_transpose_into_conv_matches_onnxruntime()
    {
        var g = new GraphBuilder(13).Input("image", 1, 9, 9, 3).Random("W", 1, 4, 3, 3, 3).Random("B", 2, 4)
            .Node("Transpose", ["image"], ["nchw"], A("perm", 0L, 3L, 1L, 2L))
            .Node("Conv", ["nchw", "W", "B"], ["c"], A("pads", 1L, 1L, 1L, 1L)).Node("Relu", ["c"], ["r"])
            .Node("Transpose", ["r"], ["y"], A("perm", 0L, 2L, 3L, 1L)).Output("y", DataType.Float).Build();
        var lowered = OrtCheck.Matches(g);
        Assert.Equal([PlanCalls.Permute, PlanCalls.Conv2d, PlanCalls.Permute], lowered.Plan.Steps.Select(s => s.Call).Where(c => c != PlanCalls.Activation));
    }
}

public class FuseLayerNormNearMissTests
{
    [Fact]
    public void A_centred_value_read_by_two_non_div_nodes_is_left_alone()
    {
        // x − mean feeds a Pow and a Mul (no Div): not a layer norm; the pass must say so, not throw.
        var g = new GraphBuilder(13).Input("x", 1, 4, 8).Init("two", [2f]).Init("k", [3f])
            .Named("mean", "ReduceMean", ["x"], ["mu"], A("axes", new long[] { -1 }))
            .Named("sub", "Sub", ["x", "mu"], ["d"]).Named("sq", "Pow", ["d", "two"], ["d2"]).Named("scaled", "Mul", ["d", "k"], ["d3"])
            .Named("sum", "Add", ["d2", "d3"], ["y"]).Output("y", DataType.Float).Build();
        var log = new PassLog();
        Assert.Same(g, new FuseLayerNorm().Run(g, log));
        Assert.Contains(log.For("FuseLayerNorm"), e => e.Message.Contains("does not feed a square and a Div"));
    }
}
