using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Int8;

[Trait(Simd.Category, Simd.Kernel)]
public class QuantMathTests
{
    [Fact]
    public void QuantizeMultiplier_RoundTrips()
    {
        var rng = new Random(1);
        for (int i = 0; i < 20000; i++)
        {
            double m = Math.Pow(2, rng.NextDouble() * 59 - 31); // 2^-31 .. 2^28 (below 2^-32 flushes to zero, see KnownValues)
            var (q, shift) = QuantMath.QuantizeMultiplier(m);
            Assert.InRange(q, 1 << 30, int.MaxValue);
            Assert.InRange(shift, -31, 30);
            double back = q * Math.Pow(2, shift - 31);
            Assert.True(Math.Abs(back - m) <= m * Math.Pow(2, -31), $"M={m}: {q}·2^({shift}−31) = {back}");
        }
    }

    [Theory]
    [InlineData(0.5, 1 << 30, 0)]
    [InlineData(1.0, 1 << 30, 1)]
    [InlineData(0.25, 1 << 30, -1)]
    [InlineData(0.75, 0x6000_0000, 0)]
    [InlineData(0.0, 0, 0)]
    [InlineData(1e-12, 0, 0)] // 2^-39.9: the shift would be below -31, flushed to zero like TFLite
    public void QuantizeMultiplier_KnownValues(double m, int expectedMultiplier, int expectedShift)
    {
        Assert.Equal((expectedMultiplier, expectedShift), QuantMath.QuantizeMultiplier(m));
    }

