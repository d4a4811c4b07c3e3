using Compress.Runtime.Kernels;
using Compress.Runtime.Tests.Int8;

namespace Compress.Runtime.Tests.LowBit;

/// <summary>
/// The compact shift-layer record: its bytes against hand-computed ones, the round trip, the exact int16 check, the
/// per-channel multipliers and scales its scale codes give, and the record kernels (prepared on the first call) against
/// the int8 definition with those multipliers.
/// </summary>
[Trait(Simd.Category, Simd.Kernel)]
public class ShiftRecordTests
{
    [Fact]
    public void Write_HandComputedBytes()
    {
        // codes: 1 → 1, −2 → 8|2, 0 → 0, 64 → 7, −64 → 8|7; two per byte, even values in the low nibble.
        sbyte[] values = [1, -2, 0, 64, -64];
        int[] bias = [-2, 300];
        sbyte[] perChannel = [-3, 17];
        Assert.Equal(3 + 2 * 2 + 2, ShiftRecord.Length(values.Length, 2, 2));
        var record = new byte[ShiftRecord.Length(values.Length, 2, 2)];
        ShiftRecord.Write(values, bias, 2, perChannel, record);
        Assert.Equal(new byte[] { 0xA1, 0x70, 0x0F, 0xFE, 0xFF, 0x2C, 0x01, 0xFD, 0x11 }, record);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void RoundTrip(int biasBytes)
    {
        var rng = new Random(biasBytes);
        var values = ShiftGemmU8Tests.PowersOfTwo(rng, 37);
        var bias = Int8Data.Ints(rng, 5, biasBytes == 2 ? short.MinValue : -1_000_000, biasBytes == 2 ? short.MaxValue : 1_000_000);
        var perChannel = Int8Data.SBytes(rng, 5);
        var record = new byte[ShiftRecord.Length(values.Length, 5, biasBytes)];
        ShiftRecord.Write(values, bias, biasBytes, perChannel, record);
        var v = new sbyte[values.Length];
        ShiftRecord.ReadValues(record, v);
        Assert.Equal(values, v);
        var b = new int[5];
        ShiftRecord.ReadBias(record, values.Length, biasBytes, b);
        Assert.Equal(bias, b);
        var p = new int[5];
        ShiftRecord.ReadPerChannel(record, values.Length, biasBytes, p);
        Assert.Equal(perChannel.Select(x => (int)x), p);
    }

    [Fact]
    public void Int16Bias_IsCheckedExactly()
    {
        Assert.True(ShiftRecord.FitsInt16([short.MinValue, short.MaxValue, 0]));
        Assert.False(ShiftRecord.FitsInt16([short.MaxValue + 1]));
        Assert.False(ShiftRecord.FitsInt16([short.MinValue - 1]));
        var record = new byte[ShiftRecord.Length(2, 1, 2)];
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftRecord.Write([1, 2], [40000], 2, [0], record));
    }

    [Fact]
    public void ChannelMultiplier_HandComputed()
    {
        Assert.Equal((1 << 30, 5), ShiftRecord.ChannelMultiplier(1 << 30, 5, 0));
        Assert.Equal((1 << 30, 6), ShiftRecord.ChannelMultiplier(1 << 30, 5, 16));
        Assert.Equal((1 << 30, 3), ShiftRecord.ChannelMultiplier(1 << 30, 5, -32));
        // 2^30 · round(2^30·√2) / 2^30 = 1518500250 (2^(8/16) = √2).
        Assert.Equal((1518500250, -2), ShiftRecord.ChannelMultiplier(1 << 30, -2, 8));
        // −1 = 16·(−1) + 15: 2^(15/16) one octave down.
        Assert.Equal((2056437387, -3), ShiftRecord.ChannelMultiplier(1 << 30, -2, -1));
        Assert.Equal((0, 0), ShiftRecord.ChannelMultiplier(0, 7, 40));
        Assert.Equal((0, 0), ShiftRecord.ChannelMultiplier(1 << 30, -31, -17));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftRecord.ChannelMultiplier(1 << 30, 30, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftRecord.ChannelMultiplier(12345, 0, 0));
    }

