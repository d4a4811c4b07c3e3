using Compress.Runtime.Kernels;
using static Compress.Runtime.Tests.Conv2dF32Tests;

namespace Compress.Runtime.Tests.Int8;

[Trait(Simd.Category, Simd.Kernel)]
public class QDepthwiseConv2dU8S8Tests
{
    public static TheoryData<string, Conv2dShape> Shapes() => new()
    {
        { "3x3 same on 8x8", Shape(1, 8, 8, 8, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 8) },
        { "3x3 same on 14x14", Shape(1, 32, 14, 14, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 32) },
        { "3x3 stride 2 on 14x14", Shape(1, 16, 14, 14, 16, 3, 3, 2, 2, 1, 1, 1, 1, groups: 16) },
        { "3x3 valid on 5x17", Shape(2, 3, 5, 17, 3, 3, 3, groups: 3) },
        { "5x5 pad 2 on 9x33", Shape(1, 4, 9, 33, 4, 5, 5, pt: 2, pl: 2, pb: 2, pr: 2, groups: 4) },
        { "1x1", Shape(1, 5, 3, 7, 5, 1, 1, groups: 5) },
        { "2x3 stride (1,2) dilation 2", Shape(1, 3, 9, 13, 3, 2, 3, 1, 2, 1, 0, 0, 3, 2, 2, groups: 3) },
        { "asymmetric pads", Shape(1, 2, 6, 7, 2, 3, 3, pt: 0, pl: 2, pb: 2, pr: 0, groups: 2) },
        { "kernel wider than input", Shape(1, 2, 3, 3, 2, 5, 5, pt: 2, pl: 2, pb: 2, pr: 2, groups: 2) },
        { "1x1 input", Shape(1, 6, 1, 1, 6, 1, 1, groups: 6) },
        { "width 1", Shape(1, 2, 5, 1, 2, 3, 1, pt: 1, pb: 1, groups: 2) },
        { "7x7 pad 3 on 16x16", Shape(1, 2, 16, 16, 2, 7, 7, pt: 3, pl: 3, pb: 3, pr: 3, groups: 2) },
        { "batch 0", Shape(0, 2, 4, 4, 2, 3, 3, groups: 2) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Run_MatchesNaive(string name, Conv2dShape s)
    {
        var rng = new Random(name.Length * 31 + s.InChannels);
        var x = Int8Data.Bytes(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = Int8Data.SBytes(rng, s.OutChannels * s.KernelHeight * s.KernelWidth);
        var bias = Int8Data.Ints(rng, s.OutChannels, -5000, 5000);
        var (mult, shift) = Int8Data.Multipliers(rng, s.OutChannels, 1e-3, 0.05);
        var packed = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(s)];
        QDepthwiseConv2dU8S8.PackWeights(w, s, packed);
        int zpIn = name.Length % 2 == 0 ? 0 : 77;
        foreach (var rq in new[] { new Requant(128, 0, 255), new Requant(9, 9, 240) })
            foreach (bool withBias in new[] { true, false })
            {
                var expected = QConv2dU8S8Tests.Naive(x, w, withBias ? bias : null, mult, shift, s, zpIn, rq);
                var y = Int8Data.Output(expected.Length, out var backing);
                var scratch = new byte[QDepthwiseConv2dU8S8.ScratchLength(s) + 1];
                scratch.AsSpan().Fill(0xEE);
                QDepthwiseConv2dU8S8.Run(Int8Data.Misaligned<byte>(x), Int8Data.Misaligned<sbyte>(packed), withBias ? Int8Data.Misaligned<int>(bias) : default,
                    mult, shift, y, scratch.AsSpan(1), s, zpIn, rq);
                Int8Data.AssertEqual(expected, y, $"{name} {rq} bias={withBias}");
                Int8Data.AssertGuards(backing, expected.Length);
                var yRef = new byte[expected.Length];
                QDepthwiseConv2dU8S8.Depthwise_U8S8_Scalar(x, packed, withBias ? bias : default, mult, shift, yRef, s, zpIn, rq);
                Int8Data.AssertEqual(expected, yRef, $"scalar body {name}");
            }
    }

    [Fact]
    public void Extremes_DoNotSaturate()
    {
        var s = Shape(1, 4, 9, 20, 4, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 4);
        var x = Enumerable.Repeat((byte)255, 4 * 180).ToArray();
        var w = Enumerable.Range(0, 36).Select(i => i < 18 ? (sbyte)-128 : (sbyte)127).ToArray();
        var (m, sh) = QuantMath.QuantizeMultiplier(1.0 / 3000);
        var mult = Enumerable.Repeat(m, 4).ToArray();
        var shift = Enumerable.Repeat(sh, 4).ToArray();
        var rq = new Requant(128, 0, 255);
        var packed = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(s)];
        QDepthwiseConv2dU8S8.PackWeights(w, s, packed);
        var y = new byte[4 * 180];
        QDepthwiseConv2dU8S8.Run(x, packed, default, mult, shift, y, new byte[QDepthwiseConv2dU8S8.ScratchLength(s)], s, 255, rq);
        Assert.Equal(QConv2dU8S8Tests.Naive(x, w, null, mult, shift, s, 255, rq), y);
    }

    [Fact]
    public void RejectsNonDepthwiseShapes()
    {
        Assert.Throws<ArgumentException>(() => QDepthwiseConv2dU8S8.PackedWeightsLength(Shape(1, 4, 4, 4, 8, 3, 3, groups: 4)));
        Assert.Throws<ArgumentException>(() => QDepthwiseConv2dU8S8.ScratchLength(Shape(1, 4, 4, 4, 4, 3, 3, groups: 2)));
    }

    [Fact]
    public void PackWeights_PadsTapsToFour()
    {
        var s = Shape(1, 2, 4, 4, 2, 3, 3, groups: 2);
        var w = Enumerable.Range(1, 18).Select(i => (sbyte)i).ToArray();
        var packed = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(s)];
        Assert.Equal(24, packed.Length);
        QDepthwiseConv2dU8S8.PackWeights(w, s, packed);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (sbyte)i).Concat(new sbyte[3]).Concat(Enumerable.Range(10, 9).Select(i => (sbyte)i)).Concat(new sbyte[3]), packed);
    }
}