    [Fact]
    public void QuantizeMultiplier_RoundingUpToTwoPow31_Renormalises()
    {
        // q just below 1 rounds to 2^31: TFLite halves it and bumps the shift.
        double m = 1 - Math.Pow(2, -33);
        Assert.Equal((1 << 30, 1), QuantMath.QuantizeMultiplier(m));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e10)]
    public void QuantizeMultiplier_RejectsBadInput(double m)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantMath.QuantizeMultiplier(m));
    }

    /// <summary>The gemmlowp definition, with BigInteger so nothing can overflow in the reference itself.</summary>
    private static int SrdhmReference(int a, int b)
    {
        if (a == int.MinValue && b == int.MinValue) return int.MaxValue;
        BigInteger ab = (BigInteger)a * b;
        BigInteger nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
        return (int)BigInteger.Divide(ab + nudge, BigInteger.One << 31); // truncates toward zero, like C++
    }

    [Fact]
    public void SaturatingRoundingDoublingHighMul_MatchesGemmlowp()
    {
        var rng = new Random(2);
        int[] special = [0, 1, -1, 2, -2, int.MaxValue, int.MinValue, int.MinValue + 1, 1 << 30, -(1 << 30), (1 << 30) + 1, 12345, -12345];
        foreach (int a in special)
            foreach (int b in special)
                Assert.Equal(SrdhmReference(a, b), QuantMath.SaturatingRoundingDoublingHighMul(a, b));
        for (int i = 0; i < 100000; i++)
        {
            int a = rng.Next(int.MinValue, int.MaxValue), b = rng.Next(int.MinValue, int.MaxValue);
            Assert.Equal(SrdhmReference(a, b), QuantMath.SaturatingRoundingDoublingHighMul(a, b));
        }
    }

    [Fact]
    public void RoundingDivideByPOT_RoundsHalfAwayFromZero()
    {
        Assert.Equal(1, QuantMath.RoundingDivideByPOT(1, 1));   // 0.5 → 1
        Assert.Equal(-1, QuantMath.RoundingDivideByPOT(-1, 1)); // -0.5 → -1
        Assert.Equal(2, QuantMath.RoundingDivideByPOT(6, 2));   // 1.5 → 2
        Assert.Equal(-2, QuantMath.RoundingDivideByPOT(-6, 2)); // -1.5 → -2
        Assert.Equal(1, QuantMath.RoundingDivideByPOT(5, 2));   // 1.25 → 1
    }

    [Fact]
    public void RoundingDivideByPOT_MatchesDouble()
    {
        var rng = new Random(3);
        for (int i = 0; i < 100000; i++)
        {
            int x = rng.Next(int.MinValue, int.MaxValue), e = rng.Next(0, 32);
            double q = x / Math.Pow(2, e);
            double expected = Math.Round(q, MidpointRounding.AwayFromZero);
            Assert.Equal(expected, QuantMath.RoundingDivideByPOT(x, e));
        }
    }

    /// <summary>Requantisation against the real multiplication in double: off by at most one unit, over random
    /// multipliers (2^-30 .. 2^8, so negative and positive shifts) and accumulators that do not overflow.</summary>
    [Fact]
    public void MultiplyByQuantizedMultiplier_WithinOneUnitOfDouble()
    {
        var rng = new Random(4);
        for (int i = 0; i < 200000; i++)
        {
            double m = Math.Pow(2, rng.NextDouble() * 38 - 30);
            var (q, shift) = QuantMath.QuantizeMultiplier(m);
            double real = q * Math.Pow(2, shift - 31);
            // Keep acc·2^max(shift,0) and the result inside int32.
            long limit = Math.Min(int.MaxValue >> Math.Max(shift, 0), (long)(int.MaxValue / Math.Max(real, 1.0)));
            int acc = (int)(rng.NextInt64(-limit, limit + 1));
            int r = QuantMath.MultiplyByQuantizedMultiplier(acc, q, shift);
            double expected = acc * real;
            Assert.True(Math.Abs(r - expected) <= 1.0, $"acc={acc} M={real} (q={q}, shift={shift}): got {r}, expected ≈ {expected}");
        }
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_KnownTfliteValues()
    {
        Assert.Equal(50, QuantMath.MultiplyByQuantizedMultiplier(100, 1 << 30, 0));   // ×0.5
        Assert.Equal(25, QuantMath.MultiplyByQuantizedMultiplier(100, 1 << 30, -1));  // ×0.25
        Assert.Equal(200, QuantMath.MultiplyByQuantizedMultiplier(100, 1 << 30, 2));  // ×2
        Assert.Equal(-13, QuantMath.MultiplyByQuantizedMultiplier(-100, 1 << 30, -2)); // −12.5 → −13 (away from zero)
        Assert.Equal(13, QuantMath.MultiplyByQuantizedMultiplier(100, 1 << 30, -2));   // 12.5 → 13
    }

    private static (int[] Acc, int[] Mult, int[] Shift) RequantCases(int count)
    {
        var rng = new Random(5);
        var acc = new int[count];
        var mult = new int[count];
        var shift = new int[count];
        int[] specialAcc = [0, 1, -1, int.MaxValue, int.MinValue, 1 << 30, -(1 << 30), 255, -255, 65280, -65280];
        for (int i = 0; i < count; i++)
        {
            acc[i] = i < specialAcc.Length ? specialAcc[i] : rng.Next(4) switch
            {
                0 => rng.Next(-1000, 1000),
                1 => rng.Next(-(1 << 20), 1 << 20),
                _ => rng.Next(int.MinValue, int.MaxValue),
            };
            mult[i] = rng.Next(3) == 0 ? 1 << 30 : rng.Next(1 << 30, int.MaxValue);
            shift[i] = rng.Next(3) == 0 ? rng.Next(-31, 31) : rng.Next(-20, 1);
        }
        return (acc, mult, shift);
    }

    /// <summary>The vectorised requantisation equals the scalar reference bit for bit, for every lane width the CPU runs.</summary>
    [Fact]
    public void VectorRequant_MatchesScalarBitForBit()
    {
        const int count = 1 << 16;
        var (acc, mult, shift) = RequantCases(count);
        int zp = 7, lo = 3, hi = 250;
        var expected = new int[count];
        for (int i = 0; i < count; i++) expected[i] = RequantU8.Scalar(acc[i], mult[i], shift[i], zp, lo, hi);
        for (int i = 0; i + 4 <= count; i += 4)
        {
            var v = RequantU8.Apply(Vector128.Create(acc, i), Vector128.Create(mult, i), Vector128.Create(shift, i), zp, lo, hi);
            for (int l = 0; l < 4; l++) Assert.Equal(expected[i + l], v.GetElement(l));
        }
        if (Avx2.IsSupported)
            for (int i = 0; i + 8 <= count; i += 8)
            {
                var v = RequantU8.Apply(Vector256.Create(acc.AsSpan(i, 8)), Vector256.Create(mult.AsSpan(i, 8)), Vector256.Create(shift.AsSpan(i, 8)),
                    Vector256.Create(zp), Vector256.Create(lo), Vector256.Create(hi));
                for (int l = 0; l < 8; l++) Assert.True(expected[i + l] == v.GetElement(l), $"lane {i + l}: acc {acc[i + l]} m {mult[i + l]} s {shift[i + l]}");
            }
        if (Avx512F.IsSupported)
            for (int i = 0; i + 16 <= count; i += 16)
            {
                var v = RequantU8.Apply(Vector512.Create(acc.AsSpan(i, 16)), Vector512.Create(mult.AsSpan(i, 16)), Vector512.Create(shift.AsSpan(i, 16)),
                    Vector512.Create(zp), Vector512.Create(lo), Vector512.Create(hi));
                for (int l = 0; l < 16; l++) Assert.True(expected[i + l] == v.GetElement(l), $"lane {i + l}: acc {acc[i + l]} m {mult[i + l]} s {shift[i + l]}");
            }
    }

    /// <summary>The per-channel (uniform multiplier/shift) 8-lane form used by the convolution epilogues, bias included.</summary>
    [Fact]
    public void UniformRequant_MatchesScalarBitForBit()
    {
        if (!Avx2.IsSupported) return;
        const int count = 1 << 14;
        var (acc, mult, shift) = RequantCases(count);
        int zp = 9, lo = 0, hi = 255;
        for (int i = 0; i + 8 <= count; i += 8)
        {
            int bias = (i % 3 - 1) * 12345;
            var r = new RequantU8.Uniform256(bias, mult[i], shift[i], zp, lo, hi);
            var v = r.Apply(Vector256.Create(acc.AsSpan(i, 8)));
            for (int l = 0; l < 8; l++)
            {
                int expected = RequantU8.Scalar(unchecked(acc[i + l] + bias), mult[i], shift[i], zp, lo, hi);
                Assert.True(expected == v.GetElement(l), $"acc {acc[i + l]} bias {bias} m {mult[i]} s {shift[i]}: expected {expected}, got {v.GetElement(l)}");
            }
        }
    }

    [Fact]
    public void Narrow_KeepsLaneOrder()
    {
        var a = Vector128.Create(0, 1, 2, 255);
        var b = Vector128.Create(4, 5, 6, 7);
        var r = RequantU8.Narrow(a, b);
        Assert.Equal([0, 1, 2, 255, 4, 5, 6, 7], Enumerable.Range(0, 8).Select(i => r.GetElement(i)).ToArray());
        if (Avx2.IsSupported)
        {
            var r2 = RequantU8.Narrow(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(8, 9, 10, 11, 12, 13, 14, 255));
            Assert.Equal(Enumerable.Range(0, 15).Select(i => (byte)i).Append((byte)255).ToArray(), Enumerable.Range(0, 16).Select(i => r2.GetElement(i)).ToArray());
        }
        if (Avx512F.IsSupported)
        {
            var r3 = RequantU8.Narrow(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255));
            Assert.Equal(Enumerable.Range(0, 15).Select(i => (byte)i).Append((byte)255).ToArray(), Enumerable.Range(0, 16).Select(i => r3.GetElement(i)).ToArray());
        }
    }
}
