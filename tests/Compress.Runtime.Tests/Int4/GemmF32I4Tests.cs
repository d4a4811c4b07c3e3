using Compress.Runtime.Kernels;

using Compress.Runtime.Tests.Int8;

namespace Compress.Runtime.Tests.Int4;

[Trait(Simd.Category, Simd.Kernel)]
public class GemmF32I4Tests
{
    [Theory]
    [InlineData(1, 1, 32)]
    [InlineData(31, 17, 32)]
    [InlineData(64, 16, 32)]
    [InlineData(100, 33, 16)]
    [InlineData(257, 40, 64)]
    [InlineData(7, 5, 3)]
    public void Pack_RoundTrips_WithinHalfAStep(int k, int n, int blockSize)
    {
        var rng = new Random(k * n + blockSize);
        var w = TestData.Random(rng, k * n, 2f);
        foreach (bool transposed in new[] { false, true })
        {
            var packed = new byte[GemmF32I4.PackedLength(k, n, blockSize)];
            var scales = new float[GemmF32I4.ScalesLength(k, n, blockSize)];
            GemmF32I4.Pack(w, transposed, k, n, blockSize, packed, scales);
            int blocks = (k + blockSize - 1) / blockSize;
            for (int j = 0; j < n; j++)
                for (int kk = 0; kk < k; kk++)
                {
                    float original = transposed ? w[j * k + kk] : w[kk * n + j];
                    int code = GemmF32I4.GetCode(packed, kk, j, k);
                    Assert.InRange(code, -8, 7);
                    float scale = scales[GemmF32I4.ScaleIndex(j, kk / blockSize, blocks)];
                    Assert.True(Math.Abs(code * scale - original) <= scale / 2 * 1.0001f + 1e-7f, $"({kk},{j}): {original} → {code}·{scale}");
                }
        }
    }

    [Fact]
    public void Pack_Layout_LowNibbleIsColumnB_HighNibbleIsColumnBPlus8()
    {
        int k = 2, n = 16;
        var w = new float[k * n];
        for (int j = 0; j < n; j++) { w[j] = 7; w[n + j] = j < 8 ? -7 : 7; } // row 0 all +7 (code 7), row 1 −7 then +7
        var packed = new byte[GemmF32I4.PackedLength(k, n, 32)];
        var scales = new float[GemmF32I4.ScalesLength(k, n, 32)];
        GemmF32I4.Pack(w, false, k, n, 32, packed, scales);
        Assert.Equal(16, packed.Length);
        Assert.All(packed[0..8], b => Assert.Equal(0x77, b));
        Assert.All(packed[8..16], b => Assert.Equal(0x79, b)); // high nibble 7, low nibble −7 = 0x9
        Assert.All(scales, s => Assert.Equal(1f, s));
    }

    [Theory]
    [InlineData(0, 5, 32)]
    [InlineData(1, 1, 32)]
    [InlineData(5, 3, 32)]
    [InlineData(64, 16, 32)]
    [InlineData(100, 33, 16)]
    [InlineData(257, 70, 64)]
    [InlineData(37, 17, 5)]
    public void Gemv_MatchesDequantisedReference(int k, int n, int blockSize)
    {
        var rng = new Random(k + n * 7 + blockSize);
        var w = TestData.Random(rng, k * n);
        var x = TestData.Random(rng, k);
        var bias = TestData.Random(rng, n);
        var packed = new byte[GemmF32I4.PackedLength(k, n, blockSize)];
        var scales = new float[GemmF32I4.ScalesLength(k, n, blockSize)];
        GemmF32I4.Pack(w, false, k, n, blockSize, packed, scales);
        int blocks = (k + blockSize - 1) / blockSize;
        foreach (var act in TestData.Activations)
        {
            var expected = new float[n];
            var magnitude = new float[n];
            for (int j = 0; j < n; j++)
            {
                double sum = bias[j], abs = Math.Abs(bias[j]);
                for (int kk = 0; kk < k; kk++)
                {
                    double t = x[kk] * (double)GemmF32I4.GetCode(packed, kk, j, k) * scales[GemmF32I4.ScaleIndex(j, kk / blockSize, blocks)];
                    sum += t;
                    abs += Math.Abs(t);
                }
                expected[j] = (float)TestData.Act(sum, act);
                magnitude[j] = (float)abs * TestData.Slope(act);
            }
            var y = TestData.Output(n, out var backing);
            GemmF32I4.Gemv(Int8Data.Misaligned<float>(x), Int8Data.Misaligned<byte>(packed), scales, bias, y, k, n, blockSize, act);
            TestData.AssertClose(expected, y, magnitude, 1e-5f, act.Kind.ToString());
            TestData.AssertGuards(backing, n);
            var yRef = new float[n];
            GemmF32I4.Gemv_F32I4_Scalar(x, packed, scales, bias, yRef, k, n, blockSize, act);
            ActivationF32.PostPass(yRef, act);
            TestData.AssertClose(expected, yRef, magnitude, 1e-5f, "scalar " + act.Kind);
        }
    }
}
