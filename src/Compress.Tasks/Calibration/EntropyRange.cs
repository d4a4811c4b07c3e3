using Compress.Tasks.Quantization;

namespace Compress.Tasks.Calibration;

/// <summary>
/// The <see cref="CalibrationMethod.Entropy"/> range: the clipping threshold T whose quantised distribution loses the
/// least information, measured as the KL divergence from the observed one over the 2048-bin histogram.
/// </summary>
/// <remarks>
/// <para>For u8 affine outputs:</para>
/// <list type="bullet">
/// <item>A value that is never negative (post-ReLU) is searched on [0, max] with its 2048 non-negative bins and
/// 256 quantised levels (u8 on [0, T] has 256 codes); the range is [min, T].</item>
/// <item>A signed value is searched on |x| (both signs' bins added) with 128 levels, TensorRT's symmetric search (u8
/// on [−T, T] has 128 codes per side); the range is [−T, T] cut to the observed [min, max], so a value with only a
/// small negative tail does not waste codes on negatives it never takes.</item>
/// </list>
/// <para>
/// The first bin's count is replaced by the second's before the search, as NVIDIA's pytorch-quantization does: the
/// exact zeros a ReLU makes are represented exactly by every candidate range, but as a spike in bin 0 they would
/// dominate the divergence and drag T towards zero.
/// </para>
/// </remarks>
public static class EntropyRange
{
    /// <summary>Quantised levels for a non-negative value: u8 codes 0…255 on [0, T].</summary>
    public const int UnsignedLevels = 256;

    /// <summary>Quantised levels per side for a signed value: u8 on [−T, T] around zero point 128.</summary>
    public const int SignedLevels = 128;

    /// <summary>The KL-optimal range of the values in <paramref name="histogram"/>.</summary>
    // KL-divergence calibration: Migacz, "8-bit Inference with TensorRT" (GTC 2017); zero-bin handling as NVIDIA pytorch-quantization's HistogramCalibrator.
    public static TensorRange Compute(RangeHistogram histogram)
    {
        if (histogram.Count == 0) return new TensorRange(0f, 0f);
        if (histogram.Range == 0) return MinMaxRange.Compute(histogram);
        if (histogram.Min >= 0)
        {
            var bins = histogram.Positive.ToArray();
            bins[0] = bins[1];
            float t = (float)(Threshold(bins, UnsignedLevels) * histogram.BinWidth);
            return new TensorRange(histogram.Min, Math.Clamp(t, histogram.Min, histogram.Max));
        }
        var magnitudes = histogram.Magnitudes();
        magnitudes[0] = magnitudes[1];
        float threshold = (float)(Threshold(magnitudes, SignedLevels) * histogram.BinWidth);
        return new TensorRange(Math.Max(histogram.Min, -threshold), Math.Min(histogram.Max, threshold));
    }

