using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class DepthwiseConv2dF32Tests
{
    static Conv2dShape Dw(int n, int c, int h, int w, int kh, int kw, int sh = 1, int sw = 1, int pt = 0, int pl = 0, int pb = 0, int pr = 0, int dh = 1, int dw = 1) =>
        Conv2dF32Tests.Shape(n, c, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, c);

    public static TheoryData<string, Conv2dShape> Shapes() => new()
    {
        { "3x3 s1 p1 16ch 8x8", Dw(1, 16, 8, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "3x3 s2 p1 16ch 8x8", Dw(1, 16, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 s1 p1 32ch 4x4", Dw(1, 32, 4, 4, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "3x3 s2 p1 32ch 4x4", Dw(1, 32, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 valid (direct read)", Dw(2, 3, 9, 21, 3, 3) },
        { "3x3 valid stride (2,1)", Dw(1, 3, 9, 21, 3, 3, 2, 1) },
        { "5x5 s1 p2 wide", Dw(1, 2, 6, 37, 5, 5, pt: 2, pl: 2, pb: 2, pr: 2) },
        { "3x3 s2 odd", Dw(1, 3, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 s3 asymmetric", Dw(1, 2, 10, 11, 3, 3, 3, 3, 0, 2, 2, 0) },
        { "3x3 dilation 2", Dw(1, 4, 9, 9, 3, 3, pt: 2, pl: 2, pb: 2, pr: 2, dh: 2, dw: 2) },
        { "2x4 dilation (1,2) stride 2", Dw(1, 3, 8, 17, 2, 4, 2, 2, 1, 1, 0, 2, 1, 2) },
        { "1x1", Dw(1, 5, 3, 3, 1, 1) },
        { "kernel larger than input", Dw(1, 2, 2, 3, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "9x9 (scalar fallback)", Dw(1, 2, 10, 10, 9, 9, pt: 4, pl: 4, pb: 4, pr: 4) },
        { "batch 2 stride 2 width 40", Dw(2, 2, 5, 40, 3, 3, 2, 2, 1, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Run_MatchesNaive(string name, Conv2dShape s)
    {
        var rng = new Random(name.Length * 31 + s.InWidth);
        var x = TestData.Random(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = TestData.Random(rng, s.OutChannels * s.KernelHeight * s.KernelWidth);
        var bias = TestData.Random(rng, s.OutChannels);
        var packed = new float[DepthwiseConv2dF32.PackedWeightsLength(s)];
        DepthwiseConv2dF32.PackWeights(w, s, packed);
        var scratch = new float[DepthwiseConv2dF32.ScratchLength(s)];
        scratch.AsSpan().Fill(float.NaN);
        int outLength = s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
        foreach (var act in TestData.Activations)
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = Conv2dF32Tests.Naive(x, w, withBias ? bias : null, s, act);
                var y = TestData.Output(outLength, out var backing);
                DepthwiseConv2dF32.Run(TestData.Misaligned(x, out _), packed, withBias ? bias : default, y, scratch, s, act);
                TestData.AssertClose(expected, y, mag, what: $"{name} {act.Kind} bias={withBias}");
                TestData.AssertGuards(backing, outLength);

                var reference = new float[outLength];
                DepthwiseConv2dF32.Depthwise_F32_Scalar(x, packed, withBias ? bias : default, reference, s, act);
                TestData.AssertClose(expected, reference, mag, what: $"{name} scalar twin {act.Kind}");
            }
    }

    [Fact]
    public void NonDepthwiseShape_Throws()
    {
        Assert.Throws<ArgumentException>(() => DepthwiseConv2dF32.PackedWeightsLength(Conv2dF32Tests.Shape(1, 4, 5, 5, 8, 3, 3, groups: 4)));
        Assert.Throws<ArgumentException>(() => DepthwiseConv2dF32.ScratchLength(Conv2dF32Tests.Shape(1, 4, 5, 5, 4, 3, 3, groups: 1)));
    }

    [Fact]
    public void ScratchLength_ZeroWhenReadingInputDirectly()
    {
        Assert.Equal(0, DepthwiseConv2dF32.ScratchLength(Dw(1, 3, 9, 21, 3, 3)));
        Assert.Equal(16 * (10 * 10 + 16), DepthwiseConv2dF32.ScratchLength(Dw(1, 16, 8, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1)));
    }
}
