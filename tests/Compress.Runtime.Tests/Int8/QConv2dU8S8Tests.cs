using Compress.Runtime.Kernels;
using static Compress.Runtime.Tests.Conv2dF32Tests;

namespace Compress.Runtime.Tests.Int8;

[Trait(Simd.Category, Simd.Kernel)]
public class QConv2dU8S8Tests
{
    /// <summary>ONNX ConvInteger by definition on the unpacked weights (padding reads the input zero point), then
    /// bias and requantisation with the scalar reference arithmetic.</summary>
    internal static byte[] Naive(byte[] x, sbyte[] w, int[]? bias, int[] mult, int[] shift, in Conv2dShape s, int zpIn, Requant rq)
    {
        int cinG = s.InChannels / s.Groups, coG = s.OutChannels / s.Groups;
        var y = new byte[s.Batch * s.OutChannels * s.OutHeight * s.OutWidth];
        for (int b = 0; b < s.Batch; b++)
            for (int co = 0; co < s.OutChannels; co++)
            {
                int g = co / coG;
                for (int oh = 0; oh < s.OutHeight; oh++)
                    for (int ow = 0; ow < s.OutWidth; ow++)
                    {
                        int sum = bias?[co] ?? 0;
                        for (int ci = 0; ci < cinG; ci++)
                            for (int ky = 0; ky < s.KernelHeight; ky++)
                                for (int kx = 0; kx < s.KernelWidth; kx++)
                                {
                                    int ih = oh * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                                    int iw = ow * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                                    int v = ih < 0 || ih >= s.InHeight || iw < 0 || iw >= s.InWidth
                                        ? zpIn : x[((b * s.InChannels + g * cinG + ci) * s.InHeight + ih) * s.InWidth + iw];
                                    sum += v * w[((co * cinG + ci) * s.KernelHeight + ky) * s.KernelWidth + kx];
                                }
                        y[((b * s.OutChannels + co) * s.OutHeight + oh) * s.OutWidth + ow] = (byte)Math.Clamp(
                            rq.OutZeroPoint + QuantMath.MultiplyByQuantizedMultiplier(sum, mult[co], shift[co]), Math.Max(rq.Min, 0), Math.Min(rq.Max, 255));
                    }
            }
        return y;
    }

    public static TheoryData<string, Conv2dShape> Int8Shapes()
    {
        var d = new TheoryData<string, Conv2dShape>();
        foreach (var row in Conv2dF32Tests.Shapes()) d.Add((string)row[0], (Conv2dShape)row[1]);
        d.Add("3x3 same 3->5 on 9x9 (channel padding)", Shape(1, 3, 9, 9, 5, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1));
        d.Add("3x3 same 17->7 on 16x17", Shape(1, 17, 16, 17, 7, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1));
        d.Add("3x3 valid 8->4 on 3x3 (one pixel)", Shape(1, 8, 3, 3, 4, 3, 3));
        d.Add("5x5 pad 2 1->6 on 28x28", Shape(1, 1, 28, 28, 6, 5, 5, pt: 2, pl: 2, pb: 2, pr: 2));
        d.Add("3x3 stride 2 32->64 on 14x14", Shape(1, 32, 14, 14, 64, 3, 3, 2, 2, 1, 1, 1, 1));
        d.Add("1x1 64->16 on 7x7", Shape(1, 64, 7, 7, 16, 1, 1));
        d.Add("3x3 same 6->13 on 7x9 (8-channel bodies, a 5-channel tail pair)", Shape(1, 6, 7, 9, 13, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1));
        d.Add("7x7 stride 2 pad 3, 3->10 on 90x90 (gathered in chunks of rows)", Shape(1, 3, 90, 90, 10, 7, 7, 2, 2, 3, 3, 3, 3));
        d.Add("widths 1..3", Shape(2, 4, 3, 3, 3, 1, 3, pt: 0, pl: 1, pb: 0, pr: 1));
        d.Add("3x3 same 2056->16 on 3x3 (tap-offset table beyond the stack bound)", Shape(1, 2056, 3, 3, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1));
        return d;
    }