    [Fact]
    public void ChannelMultiplier_IsTheRealProductTo31Bits()
    {
        var rng = new Random(3);
        for (int t = 0; t < 2000; t++)
        {
            var (m0, s0) = QuantMath.QuantizeMultiplier(Math.Pow(2, rng.NextDouble() * 20 - 15));
            int index = rng.Next(-128, 128);
            var (m, s) = ShiftRecord.ChannelMultiplier(m0, s0, index);
            if (m == 0) continue;
            Assert.InRange(m, 1 << 30, int.MaxValue);
            double expected = m0 * Math.Pow(2, s0 - 31) * Math.Pow(2, index / 16.0), actual = m * Math.Pow(2, s - 31);
            Assert.True(Math.Abs(actual - expected) <= 2.5e-9 * expected, $"{m0}·2^{s0} × 2^({index}/16): {actual} vs {expected}");
        }
    }

    [Fact]
    public void ChannelScale_HandComputed()
    {
        Assert.Equal(3f, ShiftRecord.ChannelScale(1.5f, 16));
        Assert.Equal(0.375f, ShiftRecord.ChannelScale(1.5f, -32));
        Assert.Equal(1.5f * (float)(1518500250 / (double)(1 << 30)), ShiftRecord.ChannelScale(1.5f, 8));
        Assert.Equal(MathF.ScaleB(1.5f * (float)(2056437387 / (double)(1 << 30)), -1), ShiftRecord.ChannelScale(1.5f, -1));
    }

    [Theory]
    [MemberData(nameof(QConv2dU8S8Tests.Int8Shapes), MemberType = typeof(QConv2dU8S8Tests))]
    public void RunRecord_MatchesInt8Definition(string name, Conv2dShape s) => CheckConv(name, s, depthwise: false);

    [Theory]
    [MemberData(nameof(QDepthwiseConv2dU8S8Tests.Shapes), MemberType = typeof(QDepthwiseConv2dU8S8Tests))]
    public void RunDepthwiseRecord_MatchesInt8Definition(string name, Conv2dShape s) => CheckConv(name, s, depthwise: true);

