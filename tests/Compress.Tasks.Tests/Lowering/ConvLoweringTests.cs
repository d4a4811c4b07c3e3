using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class ConvLoweringTests
{
    public sealed record Case(string Name, int N, int C, int H, int W, int M, int Kh, int Kw, int Sh = 1, int Sw = 1,
        int Pt = 0, int Pl = 0, int Pb = 0, int Pr = 0, int Dh = 1, int Dw = 1, int Groups = 1, string AutoPad = "NOTSET",
        bool Bias = true, bool Relu = false)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases => new()
    {
        new Case("3x3 pad 1", 1, 3, 8, 8, 16, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1),
        new Case("3x3 pad 1 relu", 1, 4, 6, 7, 8, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Relu: true),
        new Case("stride 2", 1, 2, 9, 9, 5, 3, 3, Sh: 2, Sw: 2, Pt: 1, Pl: 1, Pb: 1, Pr: 1),
        new Case("asymmetric stride and pads", 1, 3, 10, 7, 4, 3, 2, Sh: 2, Sw: 1, Pt: 0, Pl: 1, Pb: 2, Pr: 0),
        new Case("dilation 2", 1, 3, 11, 11, 6, 3, 3, Dh: 2, Dw: 2, Pt: 2, Pl: 2, Pb: 2, Pr: 2),
        new Case("groups 2", 1, 4, 6, 6, 6, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Groups: 2),
        new Case("depthwise", 1, 8, 7, 7, 8, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Groups: 8),
        new Case("depthwise stride 2 relu", 1, 6, 9, 8, 6, 3, 3, Sh: 2, Sw: 2, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Groups: 6, Relu: true),
        new Case("depthwise multiplier 2 (grouped)", 1, 4, 5, 5, 8, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Groups: 4),
        new Case("pointwise 1x1", 1, 16, 5, 5, 8, 1, 1),
        new Case("no bias", 1, 3, 6, 6, 4, 3, 3, Bias: false),
        new Case("batch 2", 2, 3, 5, 5, 4, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1),
        new Case("SAME_UPPER stride 2", 1, 3, 8, 7, 4, 3, 3, Sh: 2, Sw: 2, AutoPad: "SAME_UPPER"),
        new Case("SAME_LOWER", 1, 3, 6, 6, 4, 2, 2, AutoPad: "SAME_LOWER"),
        new Case("VALID", 1, 3, 7, 6, 4, 3, 3, AutoPad: "VALID"),
        new Case("Winograd 64->64 3x3 pad 1 relu", 1, 64, 6, 7, 64, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Relu: true),
        new Case("Winograd 64->72 3x3 valid, batch 2", 2, 64, 5, 9, 72, 3, 3),
        new Case("Winograd small plane 16->32 on 8x8 (digits_cnn conv2)", 1, 16, 8, 8, 32, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1, Relu: true),
        new Case("small plane, 1 input channel stays im2col", 1, 1, 8, 8, 16, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1),
        new Case("small plane of 9 tiles stays im2col", 1, 16, 6, 6, 32, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv_matches_reference(Case c)
    {
        int spanH = (c.Kh - 1) * c.Dh + 1, spanW = (c.Kw - 1) * c.Dw + 1;
        int pt = c.Pt, pl = c.Pl, oh, ow;
        switch (c.AutoPad)
        {
            case "SAME_UPPER" or "SAME_LOWER":
                oh = (c.H + c.Sh - 1) / c.Sh; ow = (c.W + c.Sw - 1) / c.Sw;
                int th = Math.Max(0, (oh - 1) * c.Sh + spanH - c.H), tw = Math.Max(0, (ow - 1) * c.Sw + spanW - c.W);
                pt = c.AutoPad == "SAME_UPPER" ? th / 2 : th - th / 2;
                pl = c.AutoPad == "SAME_UPPER" ? tw / 2 : tw - tw / 2;
                break;
            case "VALID":
                pt = pl = 0;
                oh = (c.H - spanH) / c.Sh + 1; ow = (c.W - spanW) / c.Sw + 1;
                break;
            default:
                oh = (c.H + c.Pt + c.Pb - spanH) / c.Sh + 1; ow = (c.W + c.Pl + c.Pr - spanW) / c.Sw + 1;
                break;
        }
        float[] x = Harness.Random(c.N * c.C * c.H * c.W, 1), w = Harness.Random(c.M * c.C / c.Groups * c.Kh * c.Kw, 2);
        float[]? bias = c.Bias ? Harness.Random(c.M, 3) : null;
        var g = new TestGraph().Input("x", c.N, c.C, c.H, c.W).Const("W", w, c.M, c.C / c.Groups, c.Kh, c.Kw);
        if (bias is not null) g.Const("B", bias, c.M);
        var attrs = new List<(string, AttributeValue)>
        {
            Ints("kernel_shape", c.Kh, c.Kw), Ints("strides", c.Sh, c.Sw), Ints("dilations", c.Dh, c.Dw), Attr("group", (long)c.Groups),
        };
        if (c.AutoPad == "NOTSET") attrs.Add(Ints("pads", c.Pt, c.Pl, c.Pb, c.Pr));
        else attrs.Add(Attr("auto_pad", c.AutoPad));
        if (c.Relu) attrs.AddRange(Fused("Relu"));
        g.Node("Conv", bias is null ? ["x", "W"] : ["x", "W", "B"], "y", [c.N, c.M, oh, ow], attrs.ToArray()).Output("y");

        var lowered = Harness.Lower(g.Build());
        var y = Harness.Run(lowered, x)[0];

        var expected = Reference.Conv(x, c.N, c.C, c.H, c.W, w, c.M, c.Kh, c.Kw, bias, oh, ow, c.Sh, c.Sw, pt, pl, c.Dh, c.Dw, c.Groups);
        if (c.Relu) expected = expected.Select(v => Math.Max(v, 0)).ToArray();
        Harness.Close(expected, y);

        var step = Assert.Single(lowered.Plan.Steps);
        bool depthwise = c.Groups > 1 && c.Groups == c.C && c.C == c.M;
        // Wide layers, or 12–16 output tiles (the tile-major path's lanes) with at least 4 input channels.
        int tiles = (oh + 1) / 2 * ((ow + 1) / 2);
        bool winograd = c.Kh == 3 && c.Kw == 3 && c.Sh == 1 && c.Sw == 1 && c.Dh == 1 && c.Dw == 1 && c.Groups == 1
            && (c.C * c.M >= 64 * 64 || (c.C >= 4 && tiles is >= 12 and <= 16));
        Assert.Equal(winograd ? PlanCalls.WinogradConv2d : depthwise ? PlanCalls.DepthwiseConv2d : PlanCalls.Conv2d, step.Call);
        var shape = Assert.IsType<NewArg>(step.Args[5]);
        Assert.Equal(PlanCalls.Structs.Conv2dShape, shape.Type);
    }

    [Fact]
    public void Conv_scratch_is_arena_memory_sized_by_the_kernel()
    {
        var g = new TestGraph().Input("x", 1, 3, 8, 8).Const("W", Harness.Random(4 * 3 * 9, 2), 4, 3, 3, 3)
            .Node("Conv", ["x", "W"], "y", [1, 4, 8, 8], Ints("pads", 1, 1, 1, 1)).Output("y").Build();
        var step = Assert.Single(Harness.Lower(g).Plan.Steps);
        var scratch = Assert.IsType<SpanArg>(step.Args[4]);
        Assert.Equal(SpanSource.Arena, scratch.Source);
        var s = new Runtime.Conv2dShape(1, 3, 8, 8, 4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        Assert.Equal(Runtime.Kernels.Conv2dF32.ScratchLength(s), scratch.Length);
        Assert.Equal("Conv 3→4 3×3 pad 1", step.Comment);
    }

    [Fact]
    public void Pointwise_conv_needs_no_scratch()
    {
        var g = new TestGraph().Input("x", 1, 8, 4, 4).Const("W", Harness.Random(16 * 8, 2), 16, 8, 1, 1)
            .Node("Conv", ["x", "W"], "y", [1, 16, 4, 4]).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.IsType<EmptyArg>(Assert.Single(lowered.Plan.Steps).Args[4]);
        Assert.Equal(0, lowered.Plan.ArenaFloats);
    }

    [Fact]
    public void Conv1d_runs_as_height_one()
    {
        float[] x = Harness.Random(3 * 10, 1), w = Harness.Random(4 * 3 * 3, 2), b = Harness.Random(4, 3);
        var g = new TestGraph().Input("x", 1, 3, 10).Const("W", w, 4, 3, 3).Const("B", b, 4)
            .Node("Conv", ["x", "W", "B"], "y", [1, 4, 5], Ints("pads", 1, 1), Ints("strides", 2)).Output("y").Build();
        var expected = Reference.Conv(x, 1, 3, 1, 10, w, 4, 1, 3, b, 1, 5, 1, 2, 0, 1, 1, 1, 1);
        Harness.Close(expected, Harness.Run(g, x)[0]);
    }

    [Fact]
    public void Conv_output_shape_disagreeing_with_shape_inference_is_reported()
    {
        var g = new TestGraph().Input("x", 1, 3, 8, 8).Const("W", Harness.Random(4 * 3 * 9, 2), 4, 3, 3, 3)
            .Node("Conv", ["x", "W"], "y", [1, 4, 8, 8]).Output("y").Build();
        var e = Assert.Throws<Diagnostics.CompressException>(() => Harness.Lower(g));
        Assert.Equal(Diagnostics.ErrorCodes.ShapeInference, e.Code);
    }
}
