using System.Collections.Immutable;
using Compress.Tasks.Graph;
using Compress.Tasks.Quantization;
using Compress.Tasks.Quantization.LowBit;

namespace Compress.Tasks.Tests.LowBit;

/// <summary>The weight fits against hand-computed examples, and the calibration refits lowering the output error.</summary>
public class LowBitFitTests
{
    [Theory]
    [InlineData(4, 0)]
    [InlineData(3, 4)]
    [InlineData(2, 6)]
    public void Shift_bits_give_the_exponent_range(int bits, int pmin) => Assert.Equal(pmin, ShiftFit.MinExponent(bits));

    [Fact]
    public void Shift_rounds_exponents_in_the_log_domain()
    {
        // max|w| = 1 → s = 1/64; |w|/s = 64, 32, 16.64, 6.4, 1.6, 0.3 → 2^6, 2^5, 2^4 (log₂ 4.06), 2^3 (log₂ 2.68), 2^1 (log₂ 0.68), 0 (< 1/2).
        var r = ShiftFit.FitRow([1, -0.5, 0.26, 0.1, 0.025, 0.0047], null, pmin: 0);
        Assert.Equal([64, -32, 16, 8, 2, 0], r.Codes.Select(c => (int)c));
        // The least-squares scale for those codes: Σ q·w / Σ q² = 85.01 / 5444; no exponent flip lowers the error.
        Assert.Equal(85.01 / 5444, r.Scale, 6);
        Assert.Equal(0, r.Flips);
        Assert.True(r.FittedError <= r.RoundedError);
    }

    [Fact]
    public void Shift_with_three_bits_keeps_the_top_three_exponents()
    {
        var r = ShiftFit.FitRow([1, 0.5, 0.25, 0.125, -0.06], null, pmin: ShiftFit.MinExponent(3));
        // |w|/s = 64, 32, 16, 8, 3.8: 2^3 is below the range [2^4, 2^6], so 8 rounds up to 2^4; 3.8 (< 2^3) becomes 0.
        Assert.Equal([64, 32, 16, 16, 0], r.Codes.Select(c => (int)c));
        Assert.All(r.Codes, c => Assert.True(c == 0 || Math.Abs((int)c) >= 16));
    }

    [Fact]
    public void Shift_scale_grid_puts_every_channel_scale_at_a_code_near_its_free_fit()
    {
        var rng = new Random(7);
        // Channels whose magnitudes differ by arbitrary factors.
        var rows = Enumerable.Range(0, 12).Select(c => Enumerable.Range(0, 20).Select(_ => (rng.NextDouble() - 0.5) * (0.3 + c * 0.77)).ToArray()).ToArray();
        var free = rows.Select(r => ShiftFit.FitRow(r, null, pmin: 0)).ToArray();
        var grid = ShiftScaleGrid.Snap(free, c => rows[c], _ => null, pmin: 0);
        // S = 2^(k/16), k the rounded mean of 16·log₂ s.
        double k = Math.Round(free.Average(r => 16 * Math.Log2(r.Scale)), MidpointRounding.ToEven);
        Assert.Equal(Math.Pow(2, k / 16), grid.Base, 12);
        for (int c = 0; c < rows.Length; c++)
        {
            // The scale is the grid value of the code, one of the two around the free scale, and the codes are the fixed-scale fit's.
            Assert.Equal(ShiftScaleGrid.Scale(grid.Base, grid.Codes[c]), grid.Results[c].Scale, 12);
            double position = 16 * Math.Log2(free[c].Scale) - k;
            Assert.InRange((double)grid.Codes[c], Math.Floor(position), Math.Floor(position) + 1);
            var other = ShiftFit.FitRow(rows[c], null, 0, ShiftScaleGrid.Scale(grid.Base, grid.Codes[c] == (int)Math.Floor(position) ? grid.Codes[c] + 1 : grid.Codes[c] - 1));
            Assert.True(grid.Results[c].FittedError <= other.FittedError);
            Assert.Equal(ShiftFit.FitRow(rows[c], null, 0, grid.Results[c].Scale).Codes, grid.Results[c].Codes);
            // At most 1/16 octave from the free scale, so the output error stays close to the free fit's.
            Assert.True(grid.Results[c].FittedError <= free[c].FittedError * 1.5 + 1e-3, $"channel {c}: {grid.Results[c].FittedError} vs {free[c].FittedError}");
        }
    }

