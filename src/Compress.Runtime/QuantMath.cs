using System.Runtime.CompilerServices;

namespace Compress.Runtime;

/// <summary>
/// Fixed-point requantisation arithmetic with the exact semantics of gemmlowp / TFLite's reference kernels
/// (Jacob et al., CVPR 2018, §2.2): a real multiplier M &gt; 0 becomes a Q31 integer in [2^30, 2^31) and a power-of-two
/// shift; applying it is a saturating rounding doubling high multiply followed by a rounding right shift.
/// Used at build time (to compute the multipliers) and as the scalar reference the vectorised epilogues match bit for bit.
/// </summary>
public static class QuantMath
{
    /// <summary>
    /// TFLite <c>QuantizeMultiplier</c>: M = Multiplier·2^(Shift−31) with Multiplier in [2^30, 2^31) (0 for M = 0).
    /// frexp splits M into q·2^Shift with q in [0.5, 1); q·2^31 is rounded half away from zero; a rounded value of
    /// exactly 2^31 is halved and the shift incremented; a shift below −31 flushes to (0, 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="realMultiplier"/> is negative, NaN or infinite, or so
    /// large that Shift would exceed 30 (M ≥ 2^30).</exception>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double realMultiplier)
    {
        if (!double.IsFinite(realMultiplier) || realMultiplier < 0)
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "Must be finite and non-negative.");
        if (realMultiplier == 0) return (0, 0);
        var (q, shift) = Frexp(realMultiplier);
        long qFixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
        if (qFixed == 1L << 31)
        {
            qFixed /= 2;
            shift++;
        }
        if (shift < -31) return (0, 0);
        if (shift > 30)
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "Too large: the shift would exceed 30.");
        return ((int)qFixed, shift);
    }

    /// <summary>
    /// TFLite <c>MultiplyByQuantizedMultiplier</c> (the double-rounding gemmlowp form):
    /// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc·2^max(shift,0), multiplier), max(−shift, 0)).
    /// The left shift wraps like the C++ reference does in practice. This is the scalar reference every kernel matches.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MultiplyByQuantizedMultiplier(int acc, int multiplier, int shift)
    {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(unchecked(acc << leftShift), multiplier), rightShift);
    }

    /// <summary>
    /// gemmlowp <c>SaturatingRoundingDoublingHighMul</c>: the high 32 bits of 2·a·b, rounded (nudge 2^30, or 1−2^30 for
    /// a negative product, then truncating division by 2^31); saturates the single overflow case a = b = int.MinValue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == b && a == int.MinValue) return int.MaxValue;
        long ab = (long)a * b;
        long nudge = ab >= 0 ? 1 << 30 : 1 - (1 << 30);
        return (int)((ab + nudge) / (1L << 31));
    }

    /// <summary>
    /// gemmlowp <c>RoundingDivideByPOT</c>: x / 2^exponent rounded to nearest, ties away from zero
    /// (exponent in [0, 31]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        int mask = unchecked((1 << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>The scalar requantisation of one accumulator: clamp(zp + MBQM(acc, multiplier, shift), lo, hi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Requantize(int acc, int multiplier, int shift, int zeroPoint, int lo, int hi)
    {
        int v = unchecked(zeroPoint + MultiplyByQuantizedMultiplier(acc, multiplier, shift));
        return (byte)Math.Clamp(v, lo, hi);
    }

    /// <summary>C frexp: value = q·2^exponent with q in [0.5, 1) for finite value &gt; 0.</summary>
    private static (double Q, int Exponent) Frexp(double value)
    {
        int exponent = Math.ILogB(value) + 1;
        double q = Math.ScaleB(value, -exponent);
        // ILogB is exact for normal and subnormal doubles, so q is in [0.5, 1); guard the boundaries anyway.
        if (q >= 1.0) { q /= 2; exponent++; }
        else if (q < 0.5) { q *= 2; exponent--; }
        return (q, exponent);
    }
}
