using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Quantization;

/// <summary>Raising the opset for the QDQ export keeps each node's meaning.</summary>
public class OpsetUpgradeTests
{
    [Fact]
    public void Attributes_that_became_inputs_move_to_constant_inputs()
    {
        var g = ShapeInference.Run(new GraphBuilder(opset: 9).Input("x", 1, 4)
            .Named("clip", "Clip", ["x"], ["c"], A("min", 0f), A("max", 6f))
            .Named("unsq", "Unsqueeze", ["c"], ["u"], A("axes", new long[] { 0 }))
            .Named("sq", "Squeeze", ["u"], ["s"], A("axes", new long[] { 0 }))
            .Output("s").Build());
        var up = OpsetUpgrade.AtLeast(g, 13);

        Assert.Equal(13, up.Info.DefaultOpset);
        Assert.True(up.Info.IrVersion >= 7);
        var clip = up.Nodes[0];
        Assert.Empty(clip.Attributes);
        Assert.Equal([0f], up.Constant(clip.Inputs[1])!.Floats);
        Assert.Equal([6f], up.Constant(clip.Inputs[2])!.Floats);
        Assert.All(up.Nodes.Skip(1), n =>
        {
            Assert.False(n.Attributes.ContainsKey("axes"));
            Assert.Equal([0L], up.Constant(n.Inputs[1])!.Int64s);
        });
        // Same values as before, run by ONNX Runtime at both opsets.
        using var dir = TestFiles.TempFolder();
        OnnxModelWriter.Write(g, dir.File("old.onnx"));
        OnnxModelWriter.Write(up, dir.File("new.onnx"));
        float[] x = [-1f, 2f, 7f, 0.5f];
        Assert.Equal(Run(dir.File("old.onnx"), x), Run(dir.File("new.onnx"), x));
    }

    [Fact]
    public void Softmax_over_the_last_axis_keeps_its_meaning_and_other_axes_are_refused()
    {
        var last = ShapeInference.Run(new GraphBuilder(opset: 11).Input("x", 2, 5).Named("sm", "Softmax", ["x"], ["y"]).Output("y").Build());
        Assert.Equal(1L, OpsetUpgrade.AtLeast(last, 13).Nodes[0].GetInt("axis", -1));

        var coerced = ShapeInference.Run(new GraphBuilder(opset: 11).Input("x", 2, 3, 4).Named("sm", "Softmax", ["x"], ["y"]).Output("y").Build());
        var e = Assert.Throws<CompressException>(() => OpsetUpgrade.AtLeast(coerced, 13));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("'sm'", e.Message);
    }

    [Fact]
    public void A_graph_at_the_opset_already_is_returned_unchanged()
    {
        var g = new GraphBuilder(opset: 13).Input("x", 1, 4).Named("r", "Relu", ["x"], ["y"]).Output("y").Build();
        Assert.Same(g, OpsetUpgrade.AtLeast(g, 13));
    }

    static float[] Run(string path, float[] x)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        using var r = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, [1, 4]))]);
        return r.First().AsEnumerable<float>().ToArray();
    }
}
