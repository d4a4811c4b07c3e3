using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class WinogradConv2dF32Tests
{
    static Conv2dShape Shape(int n, int cin, int h, int w, int cout, int pt = 1, int pl = 1, int pb = 1, int pr = 1) =>
        Conv2dF32Tests.Shape(n, cin, h, w, cout, 3, 3, pt: pt, pl: pl, pb: pb, pr: pr);

    public static TheoryData<string, Conv2dShape> Shapes() => new()
    {
        { "16->32 on 8x8 (digits_cnn conv2)", Shape(1, 16, 8, 8, 32) },
        { "1->16 on 8x8", Shape(1, 1, 8, 8, 16) },
        { "odd 7x9, 5 out channels", Shape(1, 3, 7, 9, 5) },
        { "valid 9x11", Shape(1, 3, 9, 11, 5, 0, 0, 0, 0) },
        { "asymmetric pads", Shape(1, 2, 6, 7, 3, 0, 2, 2, 0) },
        { "wide 40 pixels (several 7- and 8-tile steps)", Shape(1, 3, 5, 40, 17) },
        { "batch 2, 17 out channels", Shape(2, 4, 6, 6, 17) },
        { "1x1 output", Shape(1, 3, 3, 3, 9, 0, 0, 0, 0) },
        { "2x2 input padded", Shape(1, 2, 2, 2, 8) },
        { "odd height 5x16", Shape(1, 8, 5, 16, 8) },
        { "batch 0", Shape(0, 2, 4, 4, 3) },
        { "7x7, 4x4 tiles clipped (tile-major, scattered)", Shape(1, 5, 7, 7, 11) },
        { "6 high 8 wide, 3x4 tiles (tile-major rows of 8)", Shape(1, 6, 6, 8, 9) },
        { "8 high 7 wide, batch 2 (tile-major)", Shape(2, 17, 8, 7, 19) },
        { "2 high 8 wide (one tile row)", Shape(1, 3, 2, 8, 4) },
        { "10x6 output, 15 tiles of 3 (tile-major, gathered)", Shape(1, 4, 10, 6, 7, 1, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Run_MatchesNaive(string name, Conv2dShape s)
    {
        Assert.True(WinogradConv2dF32.Supports(s));
        var rng = new Random(name.Length * 131 + s.OutChannels);
        var x = TestData.Random(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = TestData.Random(rng, s.OutChannels * s.InChannels * 9);
        var bias = TestData.Random(rng, s.OutChannels);
        var packed = new float[WinogradConv2dF32.PackedWeightsLength(s)];
        WinogradConv2dF32.PackWeights(w, s, packed);
        var scratch = new float[WinogradConv2dF32.ScratchLength(s)];
        scratch.AsSpan().Fill(float.NaN); // the transforms must overwrite every element the products read
        int outLength = s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
        foreach (var act in TestData.Activations)
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = Conv2dF32Tests.Naive(x, w, withBias ? bias : null, s, act);
                var y = TestData.Output(outLength, out var backing);
                WinogradConv2dF32.Run(TestData.Misaligned(x, out _), packed, withBias ? bias : default, y, scratch, s, act);
                // The transforms add and subtract up to 4 terms twice, so the rounding bound is a few times direct conv's.
                TestData.AssertClose(expected, y, mag, tol: 4e-5f, what: $"{name} {act.Kind} bias={withBias}");
                TestData.AssertGuards(backing, outLength);
            }
    }

    [Fact]
    public void Supports_OnlyUngroupedStride1Dilation1_3x3()
    {
        Assert.True(WinogradConv2dF32.Supports(Shape(1, 4, 8, 8, 4)));
        Assert.False(WinogradConv2dF32.Supports(Conv2dF32Tests.Shape(1, 4, 9, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1)));
        Assert.False(WinogradConv2dF32.Supports(Conv2dF32Tests.Shape(1, 3, 10, 10, 4, 3, 3, pt: 2, pl: 2, pb: 2, pr: 2, dh: 2, dw: 2)));
        Assert.False(WinogradConv2dF32.Supports(Conv2dF32Tests.Shape(1, 4, 6, 6, 6, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 2)));
        Assert.False(WinogradConv2dF32.Supports(Conv2dF32Tests.Shape(1, 4, 6, 6, 6, 1, 1)));
        Assert.Throws<ArgumentException>(() => WinogradConv2dF32.PackedWeightsLength(Conv2dF32Tests.Shape(1, 4, 6, 6, 6, 1, 1)));
    }

    [Fact]
    public void Run_RejectsShortSpans()
    {
        var s = Shape(1, 2, 4, 4, 3);
        var packed = new float[WinogradConv2dF32.PackedWeightsLength(s)];
        var scratch = new float[WinogradConv2dF32.ScratchLength(s)];
        Assert.Throws<ArgumentException>(() => WinogradConv2dF32.Run(new float[31], packed, default, new float[48], scratch, s, default));
        Assert.Throws<ArgumentException>(() => WinogradConv2dF32.Run(new float[32], packed, default, new float[47], scratch, s, default));
        Assert.Throws<ArgumentException>(() => WinogradConv2dF32.Run(new float[32], packed, default, new float[48], scratch.AsSpan(1), s, default));
    }
}
