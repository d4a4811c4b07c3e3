using System.Collections.Immutable;
using Compress.Runtime;
using Compress.Tasks.Lowering.Quantized;
using Compress.Tasks.Lowering.Quantized.LowBit;
using Compress.Tasks.Quantization;
using Compress.Tasks.Quantization.LowBit;

namespace Compress.Tasks.Tests.LowBit;

/// <summary>The build-time checks that choose the compact shift record over int8's storage.</summary>
public class ShiftRecordFormTests
{
    static readonly QuantParams X = new(0.013f, 3), Y = new(0.041f, 129);

    static QuantizedWeight Weight(sbyte[]? codes, double scaleBase)
    {
        int n = codes?.Length ?? 3;
        var scales = Enumerable.Range(0, n).Select(c => (float)(codes is null ? 0.01 * (c + 1) : ShiftScaleGrid.Scale(scaleBase, codes[c]))).ToArray();
        return new QuantizedWeight("w", [n, 1], new sbyte[n], scales, 0) { Bits = 4, ScaleCodes = codes, ScaleCodeBase = scaleBase };
    }

    [Fact]
    public void Scale_codes_give_the_layer_multiplier_when_every_channel_agrees_with_int8()
    {
        sbyte[] codes = [-20, 0, 7, 33];
        var w = Weight(codes, 0.0123);
        var sw = QuantizedLowering.ChannelScales(w, codes.Length);
        var (multiplier, shift) = QuantizedLowering.Multipliers(X, sw, Y);
        var r = ShiftRecordForm.Requantisation(w, 1, X, Y, multiplier, shift);
        Assert.NotNull(r);
        Assert.Equal(QuantMath.QuantizeMultiplier(X.Scale * 0.0123 / Y.Scale), r.Value);
    }

    [Fact]
    public void Without_scale_codes_or_with_a_disagreeing_channel_int8_storage_stays()
    {
        var free = Weight(null, 0);
        var sw = QuantizedLowering.ChannelScales(free, 3);
        var (m, s) = QuantizedLowering.Multipliers(X, sw, Y);
        Assert.Null(ShiftRecordForm.Requantisation(free, 1, X, Y, m, s));

        sbyte[] codes = [-20, 0, 7];
        var w = Weight(codes, 0.0123);
        var (multiplier, shift) = QuantizedLowering.Multipliers(X, QuantizedLowering.ChannelScales(w, 3), Y);
        multiplier[1] += 4096; // 2^-18 relative: more than the tolerance
        Assert.Null(ShiftRecordForm.Requantisation(w, 1, X, Y, multiplier, shift));
    }

    [Fact]
    public void F32_output_scales_are_reproduced_from_the_base_and_codes()
    {
        sbyte[] codes = [-50, -1, 0, 90];
        var w = Weight(codes, 0.0071);
        var scales = QuantizedLowering.ChannelScales(w, codes.Length).Select(s => (float)(X.Scale * s)).ToArray();
        Assert.Equal((float)(X.Scale * 0.0071), ShiftRecordForm.ScaleBase(w, 1, X, scales));
        scales[2] *= 1.0001f;
        Assert.Null(ShiftRecordForm.ScaleBase(w, 1, X, scales));
    }

    [Fact]
    public void Bias_width_is_int16_only_when_every_value_fits()
    {
        Assert.Equal(2, ShiftRecordForm.BiasBytes([-32768, 32767, 0]));
        Assert.Equal(4, ShiftRecordForm.BiasBytes([5, 32768]));
        Assert.Equal(4, ShiftRecordForm.BiasBytes([-32769]));
    }
}
