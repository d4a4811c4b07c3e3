using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Vectorised <see cref="QuantMath.MultiplyByQuantizedMultiplier"/> + zero point + clamp, bit for bit equal to the
/// scalar reference for every multiplier ≥ 0 (all that <see cref="QuantMath.QuantizeMultiplier"/> produces).
/// SaturatingRoundingDoublingHighMul(a, b) = (a·b + 2^30) &gt;&gt; 31 (arithmetic) for every a, b except
/// a = b = int.MinValue: for a negative product the reference's nudge 1 − 2^30 and truncating division equal
/// ceil((ab + 1 − 2^30)/2^31) = floor((ab + 2^30)/2^31). The 64-bit products come from vpmuldq on the even lanes and on
/// the odd lanes shifted down; bits 31..62 of each sum are the result.
/// </summary>
internal static class RequantU8
{
    /// <summary>16 lanes: requantise acc with per-lane multiplier/shift, add the zero point, clamp to [lo, hi].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Apply(Vector512<int> acc, Vector512<int> multiplier, Vector512<int> shift, Vector512<int> zeroPoint,
        Vector512<int> lo, Vector512<int> hi)
    {
        var leftShift = Vector512.Max(shift, Vector512<int>.Zero).AsUInt32();
        var rightShift = Vector512.Max(-shift, Vector512<int>.Zero).AsUInt32();
        var a = Avx512F.ShiftLeftLogicalVariable(acc, leftShift);
        var nudge = Vector512.Create(1L << 30);
        var even = Avx512F.Multiply(a, multiplier) + nudge;
        var odd = Avx512F.Multiply(Vector512.ShiftRightLogical(a.AsInt64(), 32).AsInt32(), Vector512.ShiftRightLogical(multiplier.AsInt64(), 32).AsInt32()) + nudge;
        var high = (Vector512.ShiftRightLogical(even, 31) & Vector512.Create(0xFFFF_FFFFL)) | (Vector512.ShiftLeft(odd, 1) & Vector512.Create(unchecked((long)0xFFFF_FFFF_0000_0000UL)));
        var x = high.AsInt32();
        var mask = Avx512F.ShiftLeftLogicalVariable(Vector512<int>.One, rightShift) - Vector512<int>.One;
        var remainder = x & mask;
        var threshold = Vector512.ShiftRightArithmetic(mask, 1) - Vector512.ShiftRightArithmetic(x, 31);
        var q = Avx512F.ShiftRightArithmeticVariable(x, rightShift) - Vector512.GreaterThan(remainder, threshold);
        return Vector512.Min(Vector512.Max(q + zeroPoint, lo), hi);
    }

    /// <summary>8 lanes, the same arithmetic with AVX2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Apply(Vector256<int> acc, Vector256<int> multiplier, Vector256<int> shift, Vector256<int> zeroPoint,
        Vector256<int> lo, Vector256<int> hi)
    {
        var leftShift = Vector256.Max(shift, Vector256<int>.Zero).AsUInt32();
        var rightShift = Vector256.Max(-shift, Vector256<int>.Zero).AsUInt32();
        var a = Avx2.ShiftLeftLogicalVariable(acc, leftShift);
        var nudge = Vector256.Create(1L << 30);
        var even = Avx2.Multiply(a, multiplier) + nudge;
        var odd = Avx2.Multiply(Vector256.ShiftRightLogical(a.AsInt64(), 32).AsInt32(), Vector256.ShiftRightLogical(multiplier.AsInt64(), 32).AsInt32()) + nudge;
        var x = Avx2.Blend(Vector256.ShiftRightLogical(even, 31).AsInt32(), Vector256.ShiftLeft(odd, 1).AsInt32(), 0b1010_1010);
        var mask = Avx2.ShiftLeftLogicalVariable(Vector256<int>.One, rightShift) - Vector256<int>.One;
        var remainder = x & mask;
        var threshold = Vector256.ShiftRightArithmetic(mask, 1) - Vector256.ShiftRightArithmetic(x, 31);
        var q = Avx2.ShiftRightArithmeticVariable(x, rightShift) - Vector256.GreaterThan(remainder, threshold);
        return Vector256.Min(Vector256.Max(q + zeroPoint, lo), hi);
    }

    /// <summary>
    /// The 8-lane <c>Apply</c>
    /// for 8 lanes that share one output channel (the convolution epilogues): the shifts, the rounding mask and the
    /// clamp are prepared once per channel, and the bias is added first. Bit for bit the same result.
    /// </summary>
    internal readonly struct Uniform256
    {
        private readonly Vector256<int> _bias, _multiplier, _mask, _threshold, _zeroPoint, _lo, _hi;
        private readonly int _leftShift, _rightShift;

        public Uniform256(int bias, int multiplier, int shift, int zeroPoint, int lo, int hi)
        {
            _bias = Vector256.Create(bias);
            _multiplier = Vector256.Create(multiplier);
            _leftShift = Math.Max(shift, 0);
            _rightShift = Math.Max(-shift, 0);
            int mask = unchecked((1 << _rightShift) - 1);
            _mask = Vector256.Create(mask);
            _threshold = Vector256.Create(mask >> 1);
            _zeroPoint = Vector256.Create(zeroPoint);
            _lo = Vector256.Create(lo);
            _hi = Vector256.Create(hi);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Apply(Vector256<int> acc)
        {
            var a = Vector256.ShiftLeft(acc + _bias, _leftShift);
            var nudge = Vector256.Create(1L << 30);
            var even = Avx2.Multiply(a, _multiplier) + nudge;
            var odd = Avx2.Multiply(Vector256.ShiftRightLogical(a.AsInt64(), 32).AsInt32(), _multiplier) + nudge;
            var x = Avx2.Blend(Vector256.ShiftRightLogical(even, 31).AsInt32(), Vector256.ShiftLeft(odd, 1).AsInt32(), 0b1010_1010);
            var threshold = _threshold - Vector256.ShiftRightArithmetic(x, 31);
            var q = Vector256.ShiftRightArithmetic(x, _rightShift) - Vector256.GreaterThan(x & _mask, threshold);
            return Vector256.Min(Vector256.Max(q + _zeroPoint, _lo), _hi);
        }
    }

    /// <summary>4 lanes: AVX2's 128-bit variable shifts when present, otherwise lane by lane (the Vector128 path's
    /// requantisation is O(n) next to its O(k·n) dot products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Apply(Vector128<int> acc, Vector128<int> multiplier, Vector128<int> shift, int zeroPoint, int lo, int hi)
    {
        if (Avx2.IsSupported)
        {
            var leftShift = Vector128.Max(shift, Vector128<int>.Zero).AsUInt32();
            var rightShift = Vector128.Max(-shift, Vector128<int>.Zero).AsUInt32();
            var a = Avx2.ShiftLeftLogicalVariable(acc, leftShift);
            var nudge = Vector128.Create(1L << 30);
            var even = Sse41.Multiply(a, multiplier) + nudge;
            var odd = Sse41.Multiply(Vector128.ShiftRightLogical(a.AsInt64(), 32).AsInt32(), Vector128.ShiftRightLogical(multiplier.AsInt64(), 32).AsInt32()) + nudge;
            var x = Avx2.Blend(Vector128.ShiftRightLogical(even, 31).AsInt32(), Vector128.ShiftLeft(odd, 1).AsInt32(), 0b1010);
            var mask = Avx2.ShiftLeftLogicalVariable(Vector128<int>.One, rightShift) - Vector128<int>.One;
            var remainder = x & mask;
            var threshold = Vector128.ShiftRightArithmetic(mask, 1) - Vector128.ShiftRightArithmetic(x, 31);
            var q = Avx2.ShiftRightArithmeticVariable(x, rightShift) - Vector128.GreaterThan(remainder, threshold);
            return Vector128.Min(Vector128.Max(q + Vector128.Create(zeroPoint), Vector128.Create(lo)), Vector128.Create(hi));
        }
        return Vector128.Create(
            Scalar(acc.GetElement(0), multiplier.GetElement(0), shift.GetElement(0), zeroPoint, lo, hi),
            Scalar(acc.GetElement(1), multiplier.GetElement(1), shift.GetElement(1), zeroPoint, lo, hi),
            Scalar(acc.GetElement(2), multiplier.GetElement(2), shift.GetElement(2), zeroPoint, lo, hi),
            Scalar(acc.GetElement(3), multiplier.GetElement(3), shift.GetElement(3), zeroPoint, lo, hi));
    }

    /// <summary>The scalar reference: clamp(zp + MultiplyByQuantizedMultiplier(acc, multiplier, shift), lo, hi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Scalar(int acc, int multiplier, int shift, int zeroPoint, int lo, int hi) =>
        Math.Clamp(unchecked(zeroPoint + QuantMath.MultiplyByQuantizedMultiplier(acc, multiplier, shift)), lo, hi);

    /// <summary>16 s32 lanes already in [0, 255] → 16 bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Narrow(Vector512<int> v) => Avx512F.ConvertToVector128Byte(v);

    /// <summary>2×8 s32 lanes already in [0, 255] → 16 bytes, in order (lo first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Narrow(Vector256<int> lo, Vector256<int> hi)
    {
        // packssdw works per 128-bit lane: [lo0-3 hi0-3 | lo4-7 hi4-7]; a 64-bit permute restores [lo0-7 | hi0-7].
        var words = Avx2.Permute4x64(Avx2.PackSignedSaturate(lo, hi).AsInt64(), 0b11_01_10_00).AsInt16();
        return Sse2.PackUnsignedSaturate(words.GetLower(), words.GetUpper());
    }

    /// <summary>2×4 s32 lanes already in [0, 255] → 8 bytes in the low half, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Narrow(Vector128<int> lo, Vector128<int> hi)
    {
        var words = Vector128.Narrow(lo, hi);
        return Vector128.Narrow(words.AsUInt16(), words.AsUInt16());
    }
}
