using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class Conv2dF32Tests
{
    /// <summary>ONNX Conv by definition (direct loops in double, zero outside the input); also Σ|terms| per output.</summary>
    internal static (float[] Y, float[] Magnitude) Naive(float[] x, float[] w, float[]? bias, in Conv2dShape s, FusedActivation act)
    {
        int cinG = s.InChannels / s.Groups, coG = s.OutChannels / s.Groups;
        var y = new float[s.Batch * s.OutChannels * s.OutHeight * s.OutWidth];
        var mag = new float[y.Length];
        for (int b = 0; b < s.Batch; b++)
            for (int co = 0; co < s.OutChannels; co++)
            {
                int g = co / coG;
                for (int oh = 0; oh < s.OutHeight; oh++)
                    for (int ow = 0; ow < s.OutWidth; ow++)
                    {
                        double sum = bias?[co] ?? 0, abs = Math.Abs(bias?[co] ?? 0);
                        for (int ci = 0; ci < cinG; ci++)
                            for (int ky = 0; ky < s.KernelHeight; ky++)
                                for (int kx = 0; kx < s.KernelWidth; kx++)
                                {
                                    int ih = oh * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                                    int iw = ow * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                                    if (ih < 0 || ih >= s.InHeight || iw < 0 || iw >= s.InWidth) continue;
                                    double t = (double)x[((b * s.InChannels + g * cinG + ci) * s.InHeight + ih) * s.InWidth + iw]
                                        * w[((co * cinG + ci) * s.KernelHeight + ky) * s.KernelWidth + kx];
                                    sum += t;
                                    abs += Math.Abs(t);
                                }
                        int o = ((b * s.OutChannels + co) * s.OutHeight + oh) * s.OutWidth + ow;
                        y[o] = (float)TestData.Act(sum, act);
                        mag[o] = (float)abs * TestData.Slope(act);
                    }
            }
        return (y, mag);
    }

    /// <summary>Output size per ONNX (floor mode) for explicit begin/end pads.</summary>
    internal static int Out(int input, int k, int stride, int padBegin, int padEnd, int dilation) =>
        Math.Max(0, (input + padBegin + padEnd - dilation * (k - 1) - 1) / stride + 1);

    internal static Conv2dShape Shape(int n, int cin, int h, int w, int cout, int kh, int kw, int sh = 1, int sw = 1,
        int pt = 0, int pl = 0, int pb = 0, int pr = 0, int dh = 1, int dw = 1, int groups = 1) =>
        new(n, cin, h, w, cout, Out(h, kh, sh, pt, pb, dh), Out(w, kw, sw, pl, pr, dw), kh, kw, sh, sw, pt, pl, dh, dw, groups);

    public static TheoryData<string, Conv2dShape> Shapes() => new()
    {
        { "1x1 pointwise", Shape(1, 16, 8, 8, 32, 1, 1) },
        { "1x1 pointwise odd", Shape(2, 5, 3, 7, 9, 1, 1) },
        { "1x1 stride 2", Shape(1, 4, 7, 7, 8, 1, 1, 2, 2) },
        { "1x1 padded", Shape(1, 3, 4, 5, 5, 1, 1, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "3x3 same 1->16 on 8x8", Shape(1, 1, 8, 8, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "3x3 same 16->32 on 8x8", Shape(1, 16, 8, 8, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "3x3 valid", Shape(1, 3, 9, 11, 5, 3, 3) },
        { "3x3 stride 2 pad 1", Shape(1, 4, 9, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 asymmetric pads", Shape(1, 2, 6, 7, 3, 3, 3, pt: 0, pl: 2, pb: 2, pr: 0) },
        { "5x3 stride (2,1)", Shape(2, 3, 11, 9, 7, 5, 3, 2, 1, 2, 1, 2, 1) },
        { "3x3 dilation 2", Shape(1, 3, 10, 10, 4, 3, 3, pt: 2, pl: 2, pb: 2, pr: 2, dh: 2, dw: 2) },
        { "dilation (1,3) stride (1,2)", Shape(1, 2, 9, 13, 3, 2, 3, 1, 2, 1, 0, 0, 3, 1, 3) },
        { "groups 2", Shape(1, 4, 6, 6, 6, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 2) },
        { "groups 3 odd channels", Shape(2, 6, 5, 9, 9, 3, 2, 1, 2, 1, 0, 1, 1, groups: 3) },
        { "depthwise as grouped conv", Shape(1, 8, 6, 6, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 8) },
        { "depthwise multiplier 2", Shape(1, 4, 5, 5, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 4) },
        { "wide 40 pixels", Shape(1, 3, 5, 40, 17, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1) },
        { "7x7 stride 2 pad 3, 3->8 on 64x63 (row chunks, even-lane gather)", Shape(1, 3, 64, 63, 8, 7, 7, 2, 2, 3, 3, 3, 3) },
        { "3x3 stride 2 pad 1, 96->9 on 21x21 (chunks of 5 rows)", Shape(1, 96, 21, 21, 9, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "kernel wider than input", Shape(1, 2, 3, 3, 3, 5, 5, pt: 2, pl: 2, pb: 2, pr: 2) },
        { "1x1 input", Shape(1, 5, 1, 1, 20, 1, 1) },
        { "batch 0", Shape(0, 2, 4, 4, 3, 3, 3) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Run_MatchesNaive(string name, Conv2dShape s)
    {
        var rng = new Random(name.Length * 977 + s.InChannels);
        var x = TestData.Random(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = TestData.Random(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var bias = TestData.Random(rng, s.OutChannels);
        var packed = new float[Conv2dF32.PackedWeightsLength(s)];
        Conv2dF32.PackWeights(w, s, packed);
        var scratch = new float[Conv2dF32.ScratchLength(s)];
        scratch.AsSpan().Fill(float.NaN); // im2col must overwrite every element it reads
        int outLength = s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
        foreach (var act in TestData.Activations)
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = Naive(x, w, withBias ? bias : null, s, act);
                var y = TestData.Output(outLength, out var backing);
                Conv2dF32.Run(TestData.Misaligned(x, out _), packed, withBias ? bias : default, y, scratch, s, act);
                TestData.AssertClose(expected, y, mag, what: $"{name} {act.Kind} bias={withBias}");
                TestData.AssertGuards(backing, outLength);

                var reference = new float[outLength];
                Conv2dF32.Conv2d_F32_Scalar(x, packed, withBias ? bias : default, reference, scratch, s, act);
                TestData.AssertClose(expected, reference, mag, what: $"{name} scalar twin {act.Kind}");
            }
    }

    [Fact]
    public void ScratchLength_IsZeroOnlyForPointwise()
    {
        Assert.Equal(0, Conv2dF32.ScratchLength(Shape(1, 16, 8, 8, 32, 1, 1)));
        Assert.Equal(144 * 64 + 10 * 10, Conv2dF32.ScratchLength(Shape(1, 16, 8, 8, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1))); // im2col + padded plane
        Assert.NotEqual(0, Conv2dF32.ScratchLength(Shape(1, 4, 7, 7, 8, 1, 1, 2, 2)));
    }

    public delegate void Tile(ref float w, ref float col, nint colStride, int k, ref float y, nint yStride, int rows, ref float bias, bool hasBias, in FusedActivation act);

    public static TheoryData<string> Tiles() => new() { "8x32 Vector512", "8x16 Vector512", "8x8 Vector256", "8x4 Vector128", "8x1 Vector256", "8x1 Scalar" };

    /// <summary>Each micro-kernel on its own against a dot-product loop (narrower tiles run on any CPU).</summary>
    [Theory]
    [MemberData(nameof(Tiles))]
    public void Tiles_MatchDotProducts(string name)
    {
        (Tile tile, int px) = name switch
        {
            "8x32 Vector512" => ((Tile)Conv2dF32.Tile_F32_8x32_Vector512, 32),
            "8x16 Vector512" => (Conv2dF32.Tile_F32_8x16_Vector512, 16),
            "8x8 Vector256" => (Conv2dF32.Tile_F32_8x8_Vector256, 8),
            "8x4 Vector128" => (Conv2dF32.Tile_F32_8x4_Vector128, 4),
            "8x1 Vector256" => (Conv2dF32.Tile_F32_8x1_Vector256, 1),
            _ => (Conv2dF32.Tile_F32_8x1_Scalar, 1),
        };
        var rng = new Random(3);
        foreach (int k in new[] { 1, 2, 9, 37 })
            foreach (int rows in new[] { 1, 3, 8 })
            {
                int colStride = px + 5, yStride = px + 3;
                var w = TestData.Random(rng, k * 8);
                var col = TestData.Random(rng, k * colStride);
                var bias = TestData.Random(rng, 8);
                var y = new float[8 * yStride];
                y.AsSpan().Fill(99f);
                var act = new FusedActivation(ActivationKind.Clip, -0.5f, 0.75f);
                tile(ref w[0], ref col[0], colStride, k, ref y[0], yStride, rows, ref bias[0], true, act);
                for (int r = 0; r < 8; r++)
                    for (int p = 0; p < yStride; p++)
                    {
                        if (r >= rows || p >= px)
                        {
                            Assert.Equal(99f, y[r * yStride + p]);
                            continue;
                        }
                        double sum = bias[r];
                        for (int kk = 0; kk < k; kk++) sum += (double)w[kk * 8 + r] * col[kk * colStride + p];
                        Assert.Equal((float)TestData.Act(sum, act), y[r * yStride + p], 1e-5f * k);
                    }
            }
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        var s = Shape(1, 4, 5, 5, 6, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var packed = new float[Conv2dF32.PackedWeightsLength(s)];
        var scratch = new float[Conv2dF32.ScratchLength(s)];
        var x = new float[100];
        var y = new float[150];
        Assert.Throws<ArgumentException>(() => Conv2dF32.Run(x.AsSpan(1), packed, default, y, scratch, s, default));
        Assert.Throws<ArgumentException>(() => Conv2dF32.Run(x, packed, default, y.AsSpan(1), scratch, s, default));
        Assert.Throws<ArgumentException>(() => Conv2dF32.Run(x, packed, default, y, scratch.AsSpan(1), s, default));
        Assert.Throws<ArgumentException>(() => Conv2dF32.Run(x, packed.AsSpan(1), default, y, scratch, s, default));
        Assert.Throws<ArgumentException>(() => Conv2dF32.Run(x, packed, new float[5], y, scratch, s, default));
        Assert.Throws<ArgumentException>(() => Conv2dF32.PackedWeightsLength(s with { Groups = 3 }));
        Assert.Throws<ArgumentException>(() => Conv2dF32.PackedWeightsLength(s with { StrideHeight = 0 }));
    }
}
