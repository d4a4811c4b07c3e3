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
        // output_shape past the last position the kernel reaches (9×7 → 10×8, test_convtranspose_output_shape): the extra
        // row and column hold the bias only (a negative end pad in the spec's formula).
        { [1, 1, 3, 3], [1, 2, 3, 3], 1, [A("strides", 3L, 2L), A("output_shape", 10L, 8L)] },
        { [1, 2, 5], [2, 3, 3], 1, [A("strides", new long[] { 2 }), A("output_shape", new long[] { 12 })] },  // 1-D, one extra
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

    [Fact]
    public void Output_shape_beyond_the_kernels_reach_pads_the_end()
    {
        var node = ConvTranspose(A("strides", 3L, 2L), A("output_shape", 10L, 8L));
        var form = ConvTransposeForm.Read(node, [3, 3], [3, 3], m => new InvalidOperationException(m));
        Assert.Equal(new long[] { 10, 8 }, form.Output);
        Assert.Equal(new long[] { 0, 0 }, form.PadBegin);
        Assert.Equal(new long[] { -1, -1 }, form.PadEnd);
    }

    [Fact]
    public void Output_shape_needing_positions_before_the_first_is_refused()
    {
        // SAME_UPPER puts the (negative) odd half at the start: an output the kernel would have to be shifted into.
        var node = ConvTranspose(A("strides", 3L, 2L), A("output_shape", 10L, 8L), A("auto_pad", "SAME_UPPER"));
        var e = Assert.Throws<InvalidOperationException>(() => ConvTransposeForm.Read(node, [3, 3], [3, 3], m => new InvalidOperationException(m)));
        Assert.Contains("before the first", e.Message);
    }

    static Node ConvTranspose(params (string Name, AttributeValue Value)[] attributes) =>
        Node.Create("ct", "ConvTranspose", ["x", "W"], ["y"], attributes.Select(a => KeyValuePair.Create(a.Name, a.Value)));
}
