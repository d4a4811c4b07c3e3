using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

/// <summary>ConvTranspose, every attribute, against ONNX Runtime.</summary>
public class ConvTransposeTests
{
    public static TheoryData<long[], long[], long, (string, AttributeValue)[]> Cases() => new()
    {
        { [1, 4, 5, 5], [4, 3, 2, 2], 1, [A("strides", 2L, 2L)] },                                          // U-Net upsampler
        { [1, 3, 4, 6], [3, 2, 3, 3], 1, [A("pads", 1L, 1L, 1L, 1L)] },
        { [1, 4, 5, 6], [4, 2, 4, 4], 2, [A("strides", 2L, 2L), A("pads", 1L, 0L, 1L, 2L)] },              // groups, asymmetric pads
        { [1, 2, 3, 7], [2, 3, 3, 3], 1, [A("strides", 2L, 3L), A("output_padding", 1L, 2L), A("dilations", 2L, 1L)] },
        { [1, 6, 4, 4], [6, 1, 3, 3], 6, [A("pads", 1L, 1L, 1L, 1L)] },                                      // depthwise
        { [1, 3, 4, 4], [3, 2, 3, 3], 1, [A("strides", 2L, 2L), A("output_shape", 8L, 8L)] },
        { [1, 3, 4, 4], [3, 2, 3, 3], 1, [A("strides", 2L, 2L), A("auto_pad", "SAME_UPPER")] },
        { [1, 3, 9], [3, 5, 4], 1, [A("strides", new long[] { 2 }), A("pads", 1L, 2L)] },                    // 1-D
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_onnxruntime(long[] x, long[] w, long group, (string, AttributeValue)[] attributes)
    {
        var g = new GraphBuilder(13).Input("x", x).Random("W", 1, w).Random("B", 2, w[1] * group)
            .Node("ConvTranspose", ["x", "W", "B"], ["y"], [A("group", group), .. attributes]).Output("y", DataType.Float).Build();
        var lowered = OrtCheck.Matches(g);
        Assert.Equal(PlanCalls.ConvTranspose2d, Assert.Single(lowered.Plan.Steps).Call);
    }
}
