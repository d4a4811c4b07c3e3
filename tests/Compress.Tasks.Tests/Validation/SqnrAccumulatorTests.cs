using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Calibration;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Validation;

public class SqnrAccumulatorTests
{
    [Theory]
    [InlineData(1.0, 0.01)]   // 10·log10(0.5 / 1e-4) = 37.0 dB
    [InlineData(3.0, 0.3)]    // 10·log10(4.5 / 0.09) = 17.0 dB
    [InlineData(0.5, 0.0005)] // 10·log10(0.125 / 2.5e-7) = 57.0 dB
    public void Sine_plus_gaussian_noise_gives_signal_power_over_noise_variance(double amplitude, double sigma)
    {
        // A sine of amplitude A has power A²/2; noise N(0, σ²) has power σ². Accumulated over 40 samples of 4096.
        var acc = new SqnrAccumulator();
        for (int s = 0; s < 40; s++)
        {
            float[] noise = CalibrationTestFiles.Gaussian(4096, seed: s, sigma);
            var reference = new float[4096];
            var noisy = new float[4096];
            for (int i = 0; i < reference.Length; i++)
            {
                reference[i] = (float)(amplitude * Math.Sin(2 * Math.PI * (s * 4096 + i) / 97.0));
                noisy[i] = reference[i] + noise[i];
            }
            acc.Add(reference, noisy);
        }
        double expected = 10 * Math.Log10(amplitude * amplitude / 2 / (sigma * sigma));
        Assert.Equal(expected, acc.Decibels, 0.1);
        Assert.Equal(40 * 4096, acc.Elements);
        Assert.False(acc.IsExact);
    }

    [Fact]
    public void Identical_values_are_exact_and_never_compared_is_exact_too()
    {
        var acc = new SqnrAccumulator();
        Assert.Equal(double.PositiveInfinity, acc.Decibels);
        float[] x = [1, -2, 0, -0f, 3.5f];
        acc.Add(x, [1, -2, -0f, 0, 3.5f]);
        Assert.True(acc.IsExact);
        Assert.Equal(double.PositiveInfinity, acc.Decibels);
    }

    [Fact]
    public void U8_values_are_dequantised_with_their_scale_and_zero_point()
    {
        var p = new QuantParams(0.5f, 10);
        byte[] q = [10, 12, 0, 255];
        float[] exact = [0f, 1f, -5f, 122.5f];
        var acc = new SqnrAccumulator();
        acc.Add(exact, q, p);
        Assert.True(acc.IsExact);

        // Off by 0.1 everywhere: noise 4 · 0.01, signal Σ exact² + …
        float[] shifted = exact.Select(v => v + 0.1f).ToArray();
        var off = new SqnrAccumulator();
        off.Add(shifted, q, p);
        double signal = shifted.Sum(v => (double)v * v);
        Assert.Equal(10 * Math.Log10(signal / (4 * 0.01)), off.Decibels, 0.01); // 0.1f is not exact in float
    }

    [Fact]
    public void Not_finite_approximations_and_noise_on_silence_are_minus_infinity()
    {
        var nan = new SqnrAccumulator();
        nan.Add([1f, 2f], [1f, float.NaN]);
        nan.Add([1f, 2f], [1f, 2f]);
        Assert.Equal(double.NegativeInfinity, nan.Decibels);
        Assert.Equal(double.NegativeInfinity, SqnrAccumulator.ToDecibels(0, 1));
        Assert.Equal(20.0, SqnrAccumulator.ToDecibels(100, 1), 9);
        Assert.Throws<ArgumentException>(() => new SqnrAccumulator().Add([1f], [1f, 2f]));
    }

    [Theory]
    [InlineData(40.0, 35.0, 5.0)]
    [InlineData(double.PositiveInfinity, 35.0, double.PositiveInfinity)] // exact inputs: all of the error is the layer's
    [InlineData(double.PositiveInfinity, double.PositiveInfinity, 0.0)]  // exact in, exact out
    [InlineData(30.0, double.PositiveInfinity, 0.0)]                     // an exact output lost nothing
    [InlineData(30.0, 31.5, -1.5)]                                       // a clamp can improve the ratio
    [InlineData(30.0, double.NaN, double.NaN)]
    public void Loss_is_input_minus_output_sqnr(double input, double output, double loss) =>
        Assert.Equal(loss, LayerError.Loss(input, output), 9);

    [Fact]
    public void Worst_layer_adds_the_most_noise_of_its_own_among_quantised_layers()
    {
        static LayerError L(string name, double sqnr, double input, bool quantized = true) =>
            new(name, "Gemm", [], [], [], [], quantized, null, sqnr, input);

        Assert.Equal("b", LayerErrorResult.WorstOf([L("a", 40, 45), L("b", 30, 38), L("c", 28, 30)])!.Node);
        // Noise-to-signal added: p 1e-4, q 3.2e-3 (exact inputs: all its own), r 1e-2 − 1e-4 — r adds the most.
        Assert.Equal("r", LayerErrorResult.WorstOf([L("p", 40, double.PositiveInfinity), L("q", 25, double.PositiveInfinity), L("r", 20, 40)])!.Node);
        Assert.Equal(20 - 10 * Math.Log10(1 - 0.01), L("r", 20, 40).AddedNoiseDb, 9);
        // A layer whose output is cleaner than its input (a clamp) adds nothing.
        Assert.Equal(double.PositiveInfinity, L("m", 41, 40).AddedNoiseDb);
        // fp32 layers, exact and unmeasured outputs are not candidates.
        Assert.Equal("a", LayerErrorResult.WorstOf([L("f", 10, double.PositiveInfinity, quantized: false), L("a", 40, 45),
            L("e", double.PositiveInfinity, 45), L("n", double.NaN, 45)])!.Node);
        Assert.Null(LayerErrorResult.WorstOf([L("e", double.PositiveInfinity, double.PositiveInfinity)]));
    }
}
