using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

/// <summary>Older opsets' attribute forms of the supported ops, end to end against ONNX Runtime, and their upgrade.</summary>
public class OpsetFormTests
{
    [Fact]
    public void Clip_attributes_at_opset_6_and_inputs_at_opset_12_match_onnxruntime()
    {
        OrtCheck.Matches(new GraphBuilder(6).Input("x", 1, 20).Node("Clip", ["x"], ["y"], A("min", -0.25f), A("max", 0.5f)).Output("y", DataType.Float).Build());
        OrtCheck.Matches(new GraphBuilder(12).Input("x", 1, 20).Init("lo", [-0.25f]).Init("hi", [0.5f])
            .Node("Clip", ["x", "lo", "hi"], ["y"]).Output("y", DataType.Float).Build());
    }

    static Compress.Tasks.Graph.Graph BatchNorm(long opset, params (string, AttributeValue)[] legacy) =>
        new GraphBuilder(opset).Input("x", 1, 3, 4, 4).Random("s", 1, 3).Random("b", 2, 3).Random("m", 3, 3).Init("v", [0.5f, 1f, 2f], 3)
            .Node("Relu", ["x"], ["r"])
            .Node("BatchNormalization", ["r", "s", "b", "m", "v"], ["y"], [A("epsilon", 1e-3f), .. legacy]).Output("y", DataType.Float).Build();

    [Fact]
    public void BatchNormalization_legacy_attributes_compile_to_the_plan_onnxruntime_checks()
    {
        // Opset 7 (spatial) runs in ONNX Runtime; opset 6 (is_test, consumed_inputs) does not, so it must give the same plan.
        var v7 = OrtCheck.Matches(BatchNorm(7, A("spatial", 1L)));
        var canonical6 = Compress.Tasks.Passes.CanonicalPipeline.Run(BatchNorm(6, A("is_test", 1L), A("consumed_inputs", new long[] { 0, 0, 0, 1, 1 }), A("spatial", 1L)), new Compress.Tasks.Passes.PassLog());
        Assert.Equal(v7.Plan.Steps, Harness.Lower(canonical6).Plan.Steps);
    }

    [Fact]
    public void Squeeze_unsqueeze_axes_attributes_and_softmax_at_opset_11_match_onnxruntime()
    {
        var g = new GraphBuilder(11).Input("x", 1, 1, 6)
            .Node("Squeeze", ["x"], ["s"], A("axes", new long[] { 1 })).Node("Softmax", ["s"], ["p"], A("axis", 1L))
            .Node("Unsqueeze", ["p"], ["y"], A("axes", new long[] { 0 })).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }

    [Fact]
    public void Upgrade_moves_pad_slice_split_and_reduce_attributes_to_inputs_and_keeps_the_meaning()
    {
        var g = ShapeInference.Run(new GraphBuilder(9).Input("x", 1, 4, 6)
            .Named("pad", "Pad", ["x"], ["p"], A("pads", 0L, 1L, 0L, 0L, 1L, 2L), A("value", 0.5f))
            .Named("slice", "Slice", ["p"], ["s"], A("starts", new long[] { 1 }), A("ends", new long[] { 5 }), A("axes", new long[] { 2 }))
            .Named("split", "Split", ["s"], ["a", "b"], A("axis", 1L), A("split", 2L, 4L))
            .Named("sum", "ReduceSum", ["a"], ["r1"], A("axes", new long[] { -1 }))
            .Named("mean", "ReduceMean", ["b"], ["r2"], A("axes", new long[] { 1 }), A("keepdims", 0L))
            .Output("r1", DataType.Float).Output("r2", DataType.Float).Build());
        var up = OpsetUpgrade.AtLeast(g, 18);
        Assert.All(up.Nodes, n => Assert.DoesNotContain(n.Attributes.Keys, k => k is "pads" or "value" or "starts" or "ends" or "axes" or "split"));
        Assert.Equal([0.5f], up.Constant(up.Nodes[0].Input(2))!.Floats);

        using var dir = TestFiles.TempFolder();
        OnnxModelWriter.Write(g, dir.File("old.onnx"));
        OnnxModelWriter.Write(up, dir.File("new.onnx"));
        float[] x = Harness.Random(24, 3);
        Assert.Equal(Run(dir.File("old.onnx"), x), Run(dir.File("new.onnx"), x));
        // And both compile to what ONNX Runtime computes.
        OrtCheck.Matches(g);
        OrtCheck.Matches(up);
    }

    [Fact]
    public void Standalone_batchnorm_with_spatial_0_is_refused()
    {
        var g = new GraphBuilder(7).Input("x", 1, 2, 1, 1).Random("s", 1, 2).Random("b", 2, 2).Random("m", 3, 2).Init("v", [1f, 1f], 2)
            .Node("Relu", ["x"], ["r"]).Node("BatchNormalization", ["r", "s", "b", "m", "v"], ["y"], A("spatial", 0L)).Output("y", DataType.Float).Build();
        var canonical = Compress.Tasks.Passes.CanonicalPipeline.Run(g, new Compress.Tasks.Passes.PassLog());
        Assert.Equal(ErrorCodes.UnsupportedOp, Assert.Throws<CompressException>(() => Harness.Lower(canonical)).Code);
    }

    static float[][] Run(string path, float[] x)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        using var r = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, [1, 4, 6]))]);
        return r.Select(v => v.AsEnumerable<float>().ToArray()).ToArray();
    }
}
