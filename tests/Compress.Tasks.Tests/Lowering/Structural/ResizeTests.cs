using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

/// <summary>Resize, nearest and linear, every supported coordinate and nearest mode, against ONNX Runtime.</summary>
public class ResizeTests
{
    [Theory]
    [InlineData("nearest", "half_pixel", "round_prefer_floor", new float[] { 1, 1, 2, 2 }, null)]
    [InlineData("nearest", "asymmetric", "floor", new float[] { 1, 1, 2, 3 }, null)]
    [InlineData("nearest", "half_pixel", "round_prefer_ceil", new float[] { 1, 1, 0.5f, 0.5f }, null)]
    [InlineData("nearest", "align_corners", "ceil", null, new long[] { 1, 2, 7, 5 })]
    [InlineData("nearest", "pytorch_half_pixel", "round_prefer_floor", null, new long[] { 1, 2, 3, 9 })]
    [InlineData("linear", "half_pixel", "round_prefer_floor", null, new long[] { 1, 2, 7, 5 })]
    [InlineData("linear", "half_pixel", "round_prefer_floor", new float[] { 1, 1, 2, 2 }, null)]
    [InlineData("linear", "align_corners", "round_prefer_floor", new float[] { 1, 1, 2, 2 }, null)]
    [InlineData("linear", "pytorch_half_pixel", "round_prefer_floor", null, new long[] { 1, 2, 1, 9 })]
    [InlineData("linear", "asymmetric", "round_prefer_floor", new float[] { 1, 1, 1.5f, 0.5f }, null)]
    public void Opset_13_matches_onnxruntime(string mode, string coordinate, string nearest, float[]? scales, long[]? sizes)
    {
        var b = new GraphBuilder(13).Input("x", 1, 2, 4, 6);
        (string, AttributeValue)[] attrs = [A("mode", mode), A("coordinate_transformation_mode", coordinate), A("nearest_mode", nearest)];
        if (scales is not null) b.Init("scales", scales, 4).Node("Resize", ["x", "", "scales"], ["y"], attrs);
        else b.Ints("sizes", sizes!, 4).Node("Resize", ["x", "", "", "sizes"], ["y"], attrs);
        var lowered = OrtCheck.Matches(b.Output("y", DataType.Float).Build(), 1e-5f);
        Assert.All(lowered.Plan.Steps, s => Assert.Contains(s.Call, new[] { PlanCalls.GatherAxis, PlanCalls.ResizeLinear }));
    }

    [Theory]
    [InlineData("nearest")]
    [InlineData("linear")]
    public void Opset_10_and_11_forms_match_onnxruntime(string mode)
    {
        OrtCheck.Matches(new GraphBuilder(10).Input("x", 1, 3, 3, 5).Init("scales", [1, 1, 2, 1.5f], 4)
            .Node("Resize", ["x", "scales"], ["y"], A("mode", mode)).Output("y", DataType.Float).Build(), 1e-5f);
        OrtCheck.Matches(new GraphBuilder(11).Input("x", 1, 3, 3, 5).Init("roi", [], 0).Init("scales", [1, 1, 2, 2], 4)
            .Node("Resize", ["x", "roi", "scales"], ["y"], A("mode", mode)).Output("y", DataType.Float).Build(), 1e-5f);
    }

    [Fact]
    public void Resize_into_conv_the_upsampling_path_of_a_unet_matches_onnxruntime()
    {
        var g = new GraphBuilder(13).Input("x", 1, 4, 5, 5).Init("scales", [1, 1, 2, 2], 4).Random("W", 1, 3, 4, 3, 3)
            .Node("Resize", ["x", "", "scales"], ["u"], A("mode", "nearest"))
            .Node("Conv", ["u", "W"], ["y"], A("pads", 1L, 1L, 1L, 1L)).Output("y", DataType.Float).Build();
        OrtCheck.Matches(g);
    }

    [Fact]
    public void Align_corners_with_a_scale_that_gives_a_fractional_size_is_cmp004()
    {
        // 4·0.6 = 2.4: the ONNX reference maps x by 3/(2.4 − 1) (test_resize_downsample_scales_linear_align_corners
        // expects 3.142857), ONNX Runtime by 3/(2 − 1) (gives 4); Compress refuses rather than pick one.
        var g = new GraphBuilder(13).Input("x", 1, 1, 2, 4).Init("scales", [1, 1, 0.5f, 0.6f], 4)
            .Node("Resize", ["x", "", "scales"], ["y"], A("mode", "linear"), A("coordinate_transformation_mode", "align_corners"))
            .Output("y", DataType.Float).Build();
        var e = Assert.Throws<Diagnostics.CompressException>(() => ShapeInference.Run(g));
        Assert.Equal(Diagnostics.ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("2.4", e.Message);
    }

    [Fact]
    public void Cubic_mode_is_cmp004()
    {
        var g = new GraphBuilder(13).Input("x", 1, 1, 2, 2).Init("scales", [1, 1, 2, 2], 4)
            .Node("Resize", ["x", "", "scales"], ["y"], A("mode", "cubic")).Output("y", DataType.Float).Build();
        Assert.Equal(Diagnostics.ErrorCodes.UnsupportedOp, Assert.Throws<Diagnostics.CompressException>(() => ShapeInference.Run(g)).Code);
    }
}
