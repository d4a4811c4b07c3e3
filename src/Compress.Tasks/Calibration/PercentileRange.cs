using Compress.Tasks.Diagnostics;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Calibration;

/// <summary>
/// The <see cref="CalibrationMethod.Percentile"/> range: [q(1 − p/100), q(p/100)], where q is the quantile function
/// of all elements observed (every element of every sample), read from the histogram with linear interpolation
/// inside the bin and kept within the observed [min, max]. p = 100 is <see cref="MinMaxRange"/>.
/// </summary>
public static class PercentileRange
{
    /// <summary>The default p: 99.99.</summary>
    public const double DefaultPercentile = 99.99;

    /// <summary>[p_low, p_high] = the (100 − p)th and p-th percentiles of the values in <paramref name="histogram"/>.</summary>
    /// <exception cref="CompressException">CMP006: <paramref name="percentile"/> is not in [50, 100].</exception>
    // Percentile calibration: Wu et al., "Integer Quantization for Deep Learning Inference: Principles and Empirical Evaluation" (NVIDIA, 2020), §4.1.
    public static TensorRange Compute(RangeHistogram histogram, double percentile = DefaultPercentile)
    {
        Check(percentile);
        if (histogram.Count == 0) return new TensorRange(0f, 0f);
        if (percentile == 100 || histogram.Range == 0) return MinMaxRange.Compute(histogram);
        float low = Quantile(histogram, 1 - percentile / 100), high = Quantile(histogram, percentile / 100);
        return new TensorRange(Math.Clamp(low, histogram.Min, histogram.Max), Math.Clamp(high, histogram.Min, histogram.Max));
    }

    /// <summary>Checks a percentile from metadata: 50 ≤ p ≤ 100.</summary>
    /// <exception cref="CompressException">CMP006 naming the value.</exception>
    public static void Check(double percentile)
    {
        if (!(percentile is >= 50 and <= 100))
            throw new CompressException(ErrorCodes.BadMetadata,
                $"CalibrationPercentile {percentile.ToString(System.Globalization.CultureInfo.InvariantCulture)} is outside [50, 100]. " +
                "It is the share of values kept inside the range, in percent (99.99 keeps all but the 0.01 % most extreme at each end).");
    }

    /// <summary>The value below which a share <paramref name="fraction"/> of the elements lies (the histogram's inverse CDF).</summary>
    static float Quantile(RangeHistogram h, double fraction)
    {
        double target = fraction * h.Count, width = h.BinWidth, seen = 0;
        var negative = h.Negative;
        // Ascending values: negative bins from the most negative (last) to bin 0, then positive bins 0 → last.
        for (int i = RangeHistogram.Bins - 1; i >= 0; i--)
        {
            long n = negative[i];
            if (n > 0 && seen + n >= target)
                return (float)(-(i + 1) * width + (target - seen) / n * width);
            seen += n;
        }
        var positive = h.Positive;
        for (int i = 0; i < RangeHistogram.Bins; i++)
        {
            long n = positive[i];
            if (n > 0 && seen + n >= target)
                return (float)(i * width + (target - seen) / n * width);
            seen += n;
        }
        return h.Max;
    }
}
