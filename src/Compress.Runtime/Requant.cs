namespace Compress.Runtime;

/// <summary>
/// Requantisation of an s32 accumulator to u8 (gemmlowp / TFLite "MultiplyByQuantizedMultiplier"):
/// y = clamp(<see cref="OutZeroPoint"/> + MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c]), Min, Max), where the
/// real multiplier M = s_x·s_w[c]/s_y is stored per output channel as a Q31 multiplier in [2^30, 2^31) and a shift
/// (M = multiplier·2^(shift−31), see <see cref="QuantMath.QuantizeMultiplier"/>). A fused Relu/Clip is the clamp, with
/// <see cref="Min"/>/<see cref="Max"/> already in the quantised domain; the kernels also clamp to [0, 255].
/// </summary>
/// <param name="OutZeroPoint">Zero point of the u8 output.</param>
/// <param name="Min">Lower clamp in the quantised domain (0 when there is no activation).</param>
/// <param name="Max">Upper clamp in the quantised domain (255 when there is no activation).</param>
public readonly record struct Requant(int OutZeroPoint, int Min, int Max)
{
    /// <summary>The effective lower bound, max(Min, 0).</summary>
    internal int Lo => Math.Max(Min, 0);

    /// <summary>The effective upper bound, min(Max, 255).</summary>
    internal int Hi => Math.Min(Max, 255);
}
