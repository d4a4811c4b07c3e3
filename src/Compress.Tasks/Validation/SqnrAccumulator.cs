using Compress.Tasks.Quantization;

namespace Compress.Tasks.Validation;

/// <summary>
/// Signal-to-quantisation-noise ratio of an approximation against its reference, accumulated over any number of
/// samples in constant memory: SQNR = 10·log10(Σ ref² / Σ (ref − approx)²) dB over every element of every sample
/// (the per-tensor SQNR of PyTorch's numeric suite and ONNX Runtime's qdq_loss_debug). Sums are in double.
/// </summary>
/// <remarks>
/// An approximation equal to its reference everywhere is exact: +∞ dB. A NaN or infinite approximation counts as
/// infinite noise (−∞ dB), as does any noise against an all-zero reference.
/// </remarks>
public sealed class SqnrAccumulator
{
    /// <summary>Σ ref² so far.</summary>
    public double Signal { get; private set; }

    /// <summary>Σ (ref − approx)² so far (+∞ once an approximation was not finite).</summary>
    public double Noise { get; private set; }

    /// <summary>Elements compared so far.</summary>
    public long Elements { get; private set; }

    /// <summary>True while every element compared was equal to its reference (+0 and −0 are equal).</summary>
    public bool IsExact => Noise == 0;

    /// <summary>10·log10(<see cref="Signal"/> / <see cref="Noise"/>); +∞ when exact (or nothing was compared).</summary>
    public double Decibels => ToDecibels(Signal, Noise);

    /// <summary>Adds one sample: <paramref name="approximation"/> (float32) against <paramref name="reference"/>.</summary>
    public void Add(ReadOnlySpan<float> reference, ReadOnlySpan<float> approximation)
    {
        Check(reference.Length, approximation.Length);
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = reference[i], d = r - approximation[i];
            signal += r * r;
            noise += d * d;
        }
        Accumulate(signal, noise, reference.Length);
    }

    /// <summary>Adds one sample stored as u8: the approximation is <c>scale · (q − zeroPoint)</c>.</summary>
    public void Add(ReadOnlySpan<float> reference, ReadOnlySpan<byte> quantized, QuantParams parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Check(reference.Length, quantized.Length);
        double signal = 0, noise = 0;
        float scale = parameters.Scale;
        int zeroPoint = parameters.ZeroPoint;
        for (int i = 0; i < reference.Length; i++)
        {
            // In float, as DequantizeU8 computes it, so a u8 value and its dequantised f32 copy measure the same.
            double r = reference[i], d = r - scale * (quantized[i] - zeroPoint);
            signal += r * r;
            noise += d * d;
        }
        Accumulate(signal, noise, reference.Length);
    }

    /// <summary>10·log10(signal / noise): +∞ for no noise, −∞ for infinite (or NaN) noise or noise on a zero signal.</summary>
    public static double ToDecibels(double signal, double noise)
    {
        if (noise == 0) return double.PositiveInfinity;
        if (double.IsNaN(noise) || double.IsPositiveInfinity(noise) || signal == 0) return double.NegativeInfinity;
        return 10 * Math.Log10(signal / noise);
    }

    void Accumulate(double signal, double noise, int elements)
    {
        Signal += signal;
        Noise += double.IsNaN(noise) ? double.PositiveInfinity : noise;
        Elements += elements;
    }

    static void Check(int reference, int approximation)
    {
        if (reference != approximation)
            throw new ArgumentException($"The reference has {reference} elements but the approximation {approximation}.");
    }
}
