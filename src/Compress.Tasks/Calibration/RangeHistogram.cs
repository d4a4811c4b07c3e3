using System.Numerics.Tensors;

namespace Compress.Tasks.Calibration;

/// <summary>
/// Streaming statistics of one graph value in fixed memory, however many samples are added: the element count, the
/// exact min and max, and a histogram of magnitudes with <see cref="Bins"/> bins for the non-negative values and
/// <see cref="Bins"/> for the negative ones over one shared range [0, <see cref="Range"/>]. Positive bin i counts
/// x ∈ [i·w, (i+1)·w), negative bin i counts x ∈ (−(i+1)·w, −i·w], w = <see cref="Range"/> / <see cref="Bins"/>;
/// the largest magnitude lands in the last bin.
/// </summary>
/// <remarks>
/// Bins start at 0 because a u8 range always contains 0 (<see cref="Quantization.QuantParams.FromRange"/>): nothing
/// a calibration method can pick lies outside [−Range, Range], and a value that never changes sign gets all
/// <see cref="Bins"/> bins of one side, which is the TensorRT histogram of |x| over [0, max|x|]. When a larger magnitude
/// arrives the range doubles and pairs of bins fold into one (bin 2k and 2k+1 become bin k), so counts are kept exactly
/// and the memory stays 2 × <see cref="Bins"/> counters. <see cref="Calibrator"/> avoids the folding's loss of
/// resolution by fixing the range from a first min/max pass.
/// </remarks>
public sealed class RangeHistogram
{
    /// <summary>Bins per sign: 2048, as TensorRT's calibrator (Migacz, GTC 2017) uses for the entropy search.</summary>
    public const int Bins = 2048;

    readonly long[] _positive = new long[Bins];
    readonly long[] _negative = new long[Bins];

    /// <summary>An empty histogram; <paramref name="range"/> &gt; 0 fixes the initial bin range (it still doubles when exceeded).</summary>
    public RangeHistogram(double range = 0)
    {
        if (!(range >= 0) || double.IsInfinity(range)) throw new ArgumentOutOfRangeException(nameof(range), range, "The range must be finite and ≥ 0.");
        Range = range;
    }

    /// <summary>Elements added.</summary>
    public long Count { get; private set; }

    /// <summary>The smallest element added (+∞ while empty).</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>The largest element added (−∞ while empty).</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>The magnitude the last bin ends at; 0 until a non-zero element arrives (zeros are counted in positive bin 0).</summary>
    public double Range { get; private set; }

    /// <summary>Width of one bin: <see cref="Range"/> / <see cref="Bins"/>.</summary>
    public double BinWidth => Range / Bins;

    /// <summary>Counts of the non-negative elements by magnitude.</summary>
    public ReadOnlySpan<long> Positive => _positive;

    /// <summary>Counts of the negative elements by magnitude.</summary>
    public ReadOnlySpan<long> Negative => _negative;

    /// <summary>Adds <paramref name="values"/>; false (adding nothing) when one is NaN or infinite. Allocates nothing.</summary>
    // A histogram whose range grows with the data, as PyTorch's HistogramObserver and ONNX Runtime's HistogramCollector keep; here by exact power-of-two folding.
    public bool TryAdd(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return true;
        float min = TensorPrimitives.Min(values), max = TensorPrimitives.Max(values); // NaN if any is NaN
        if (!float.IsFinite(min) || !float.IsFinite(max)) return false;
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
        Count += values.Length;

        double magnitude = Math.Max(-(double)min, max);
        if (magnitude > Range)
        {
            if (Range == 0) Range = magnitude; // only zeros so far: they stay in bin 0 whatever the width
            else while (Range < magnitude) Fold();
        }
        if (Range == 0)
        {
            _positive[0] += values.Length;
            return true;
        }
        double scale = Bins / Range;
        foreach (float x in values)
        {
            if (x >= 0) _positive[Math.Min((int)(x * scale), Bins - 1)]++;
            else _negative[Math.Min((int)(-(double)x * scale), Bins - 1)]++;
        }
        return true;
    }

    /// <summary>Adds <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public void Add(ReadOnlySpan<float> values)
    {
        if (!TryAdd(values)) throw new ArgumentException("The values include NaN or infinity.", nameof(values));
    }

    /// <summary>Doubles <see cref="Range"/>: bins 2k and 2k+1 become bin k, on both sides; the total count is unchanged.</summary>
    void Fold()
    {
        Fold(_positive);
        Fold(_negative);
        Range *= 2;

        static void Fold(long[] bins)
        {
            for (int k = 0; k < Bins / 2; k++) bins[k] = bins[2 * k] + bins[2 * k + 1];
            Array.Clear(bins, Bins / 2, Bins / 2);
        }
    }

    /// <summary>Magnitude counts of both signs together: the histogram of |x| over [0, <see cref="Range"/>].</summary>
    public long[] Magnitudes()
    {
        var m = new long[Bins];
        for (int i = 0; i < Bins; i++) m[i] = _positive[i] + _negative[i];
        return m;
    }
}