    static void CheckConv(string name, Conv2dShape s, bool depthwise)
    {
        var rng = new Random(name.Length * 13 + s.OutChannels);
        var x = Int8Data.Bytes(rng, s.Batch * s.InChannels * s.InHeight * s.InWidth);
        var w = ShiftGemmU8Tests.PowersOfTwo(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        foreach (int biasBytes in new[] { 2, 4 })
        {
            var bias = Int8Data.Ints(rng, s.OutChannels, biasBytes == 2 ? -30000 : -200000, biasBytes == 2 ? 30000 : 200000);
            var (m0, s0, codes, mult, shift) = LayerMultiplier(rng, s.OutChannels);
            int zpIn = name.Length % 2 == 0 ? 0 : 131;
            var rq = new Requant(128, 0, 255);
            var expected = QConv2dU8S8Tests.Naive(x, w, bias, mult, shift, s, zpIn, rq);
            var record = new byte[ShiftRecord.Length(w.Length, s.OutChannels, biasBytes)];
            ShiftRecord.Write(w, bias, biasBytes, codes, record);
            var prepared = new byte[ShiftConv2dU8.PreparedLength(s, depthwise)];
            prepared.AsSpan().Fill(0xEE);
            var scratch = new byte[depthwise ? QDepthwiseConv2dU8S8.ScratchLength(s) : QConv2dU8S8.ScratchLength(s)];
            for (int call = 0; call < 2; call++) // the first call prepares, the second runs on the prepared buffer
            {
                var y = Int8Data.Output(expected.Length, out var backing);
                if (depthwise) ShiftConv2dU8.RunDepthwiseRecord(x, Int8Data.Misaligned<byte>(record), prepared, y, scratch, s, zpIn, rq, m0, s0, biasBytes);
                else ShiftConv2dU8.RunRecord(x, Int8Data.Misaligned<byte>(record), prepared, y, scratch, s, zpIn, rq, m0, s0, biasBytes);
                Int8Data.AssertEqual(expected, y, $"{name} bias {biasBytes} call {call}");
                Int8Data.AssertGuards(backing, expected.Length);
                Assert.True(ShiftRecord.IsPrepared(prepared));
            }
        }
    }

    [Theory]
    [InlineData(1, 16, 4)]
    [InlineData(1, 4, 16)]
    [InlineData(1, 32, 10)]
    [InlineData(1, 67, 33)]
    [InlineData(1, 130, 17)]
    public void GemvRecord_MatchesInt8Definition(int m, int k, int n)
    {
        var rng = new Random(k * 1000 + n);
        var a = Int8Data.Bytes(rng, m * k);
        var b = ShiftGemmU8Tests.PowersOfTwo(rng, k * n);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        var (m0, s0, codes, mult, shift) = LayerMultiplier(rng, n);
        var rq = new Requant(3, 3, 200);
        var expected = QGemmU8S8Tests.NaiveRequant(QGemmU8S8Tests.NaiveAcc(a, b, false, bias, m, k, n), mult, shift, m, n, rq);
        foreach (bool transposed in new[] { false, true })
        {
            var stored = transposed ? Transpose(b, k, n) : b;
            var record = new byte[ShiftRecord.Length(b.Length, n, 2)];
            ShiftRecord.Write(stored, bias, 2, codes, record);
            var prepared = new byte[ShiftGemmU8.PreparedLength(k, n)];
            for (int call = 0; call < 2; call++)
            {
                var c = Int8Data.Output(n, out var backing);
                ShiftGemmU8.GemvRecord(Int8Data.Misaligned<byte>(a), record, prepared, c, k, n, rq, m0, s0, 2, transposed);
                Int8Data.AssertEqual(expected, c, $"transposed={transposed} call {call}");
                Int8Data.AssertGuards(backing, n);
            }
        }
    }

    [Theory]
    [InlineData(1, 8, 32)]
    [InlineData(1, 32, 10)]
    [InlineData(1, 67, 33)]
    public void GemvToF32Record_MatchesInt8Definition(int m, int k, int n)
    {
        var rng = new Random(k + n);
        var a = Int8Data.Bytes(rng, m * k);
        var b = ShiftGemmU8Tests.PowersOfTwo(rng, k * n);
        var bias = Int8Data.Ints(rng, n, -100000, 100000);
        const float scaleBase = 1.37f;
        var codes = Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-128, -40)).ToArray();
        var scale = codes.Select(i => (float)(scaleBase * Math.Pow(2, i / 16.0))).ToArray();
        var acc = QGemmU8S8Tests.NaiveAcc(a, b, false, bias, m, k, n);
        var record = new byte[ShiftRecord.Length(b.Length, n, 4)];
        ShiftRecord.Write(b, bias, 4, codes, record);
        foreach (var act in TestData.Activations)
        {
            var expected = new float[n];
            for (int j = 0; j < n; j++) expected[j] = (float)TestData.Act((double)acc[j] * scale[j], act);
            var prepared = new byte[ShiftGemmU8.PreparedLength(k, n)];
            prepared.AsSpan().Fill(0xFF);
            var c = TestData.Output(n, out var backing);
            ShiftGemmU8.GemvToF32Record(a, record, prepared, c, k, n, act, scaleBase, 4, transposed: false);
            TestData.AssertClose(expected, c, 1e-5f, act.Kind.ToString());
            TestData.AssertGuards(backing, n);
        }
    }

    /// <summary>A layer multiplier, a scale code per channel and the channels' (multiplier, shift) they give.</summary>
    static (int M0, int S0, sbyte[] Codes, int[] Multiplier, int[] Shift) LayerMultiplier(Random rng, int n)
    {
        var (m0, s0) = QuantMath.QuantizeMultiplier(1e-3 * (1 + rng.NextDouble()));
        var codes = Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-60, 40)).ToArray();
        var mult = new int[n];
        var shift = new int[n];
        for (int c = 0; c < n; c++) (mult[c], shift[c]) = ShiftRecord.ChannelMultiplier(m0, s0, codes[c]);
        return (m0, s0, codes, mult, shift);
    }

    static sbyte[] Transpose(sbyte[] b, int k, int n)
    {
        var t = new sbyte[b.Length];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++) t[j * k + i] = b[i * n + j];
        return t;
    }
}
