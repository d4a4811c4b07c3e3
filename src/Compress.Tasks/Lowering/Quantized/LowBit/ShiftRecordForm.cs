using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized.LowBit;

/// <summary>
/// Decides whether a shift layer can be stored as a <see cref="ShiftRecord"/> (docs/low-bit.md, "Storage"): its weight
/// carries scale codes (the shift fit's log-domain grid), and the multiplier (or f32 output scale) the runtime derives
/// for every channel from the layer's value and the channel's code agrees with the one int8 storage would hold to
/// within <see cref="Tolerance"/> (the f32 scales themselves are rounded at 6·10⁻⁸); its folded bias is stored as int16
/// when every value fits (checked exactly), else as int32. Anything else keeps the int8 storage (int32 bias, multiplier
/// and shift per channel).
/// </summary>
internal static class ShiftRecordForm
{
    /// <summary>The largest relative difference accepted between a derived channel multiplier (or scale) and int8's.</summary>
    public const double Tolerance = 1.0 / (1 << 20);

    /// <summary>The layer's (multiplier, shift), or null when the record form does not apply.</summary>
    /// <param name="factor">A factor of every weight scale (Gemm's alpha; 1 for Conv).</param>
    public static (int Multiplier, int Shift)? Requantisation(QuantizedWeight w, double factor, QuantParams x, QuantParams y, int[] multiplier, int[] shift)
    {
        if (w.ScaleCodes is not { } codes || codes.Length != multiplier.Length) return null;
        double real = x.Scale * w.ScaleCodeBase * factor / y.Scale;
        if (!(real > 0) || real >= 1 << 30) return null;
        var (m0, s0) = QuantMath.QuantizeMultiplier(real);
        if (m0 == 0) return null;
        for (int c = 0; c < codes.Length; c++)
        {
            if (Real(multiplier[c], shift[c]) is not (> 0 and var expected)) return null;
            try
            {
                var (m, s) = ShiftRecord.ChannelMultiplier(m0, s0, codes[c]);
                if (Math.Abs(Real(m, s) - expected) > Tolerance * expected) return null;
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;
            }
        }
        return (m0, s0);
    }

    /// <summary>The layer's f32 output scale base, or null unless <see cref="ShiftRecord.ChannelScale"/> reproduces every <paramref name="scales"/>[c].</summary>
    public static float? ScaleBase(QuantizedWeight w, double factor, QuantParams x, float[] scales)
    {
        if (w.ScaleCodes is not { } codes || codes.Length != scales.Length) return null;
        float scaleBase = (float)(x.Scale * w.ScaleCodeBase * factor);
        if (!float.IsNormal(scaleBase)) return null;
        for (int c = 0; c < codes.Length; c++)
        {
            float derived = ShiftRecord.ChannelScale(scaleBase, codes[c]);
            if (!(scales[c] > 0) || !float.IsNormal(derived) || Math.Abs((double)derived - scales[c]) > Tolerance * scales[c]) return null;
        }
        return scaleBase;
    }

    /// <summary>2 when every bias fits an int16 (checked exactly), else 4.</summary>
    public static int BiasBytes(int[] bias) => ShiftRecord.FitsInt16(bias) ? 2 : 4;

    /// <summary>The record bytes.</summary>
    public static byte[] Record(sbyte[] values, int[] bias, int biasBytes, sbyte[] codes)
    {
        var record = new byte[ShiftRecord.Length(values.Length, codes.Length, biasBytes)];
        ShiftRecord.Write(values, bias, biasBytes, codes, record);
        return record;
    }

    /// <summary>For step comments.</summary>
    public static string Describe(int biasBytes) => biasBytes == 2 ? "record: int16 bias" : "record: int32 bias (a value exceeds int16)";

    static double Real(int multiplier, int shift) => multiplier * Math.Pow(2, shift - 31);
}