    [Theory]
    [MemberData(nameof(Int8Shapes))]
    public void Run_MatchesNaive(string name, Conv2dShape s)
    {
        var rng = new Random(name.Length * 977 + s.InChannels);
        var x = Int8Data.Bytes(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = Int8Data.SBytes(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var bias = Int8Data.Ints(rng, s.OutChannels, -20000, 20000);
        var (mult, shift) = Int8Data.Multipliers(rng, s.OutChannels, 1e-4, 0.02);
        var packed = new sbyte[QConv2dU8S8.PackedWeightsLength(s)];
        QConv2dU8S8.PackWeights(w, s, packed);
        int zpIn = name.Length % 2 == 0 ? 0 : 131;
        foreach (var rq in new[] { new Requant(128, 0, 255), new Requant(5, 5, 250) })
            foreach (bool withBias in new[] { true, false })
            {
                var expected = Naive(x, w, withBias ? bias : null, mult, shift, s, zpIn, rq);
                var y = Int8Data.Output(expected.Length, out var backing);
                var scratch = new byte[QConv2dU8S8.ScratchLength(s) + 1];
                scratch.AsSpan().Fill(0xEE);
                QConv2dU8S8.Run(Int8Data.Misaligned<byte>(x), Int8Data.Misaligned<sbyte>(packed), withBias ? Int8Data.Misaligned<int>(bias) : default,
                    mult, shift, y, scratch.AsSpan(1), s, zpIn, rq);
                Int8Data.AssertEqual(expected, y, $"{name} {rq} bias={withBias}");
                Int8Data.AssertGuards(backing, expected.Length);
                // The scalar reference body agrees too (it is what the scalar child process runs).
                var yRef = new byte[expected.Length];
                QConv2dU8S8.Conv2d_U8S8_Scalar(x, packed, withBias ? bias : default, mult, shift, yRef, s, zpIn, rq);
                Int8Data.AssertEqual(expected, yRef, $"scalar body {name}");
            }
    }

    /// <summary>A warm kernel allocates nothing per call, also where its tap-offset table outgrows the stack bound.</summary>
    [Theory]
    [InlineData(512)]
    [InlineData(2056)]
    public void Run_AllocatesNothingOnceWarm(int inChannels)
    {
        var s = Shape(1, inChannels, 7, 7, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var rng = new Random(inChannels);
        var x = Int8Data.Bytes(rng, inChannels * 49);
        var packed = new sbyte[QConv2dU8S8.PackedWeightsLength(s)];
        QConv2dU8S8.PackWeights(Int8Data.SBytes(rng, 32 * inChannels * 9), s, packed);
        var (mult, shift) = Int8Data.Multipliers(rng, 32, 1e-4, 0.02);
        var bias = Int8Data.Ints(rng, 32, -20000, 20000);
        var y = new byte[32 * 49];
        var scratch = new byte[QConv2dU8S8.ScratchLength(s)];
        var rq = new Requant(128, 0, 255);
        for (int i = 0; i < 3; i++) QConv2dU8S8.Run(x, packed, bias, mult, shift, y, scratch, s, 0, rq);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) QConv2dU8S8.Run(x, packed, bias, mult, shift, y, scratch, s, 0, rq);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Extremes_DoNotSaturate()
    {
        var s = Shape(1, 64, 6, 6, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var x = Enumerable.Range(0, 64 * 36).Select(i => i % 5 == 0 ? (byte)0 : (byte)255).ToArray();
        var w = Enumerable.Range(0, 8 * 64 * 9).Select(i => (i / (64 * 9)) % 2 == 0 ? (sbyte)-128 : (sbyte)127).ToArray();
        var (m, sh) = QuantMath.QuantizeMultiplier(1.0 / 40000);
        var mult = Enumerable.Repeat(m, 8).ToArray();
        var shift = Enumerable.Repeat(sh, 8).ToArray();
        var rq = new Requant(128, 0, 255);
        var packed = new sbyte[QConv2dU8S8.PackedWeightsLength(s)];
        QConv2dU8S8.PackWeights(w, s, packed);
        var y = new byte[8 * 36];
        QConv2dU8S8.Run(x, packed, default, mult, shift, y, new byte[QConv2dU8S8.ScratchLength(s)], s, 255, rq);
        Assert.Equal(Naive(x, w, null, mult, shift, s, 255, rq), y);
    }

    [Fact]
    public void WeightSums_AreSumsPerOutputChannel()
    {
        var s = Shape(1, 4, 5, 5, 6, 3, 3, groups: 2);
        var rng = new Random(5);
        var w = Int8Data.SBytes(rng, 6 * 2 * 9);
        var sums = new int[6];
        QConv2dU8S8.WeightSums(w, s, sums);
        for (int co = 0; co < 6; co++) Assert.Equal(w.Skip(co * 18).Take(18).Sum(v => v), sums[co]);
    }

    [Fact]
    public void PackWeights_Layout()
    {
        // 5 output channels (2 blocks), 6 input channels (2 channel groups), 1×2 kernel.
        var s = Shape(1, 6, 4, 4, 5, 1, 2);
        var w = new sbyte[5 * 6 * 2];
        for (int co = 0; co < 5; co++)
            for (int ci = 0; ci < 6; ci++)
                for (int t = 0; t < 2; t++) w[(co * 6 + ci) * 2 + t] = (sbyte)(co * 20 + ci * 2 + t);
        var packed = new sbyte[QConv2dU8S8.PackedWeightsLength(s)];
        Assert.Equal(2 * 2 * 2 * 16, packed.Length);
        QConv2dU8S8.PackWeights(w, s, packed);
        // Block 0, step (cg 0, tap 0): [co 0: ci 0..3][co 1: ci 0..3]…
        Assert.Equal([0, 2, 4, 6, 20, 22, 24, 26], packed[0..8]);
        // Step (cg 0, tap 1).
        Assert.Equal([1, 3, 5, 7], packed[16..20]);
        // Step (cg 1, tap 0): channels 4, 5 then zero padding.
        Assert.Equal([8, 10, 0, 0], packed[32..36]);
        // Block 1 holds channel 4 and three zero channels.
        Assert.Equal([80, 82, 84, 86, 0, 0, 0, 0], packed[64..72]);
    }
}
