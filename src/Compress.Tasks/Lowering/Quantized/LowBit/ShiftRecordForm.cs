using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Tasks.Lowering.Quantized.LowBit;

/// <summary>
/// Decides, exactly, whether a shift layer can be stored as a <see cref="ShiftRecord"/> (docs/low-bit.md, "Storage"):
/// its per-channel requantisation multipliers must be one value (the channel scales are one scale times powers of two,
/// as <c>ShiftScaleGrid</c> fits them) and the shifts must fit a signed byte; its folded bias is stored as int16 when
/// every value fits, else as int32. Anything else keeps the int8 storage (int32 bias, multiplier and shift per channel).
/// </summary>
internal static class ShiftRecordForm
{
    /// <summary>The layer's one multiplier and the per-channel shifts as bytes, or null when the multipliers differ or a shift does not fit.</summary>
    public static (int Multiplier, sbyte[] Shifts)? Requantisation(int[] multiplier, int[] shift)
    {
        if (multiplier.Length == 0 || multiplier.Any(m => m != multiplier[0]) || shift.Any(s => s is < sbyte.MinValue or > sbyte.MaxValue))
            return null;
        return (multiplier[0], shift.Select(s => (sbyte)s).ToArray());
    }

    /// <summary>
    /// The f32 output scales as base·2^e[c] with one float base, or null unless every scale is exactly that (same
    /// mantissa, normal floats).
    /// </summary>
    public static (float Base, sbyte[] Exponents)? Scales(float[] scales)
    {
        if (scales.Length == 0 || scales.Any(s => !float.IsNormal(s) || s < 0)) return null;
        var exponents = new sbyte[scales.Length];
        float mantissa = MathF.ScaleB(scales[0], -MathF.ILogB(scales[0]));
        for (int c = 0; c < scales.Length; c++)
        {
            int e = MathF.ILogB(scales[c]);
            if (e is < sbyte.MinValue or > sbyte.MaxValue || MathF.ScaleB(mantissa, e) != scales[c]) return null;
            exponents[c] = (sbyte)e;
        }
        return (mantissa, exponents);
    }

    /// <summary>2 when every bias fits an int16 (checked exactly), else 4.</summary>
    public static int BiasBytes(int[] bias) => ShiftRecord.FitsInt16(bias) ? 2 : 4;

    /// <summary>The record bytes.</summary>
    public static byte[] Record(sbyte[] values, int[] bias, int biasBytes, sbyte[] perChannel)
    {
        var record = new byte[ShiftRecord.Length(values.Length, perChannel.Length, biasBytes)];
        ShiftRecord.Write(values, bias, biasBytes, perChannel, record);
        return record;
    }

    /// <summary>", bias int16" or ", bias int32 (a value exceeds int16)" for step comments.</summary>
    public static string Describe(int biasBytes) => biasBytes == 2 ? "record: int16 bias" : "record: int32 bias (a value exceeds int16)";
}