    [Fact]
    public void Shift_refit_and_flips_lower_the_output_error_on_correlated_inputs()
    {
        var rng = new Random(3);
        int k = 48, rows = 400;
        // Inputs with strongly correlated features: the plain weight error is a poor proxy for the output error.
        var x = new double[rows * k];
        for (int r = 0; r < rows; r++)
        {
            double common = rng.NextDouble() * 2 - 1;
            for (int i = 0; i < k; i++) x[r * k + i] = common + 0.2 * (rng.NextDouble() * 2 - 1);
        }
        var gram = new double[k * k];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) gram[i * k + j] += x[r * k + i] * x[r * k + j] / rows;
        var w = Enumerable.Range(0, k).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var fitted = ShiftFit.FitRow(w, gram, pmin: 0);
        var plain = ShiftFit.FitRow(w, null, pmin: 0);
        double Output(sbyte[] q, double s)
        {
            double e = 0, energy = 0;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    e += (w[i] - s * q[i]) * gram[i * k + j] * (w[j] - s * q[j]);
                    energy += w[i] * gram[i * k + j] * w[j];
                }
            return e / energy;
        }
        Assert.Equal(Output(fitted.Codes, fitted.Scale), fitted.FittedError, 6);
        Assert.True(fitted.FittedError < fitted.RoundedError, $"{fitted.FittedError} vs rounded {fitted.RoundedError}");
        Assert.True(Output(fitted.Codes, fitted.Scale) < Output(plain.Codes, plain.Scale), "the calibration fit beats the weight-only fit on the output");
        Assert.All(fitted.Codes, c => Assert.True(c == 0 || (Math.Abs((int)c) & (Math.Abs((int)c) - 1)) == 0));
    }

    [Fact]
    public void Ternary_without_data_is_the_TWN_closed_form()
    {
        // One output channel (Gemm transB=1 weight [1, 5]): mean|w| = 0.6 → Δ = 0.42 → codes + − 0 + 0; αp = (1 + 0.6)/2, αn = 1.
        var rows = new WeightRows(ImmutableArray.Create(1L, 5L), 0);
        var fit = SignFits.Ternary(rows, [1f, -1f, 0.1f, 0.6f, -0.3f], null);
        Assert.Equal([1, -1, 0, 1, 0], fit.Codes[0].Select(c => (int)c));
        Assert.Equal(0.8f, fit.Scales[0], 5);
        Assert.Equal(1f, fit.NegativeScales![0], 5);
    }

    [Fact]
    public void Binary_without_data_is_sign_and_mean_magnitude()
    {
        // A [K=4, N=2] weight (Gemm transB=0): column 0 = 1, −1, 0.1, −0.5 → signs + − + −, α = 0.65; column 1 all zero → +1, α = 0.
        var rows = new WeightRows(ImmutableArray.Create(4L, 2L), 1);
        var fit = SignFits.Binary(rows, [1f, 0f, -1f, 0f, 0.1f, 0f, -0.5f, 0f], null, binaryActivations: false);
        Assert.Equal([1, -1, 1, -1], fit.Codes[0].Select(c => (int)c));
        Assert.Equal([1, 1, 1, 1], fit.Codes[1].Select(c => (int)c));
        Assert.Equal(0.65f, fit.Scales[0], 5);
        Assert.Equal(0f, fit.Scales[1]);
        Assert.Equal([1, 1, -1, 1, 1, 1, -1, 1], rows.ToLayout(fit.Codes).Select(c => (int)c));
    }

    [Fact]
    public void Ternary_dequantises_with_two_scales()
    {
        var w = new QuantizedWeight("w", ImmutableArray.Create(2L, 2L), [1, -1, 0, 1], [0.5f, 2f], 0) { Bits = 2, NegativeScales = [0.25f, 3f] };
        Assert.Equal([0.5f, -0.25f, 0f, 2f], w.Dequantize());
    }
}
