using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.LowBit;

/// <summary>Weight-only ternary and binary kernels: hand-computed layouts, and every path against the definition in double.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class TernaryBinaryGemmTests
{
    public static TheoryData<int, int> Shapes()
    {
        var d = new TheoryData<int, int>();
        foreach (int k in new[] { 0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 65, 130 })
            foreach (int n in new[] { 1, 5, 15, 16, 17, 32, 33, 48, 65 })
                d.Add(k, n);
        d.Add(1024, 40);
        return d;
    }

    static sbyte[] Codes(Random rng, int length, bool ternary)
    {
        var t = new sbyte[length];
        for (int i = 0; i < length; i++) t[i] = ternary ? (sbyte)rng.Next(-1, 2) : (sbyte)(rng.Next(2) * 2 - 1);
        return t;
    }

    [Fact]
    public void TernaryPack_LowNibbleIsPlus_HighNibbleIsMinus()
    {
        // k = 5, n = 2 (row-major k×n): column 0 = [+1, 0, −1, +1, −1], column 1 = [0, 0, 0, 0, +1].
        sbyte[] t = [1, 0, 0, 0, -1, 0, 1, 0, -1, 1];
        var masks = new byte[TernaryGemmF32.PackedLength(5, 2)];
        Assert.Equal(2 * 16, masks.Length);
        TernaryGemmF32.Pack(t, false, 5, 2, masks);
        Assert.Equal(0b0100_1001, masks[0]);  // quad 0, column 0: P = k0, k3; N = k2
        Assert.Equal(0, masks[1]);            // quad 0, column 1
        Assert.Equal(0b0001_0000, masks[16]); // quad 1, column 0: N = k4
        Assert.Equal(0b0000_0001, masks[17]); // quad 1, column 1: P = k4
        Assert.Throws<ArgumentOutOfRangeException>(() => TernaryGemmF32.Pack([2], false, 1, 1, new byte[16]));
    }

    [Fact]
    public void BinaryPack_OneBitPerWeight_LowNibbleFirstQuad()
    {
        // k = 9, n = 1: signs + + − − + − + + | −
        sbyte[] s = [1, 1, -1, -1, 1, -1, 1, 1, -1];
        var bits = new byte[BinaryGemmF32.PackedLength(9, 1)];
        Assert.Equal(2 * 16, bits.Length);
        BinaryGemmF32.Pack(s, false, 9, 1, bits);
        Assert.Equal(0b1101_0011, bits[0]);
        Assert.Equal(0, bits[16]);
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryGemmF32.Pack([0], false, 1, 1, new byte[16]));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Ternary_MatchesDefinition(int k, int n)
    {
        var rng = new Random(k * 1000 + n);
        var t = Codes(rng, k * n, ternary: true);
        var x = TestData.Random(rng, k);
        var ap = TestData.Random(rng, n).Select(MathF.Abs).ToArray();
        var an = TestData.Random(rng, n).Select(MathF.Abs).ToArray();
        var bias = TestData.Random(rng, n);
        var masks = new byte[TernaryGemmF32.PackedLength(k, n)];
        TernaryGemmF32.Pack(k % 2 == 1 ? Transpose(t, k, n) : t, k % 2 == 1, k, n, masks);
        foreach (var act in TestData.Activations)
        {
            var (expected, magnitude) = Reference(x, t, k, n, (j, c) => c > 0 ? ap[j] : c < 0 ? -an[j] : 0, bias, act);
            var y = TestData.Output(n, out var backing);
            var scratch = new float[TernaryGemmF32.ScratchLength(k) + 1];
            TernaryGemmF32.Gemv(TestData.Misaligned(x, out _), masks, ap, an, bias, y, scratch.AsSpan(1), k, n, act);
            TestData.AssertClose(expected, y, magnitude, 2e-6f, act.Kind.ToString());
            TestData.AssertGuards(backing, n);
            var r = new float[n];
            TernaryGemmF32.Gemv_F32T2_Scalar(x, masks, ap, an, bias, r, k, n, act);
            TestData.AssertClose(expected, r, magnitude, 2e-6f, "reference " + act.Kind);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Binary_MatchesDefinition(int k, int n)
    {
        var rng = new Random(k * 1000 + n + 1);
        var s = Codes(rng, k * n, ternary: false);
        var x = TestData.Random(rng, k);
        var alpha = TestData.Random(rng, n).Select(MathF.Abs).ToArray();
        var bits = new byte[BinaryGemmF32.PackedLength(k, n)];
        BinaryGemmF32.Pack(k % 2 == 0 ? s : Transpose(s, k, n), k % 2 == 1, k, n, bits);
        foreach (var act in TestData.Activations)
        {
            var (expected, magnitude) = Reference(x, s, k, n, (j, c) => c * alpha[j], default, act);
            var y = TestData.Output(n, out var backing);
            BinaryGemmF32.Gemv(x, Compress.Runtime.Tests.Int8.Int8Data.Misaligned<byte>(bits), alpha, default, y, new float[BinaryGemmF32.ScratchLength(k)], k, n, act);
            TestData.AssertClose(expected, y, magnitude, 4e-6f, act.Kind.ToString());
            TestData.AssertGuards(backing, n);
            var r = new float[n];
            BinaryGemmF32.Gemv_F32B1_Scalar(x, bits, alpha, default, r, k, n, act);
            TestData.AssertClose(expected, r, magnitude, 2e-6f, "reference " + act.Kind);
        }
    }

    static sbyte[] Transpose(sbyte[] b, int k, int n)
    {
        var t = new sbyte[k * n];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) t[j * k + kk] = b[kk * n + j];
        return t;
    }

    /// <summary>act(Σₖ x·w(j, code) + bias) in double, and the Σ|terms| magnitude for the tolerance.</summary>
    static (float[] Expected, float[] Magnitude) Reference(float[] x, sbyte[] codes, int k, int n, Func<int, int, float> weight, float[]? bias, FusedActivation act)
    {
        var expected = new float[n];
        var magnitude = new float[n];
        for (int j = 0; j < n; j++)
        {
            double sum = bias?[j] ?? 0, abs = Math.Abs(bias?[j] ?? 0);
            for (int kk = 0; kk < k; kk++)
            {
                double term = x[kk] * (double)weight(j, codes[kk * n + j]);
                sum += term;
                abs += Math.Abs(x[kk]) * Math.Abs(weight(j, codes[kk * n + j])) * 2;
            }
            expected[j] = (float)TestData.Act(sum, act);
            magnitude[j] = (float)abs * TestData.Slope(act);
        }
        return (expected, magnitude);
    }
}
