using Compress.Runtime.Kernels;
using Compress.Runtime.Tests.Int8;

namespace Compress.Runtime.Tests.LowBit;

/// <summary>Shift convolutions: the codes expand into the int8 kernels' own layout, and the result equals the int8 definition.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class ShiftConv2dU8Tests
{
    [Theory]
    [MemberData(nameof(QConv2dU8S8Tests.Int8Shapes), MemberType = typeof(QConv2dU8S8Tests))]
    public void Run_MatchesInt8Definition(string name, Conv2dShape s)
    {
        var rng = new Random(name.Length * 31 + s.OutChannels);
        var x = Int8Data.Bytes(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = ShiftGemmU8Tests.PowersOfTwo(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var bias = Int8Data.Ints(rng, s.OutChannels, -20000, 20000);
        var (mult, shift) = Int8Data.Multipliers(rng, s.OutChannels, 1e-4, 0.02);
        var codes = new byte[ShiftConv2dU8.PackedWeightsLength(s)];
        ShiftConv2dU8.PackWeights(w, s, codes);
        Assert.Equal((QConv2dU8S8.PackedWeightsLength(s) + 63) / 64 * 32, codes.Length);
        int zpIn = name.Length % 2 == 0 ? 0 : 131;
        var rq = new Requant(128, 0, 255);
        var expected = QConv2dU8S8Tests.Naive(x, w, bias, mult, shift, s, zpIn, rq);
        var y = Int8Data.Output(expected.Length, out var backing);
        var scratch = new byte[ShiftConv2dU8.ScratchLength(s)];
        scratch.AsSpan().Fill(0xEE);
        ShiftConv2dU8.Run(x, Int8Data.Misaligned<byte>(codes), bias, mult, shift, y, scratch, s, zpIn, rq);
        Int8Data.AssertEqual(expected, y, name);
        Int8Data.AssertGuards(backing, expected.Length);
    }

    [Theory]
    [MemberData(nameof(QDepthwiseConv2dU8S8Tests.Shapes), MemberType = typeof(QDepthwiseConv2dU8S8Tests))]
    public void RunDepthwise_MatchesInt8Definition(string name, Conv2dShape s)
    {
        var rng = new Random(name.Length * 17 + s.OutChannels);
        var x = Int8Data.Bytes(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = ShiftGemmU8Tests.PowersOfTwo(rng, s.OutChannels * s.KernelHeight * s.KernelWidth);
        var bias = Int8Data.Ints(rng, s.OutChannels, -20000, 20000);
        var (mult, shift) = Int8Data.Multipliers(rng, s.OutChannels, 1e-4, 0.02);
        var codes = new byte[ShiftConv2dU8.DepthwisePackedWeightsLength(s)];
        ShiftConv2dU8.PackDepthwiseWeights(w, s, codes);
        var rq = new Requant(7, 7, 255);
        var expected = QConv2dU8S8Tests.Naive(x, w, bias, mult, shift, s, 3, rq);
        var y = new byte[expected.Length];
        ShiftConv2dU8.RunDepthwise(x, codes, bias, mult, shift, y, new byte[ShiftConv2dU8.DepthwiseScratchLength(s)], s, 3, rq);
        Int8Data.AssertEqual(expected, y, name);
    }
}