    /// <summary>
    /// How many leading bins of <paramref name="hist"/> to keep (the threshold is that many bin widths): the i in
    /// [levels, hist.Length] minimising KL(P‖Q), the largest on ties. P is the first i bins with the clipped tail added
    /// to the last one. Q is those i bins without the tail merged into <paramref name="levels"/> groups (bin k in
    /// group ⌊k·levels / i⌋), each group's count spread evenly over the bins where P is non-zero. Before the divergence
    /// both are smoothed as MXNet's <c>_smooth_distribution</c> does: every empty bin gets ε = 10⁻⁴ counts, taken evenly
    /// from the non-empty ones, so a clipped candidate whose last bins are empty still has a finite divergence.
    /// </summary>
    /// <remarks>
    /// Each candidate is evaluated in O(levels) instead of O(i), from prefix sums over the bins (Σh and the number of
    /// non-empty bins, for the groups) and running sums over the bins before the last (for Σ p′ ln p′, p′ = h − ε′ with
    /// the candidate's ε′ ≤ 0.21: exactly per count value for counts up to 64, by a Taylor expansion in ε′/h accurate
    /// to 10⁻⁹ per bin above). The tests check it against the bin-by-bin computation.
    /// </remarks>
    // Migacz (GTC 2017) slide "Calibration: pseudo-code"; smoothing and divergence as MXNet's _get_optimal_threshold (used by ONNX Runtime's entropy calibrator).
    public static int Threshold(ReadOnlySpan<long> hist, int levels)
    {
        const double eps = 1e-4;
        const int small = 64; // counts up to this are summed exactly per value
        int n = hist.Length;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(levels);
        if (n <= levels) return n;
        var sum = new double[n + 1];   // Σ h over [0, k)
        var nonZero = new int[n + 1];  // bins with h ≠ 0 in [0, k)
        for (int k = 0; k < n; k++)
        {
            if (hist[k] < 0) throw new ArgumentException("Histogram counts cannot be negative.", nameof(hist));
            sum[k + 1] = sum[k] + hist[k];
            nonZero[k + 1] = nonZero[k] + (hist[k] != 0 ? 1 : 0);
        }
        double total = sum[n];
        if (total == 0) return n;
        double epsLogEps = eps * Math.Log(eps);

        // Running sums over the bins before the candidate's last bin, [0, i − 1): how many bins hold each small count,
        // and for the larger counts Σ h ln h, Σ ln h, their number, Σ 1/h and Σ 1/h².
        var smallCounts = new int[small + 1];
        double hLogH = 0, logH = 0, inverse = 0, inverse2 = 0;
        int large = 0;
        void Include(long h)
        {
            if (h == 0) return;
            if (h <= small) { smallCounts[h]++; return; }
            double l = Math.Log(h);
            hLogH += h * l;
            logH += l;
            large++;
            inverse += 1.0 / h;
            inverse2 += 1.0 / ((double)h * h);
        }
        for (int k = 0; k < levels - 1; k++) Include(hist[k]);

        int best = n;
        double bestDivergence = double.PositiveInfinity;
        for (int i = levels; i <= n; i++, Include(hist[i - 2])) // the iterator moves bin i − 1 into the running sums
        {
            double tail = total - sum[i], q = sum[i];
            double last = hist[i - 1] + tail;                          // P's last bin
            int zerosP = (i - 1 - nonZero[i - 1]) + (last == 0 ? 1 : 0);
            int nonZerosP = i - zerosP;
            if (q == 0 || nonZerosP == 0) continue;
            double takeP = eps * zerosP / nonZerosP;

            // Σ p′ ln p′ (p′ = p − takeP where p ≠ 0, ε where p = 0).
            double pLogP = zerosP * epsLogEps
                + hLogH - takeP * (logH + large) + takeP * takeP / 2 * inverse + takeP * takeP * takeP / 6 * inverse2;
            for (int v = 1; v <= small; v++)
                if (smallCounts[v] != 0) pLogP += smallCounts[v] * (v - takeP) * Math.Log(v - takeP);
            if (last != 0) pLogP += (last - takeP) * Math.Log(last - takeP);

            // Q: per group, its count and the bins where P is non-zero; the last group holds bin i − 1 (P's, with the tail).
            int lastStart = (int)(((long)(levels - 1) * i + levels - 1) / levels);
            double lastCount = sum[i] - sum[lastStart];
            int lastBins = nonZero[i - 1] - nonZero[lastStart] + (last != 0 ? 1 : 0);
            bool lastBinEmptyInQ = last != 0 && lastCount == 0;       // only the tail lands there: Q has nothing to spread
            int zerosQ = zerosP + (lastBinEmptyInQ ? 1 : 0), nonZerosQ = i - zerosQ;
            if (nonZerosQ == 0) continue;
            double takeQ = eps * zerosQ / nonZerosQ;

            // Σ p′ ln q′, group by group (q′ is constant over a group's non-empty bins).
            double pLogQ = zerosP * epsLogEps + (lastBinEmptyInQ ? (last - takeP) * Math.Log(eps) : 0);
            bool valid = true;
            for (int g = 0; g < levels && valid; g++)
            {
                int start = (int)(((long)g * i + levels - 1) / levels), stop = (int)(((long)(g + 1) * i + levels - 1) / levels);
                bool isLast = g == levels - 1;
                double count = isLast ? lastCount : sum[stop] - sum[start];
                int bins = isLast ? lastBins : nonZero[stop] - nonZero[start];
                if (bins == 0 || count == 0) continue;
                double qSmoothed = count / bins - takeQ;
                if (qSmoothed <= 0) valid = false;
                else pLogQ += Math.Log(qSmoothed) * (count + (isLast ? tail : 0) - takeP * bins);
            }
            if (!valid) continue;

            double divergence = (pLogP - pLogQ) / total + Math.Log(q / total);
            if (divergence <= bestDivergence)
            {
                bestDivergence = divergence;
                best = i;
            }
        }
        return best;
    }
}
