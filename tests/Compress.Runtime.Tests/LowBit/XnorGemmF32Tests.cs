using System.Numerics;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.LowBit;

/// <summary>Fully binary layers: binarisation by hand, popcount bodies against <see cref="BitOperations.PopCount(ulong)"/>, the whole kernel against the definition.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class XnorGemmF32Tests
{
    [Fact]
    public void Binarize_TwoLevelsAroundTheMean()
    {
        // mean 2.5; above: 4, 6 (mean 5); at or below: 0, 0 (mean 0) → μ = 2.5, β = 2.5; bits 0b1010 (x1, x3 above).
        float[] x = [0, 4, 0, 6];
        var bits = new ulong[1];
        var (mu, beta) = XnorGemmF32.Binarize(x, 4, bits);
        Assert.Equal(2.5f, mu);
        Assert.Equal(2.5f, beta);
        Assert.Equal(0b1010UL, bits[0]);
        // Symmetric zero-mean inputs: XNOR-Net's sign with β = mean|x|.
        (mu, beta) = XnorGemmF32.Binarize([-1, 3, -3, 1], 4, bits);
        Assert.Equal(0f, mu);
        Assert.Equal(2f, beta);
        Assert.Equal(0b1010UL, bits[0]);
        // All equal: β = 0, μ = the value.
        (mu, beta) = XnorGemmF32.Binarize([2, 2, 2], 3, bits);
        Assert.Equal((2f, 0f), (mu, beta));
    }

    [Theory]
    [MemberData(nameof(TestData.LengthData), MemberType = typeof(TestData))]
    public void Binarize_BitsAreAboveTheMean(int k)
    {
        var rng = new Random(k);
        var x = TestData.Random(rng, k * 5);
        var bits = new ulong[(k * 5 + 63) / 64];
        var (mu, beta) = XnorGemmF32.Binarize(x, x.Length, bits);
        if (x.Length == 0) return;
        float mean = x.Sum() / x.Length;
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] > mean, ((bits[i / 64] >> (i % 64)) & 1) != 0);
        var hi = x.Where(v => v > mean).DefaultIfEmpty(mean).Average();
        var lo = x.Where(v => v <= mean).Average();
        Assert.Equal((hi + lo) / 2, mu, 1e-5);
        Assert.Equal((hi - lo) / 2, beta, 1e-5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(30)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(70)]
    public void PopcountBodies_AgreeWithPopcnt(int words)
    {
        var rng = new Random(words);
        var x = Enumerable.Range(0, words).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40)).ToArray();
        var block = Enumerable.Range(0, words * 8).Select(i => i % 9 == 0 ? ulong.MaxValue : (ulong)rng.NextInt64()).ToArray();
        var expected = new int[8];
        for (int t = 0; t < words; t++)
            for (int c = 0; c < 8; c++) expected[c] += BitOperations.PopCount(x[t] ^ block[t * 8 + c]);
        var counts = new int[8];
        XnorGemmF32.Block_B1B1_8x64_Scalar(x, block, counts);
        Assert.Equal(expected, counts);
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            XnorGemmF32.Block_B1B1_8x64_Vector128(x, block, counts);
            Assert.Equal(expected, counts);
        }
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            XnorGemmF32.Block_B1B1_8x64_Avx2(x, block, counts);
            Assert.Equal(expected, counts);
        }
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            XnorGemmF32.Block_B1B1_8x64_Avx512BW(x, block, counts);
            Assert.Equal(expected, counts);
        }
    }

    [Fact]
    public void Pack_Layout_EightColumnsPerBlock()
    {
        // k = 3, n = 9: column j has signs (+, −, +) for even j, (−, −, +) for odd j; column 8 goes to block 1.
        var s = new sbyte[3 * 9];
        for (int j = 0; j < 9; j++) { s[j] = (sbyte)(j % 2 == 0 ? 1 : -1); s[9 + j] = -1; s[18 + j] = 1; }
        var packed = new byte[XnorGemmF32.PackedLength(3, 9)];
        Assert.Equal(2 * 64, packed.Length);
        XnorGemmF32.Pack(s, false, 3, 9, packed);
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(packed);
        Assert.Equal(0b101UL, words[0]);
        Assert.Equal(0b100UL, words[1]);
        Assert.Equal(0b101UL, words[8]);
        Assert.Equal(0UL, words[9]);
        var sums = new int[9];
        XnorGemmF32.ColumnSums(s, false, 3, 9, sums);
        Assert.Equal([1, -1, 1, -1, 1, -1, 1, -1, 1], sums);
    }

    [Theory]
    [MemberData(nameof(TernaryBinaryGemmTests.Shapes), MemberType = typeof(TernaryBinaryGemmTests))]
    public void Gemv_MatchesBinarisedDefinition(int k, int n)
    {
        var rng = new Random(k * 31 + n);
        var s = Enumerable.Range(0, k * n).Select(_ => (sbyte)(rng.Next(2) * 2 - 1)).ToArray();
        var x = TestData.Random(rng, k).Select(v => MathF.Max(v, 0) * 3).ToArray(); // ReLU-like inputs
        var alpha = TestData.Random(rng, n).Select(MathF.Abs).ToArray();
        var bias = TestData.Random(rng, n);
        var packed = new byte[XnorGemmF32.PackedLength(k, n)];
        XnorGemmF32.Pack(s, false, k, n, packed);
        var sums = new int[n];
        XnorGemmF32.ColumnSums(s, false, k, n, sums);
        var bits = new ulong[(k + 63) / 64];
        var (mu, beta) = XnorGemmF32.Binarize(x, k, bits);
        foreach (var act in TestData.Activations)
        {
            var expected = new float[n];
            var magnitude = new float[n];
            for (int j = 0; j < n; j++)
            {
                double sum = bias[j], abs = Math.Abs(bias[j]);
                for (int kk = 0; kk < k; kk++)
                {
                    double xb = mu + beta * (((bits[kk / 64] >> (kk % 64)) & 1) != 0 ? 1 : -1);
                    sum += alpha[j] * xb * s[kk * n + j];
                    abs += Math.Abs(alpha[j] * xb);
                }
                expected[j] = (float)TestData.Act(sum, act);
                magnitude[j] = (float)abs * TestData.Slope(act);
            }
            var y = TestData.Output(n, out var backing);
            var scratch = new byte[XnorGemmF32.ScratchLength(k)];
            XnorGemmF32.Gemv(TestData.Misaligned(x, out _), packed, alpha, sums, bias, y, scratch, k, n, act);
            TestData.AssertClose(expected, y, magnitude, 2e-5f, act.Kind.ToString());
            TestData.AssertGuards(backing, n);
        }
    }
}
