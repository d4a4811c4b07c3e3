using Compress.Tasks.Calibration;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Tests.Calibration;

/// <summary>The three methods on distributions whose answer is known.</summary>
public class CalibrationMethodTests
{
    [Theory]
    [InlineData("MinMax", CalibrationMethod.MinMax)]
    [InlineData("Percentile", CalibrationMethod.Percentile)]
    [InlineData("Entropy", CalibrationMethod.Entropy)]
    [InlineData(" entropy ", CalibrationMethod.Entropy)]
    [InlineData("MINMAX", CalibrationMethod.MinMax)]
    public void Parse_accepts_the_method_names(string name, CalibrationMethod expected) =>
        Assert.Equal(expected, CalibrationMethod.Parse(name));

    [Theory]
    [InlineData("KL")]
    [InlineData("")]
    [InlineData("1")]
    [InlineData(null)]
    public void Parse_rejects_other_names_listing_the_valid_ones(string? name)
    {
        var e = Assert.Throws<CompressException>(() => CalibrationMethod.Parse(name));
        Assert.Equal(ErrorCodes.BadMetadata, e.Code);
        Assert.Contains("MinMax, Percentile, Entropy", e.Message);
        Assert.Equal(new[] { "MinMax", "Percentile", "Entropy" }, CalibrationMethod.Names);
    }

    [Fact]
    public void MinMax_of_a_uniform_distribution_is_its_exact_min_and_max()
    {
        var r = new Random(5);
        var x = Enumerable.Range(0, 100_000).Select(_ => (float)(r.NextDouble() * 5 - 2)).ToArray();
        var h = Fill(x, 997);
        var range = MinMaxRange.Compute(h);
        Assert.Equal(x.Min(), range.Min);
        Assert.Equal(x.Max(), range.Max);
    }

    [Theory]
    [InlineData(99.0)]
    [InlineData(99.9)]
    [InlineData(99.99)]
    public void Percentile_of_a_gaussian_is_the_analytic_quantile_within_a_bin(double p)
    {
        // A noise-free Gaussian sample: the (i + ½)/N quantiles, so the empirical percentiles are the analytic ones.
        const int n = 1_000_000;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(2 * InverseNormal((i + 0.5) / n));
        Shuffle(x, 11);
        var h = Fill(x, 4096);
        var range = PercentileRange.Compute(h, p);
        double q = 2 * InverseNormal(p / 100); // σ = 2
        Assert.InRange(range.Max, q - h.BinWidth, q + h.BinWidth);
        Assert.InRange(range.Min, -q - h.BinWidth, -q + h.BinWidth);
    }

    [Fact]
    public void Percentile_of_an_asymmetric_distribution_clips_each_end_by_its_own_quantile()
    {
        var r = new Random(2);
        var x = Enumerable.Range(0, 200_000).Select(_ => (float)(r.NextDouble() * 10 - 1)).ToArray(); // U(−1, 9)
        var range = PercentileRange.Compute(Fill(x, 1000), 99);
        Assert.InRange(range.Min, -0.9 - 0.03, -0.9 + 0.03);
        Assert.InRange(range.Max, 8.9 - 0.03, 8.9 + 0.03);
        Assert.Equal(MinMaxRange.Compute(Fill(x, 1000)), PercentileRange.Compute(Fill(x, 1000), 100));
    }

    [Theory]
    [InlineData(49.9)]
    [InlineData(100.01)]
    [InlineData(double.NaN)]
    public void Percentile_outside_50_to_100_is_a_metadata_error(double p) =>
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => PercentileRange.Compute(Fill([1f], 1), p)).Code);

    [Fact]
    public void Entropy_threshold_of_a_gaussian_lies_between_2_and_5_sigma()
    {
        const double sigma = 1.5;
        var x = CalibrationTestFiles.Gaussian(1_000_000, 7, sigma);
        var range = EntropyRange.Compute(Fill(x, 10_000));
        Assert.InRange(range.Max, 2 * sigma, 5 * sigma);
        Assert.InRange(range.Min, -5 * sigma, -2 * sigma);
        Assert.True(range.Max < x.Max(), "the threshold clips the tail");
    }

    [Fact]
    public void Entropy_threshold_of_a_non_negative_gaussian_searches_0_to_max()
    {
        var x = CalibrationTestFiles.Gaussian(1_000_000, 8).Select(v => Math.Max(v, 0f)).ToArray(); // post-ReLU
        var range = EntropyRange.Compute(Fill(x, 10_000));
        Assert.Equal(0f, range.Min);
        Assert.InRange(range.Max, 2, 5);
    }

    [Fact]
    public void Entropy_clips_outliers_much_more_tightly_than_min_max()
    {
        var x = CalibrationTestFiles.Gaussian(1_000_000, 9).ToList();
        var r = new Random(4);
        for (int i = 0; i < 200; i++) x.Insert(r.Next(x.Count), (float)((r.NextDouble() < 0.5 ? -1 : 1) * (50 + r.NextDouble() * 50))); // 0.02 % at 50–100σ
        var h = Fill(x.ToArray(), 10_000);
        var entropy = EntropyRange.Compute(h);
        var minMax = MinMaxRange.Compute(h);
        Assert.True(minMax.Max > 90);
        Assert.True(entropy.Max < minMax.Max / 5, $"entropy {entropy} vs min/max {minMax}");
        Assert.True(entropy.Min > minMax.Min / 5, $"entropy {entropy} vs min/max {minMax}");
        Assert.True(entropy.Max > 2, $"entropy {entropy} keeps the Gaussian body");
    }

    [Fact]
    public void Entropy_threshold_minimises_the_divergence_computed_bin_by_bin()
    {
        var r = new Random(6);
        for (int trial = 0; trial < 3; trial++)
        {
            var hist = new long[2048];
            for (int i = 0; i < hist.Length; i++)
                hist[i] = r.NextDouble() < 0.2 ? 0 : (long)(10_000 * Math.Exp(-i / (100.0 + 300 * trial)) * r.NextDouble());
            hist[2047] += trial; // an outlier or none
            if (trial == 2) hist.AsSpan(1500, 500).Clear(); // empty bins before the outlier: clipped candidates end on empty bins
            foreach (int levels in new[] { 128, 256 })
            {
                var kl = NaiveDivergences(hist, levels);
                int fast = EntropyRange.Threshold(hist, levels);
                double min = kl.Where(double.IsFinite).Min();
                Assert.True(kl[fast - levels] <= min + 1e-9 * Math.Abs(min) + 1e-12, $"trial {trial}, {levels} levels: threshold {fast} has KL {kl[fast - levels]}, the minimum is {min}");
            }
        }
    }

    [Fact]
    public void Empty_or_all_zero_values_give_a_zero_range()
    {
        var empty = new RangeHistogram();
        Assert.Equal(new(0f, 0f), MinMaxRange.Compute(empty));
        Assert.Equal(new(0f, 0f), PercentileRange.Compute(empty));
        Assert.Equal(new(0f, 0f), EntropyRange.Compute(empty));
        var zeros = Fill(new float[100], 10);
        Assert.Equal(new(0f, 0f), PercentileRange.Compute(zeros));
        Assert.Equal(new(0f, 0f), EntropyRange.Compute(zeros));
    }

    /// <summary>The values added in batches (the histogram's range grows as it would while calibrating).</summary>
    static RangeHistogram Fill(float[] values, int batch)
    {
        var h = new RangeHistogram();
        for (int i = 0; i < values.Length; i += batch) h.Add(values.AsSpan(i, Math.Min(batch, values.Length - i)));
        return h;
    }

    static void Shuffle(float[] x, int seed)
    {
        var r = new Random(seed);
        for (int i = x.Length - 1; i > 0; i--)
        {
            int j = r.Next(i + 1);
            (x[i], x[j]) = (x[j], x[i]);
        }
    }

    /// <summary>Φ⁻¹(p): Acklam's rational approximation (relative error &lt; 1.2e-9).</summary>
    static double InverseNormal(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) return -InverseNormal(1 - p);
        double u = p - 0.5, t = u * u;
        return (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * u / (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
    }

    /// <summary>
    /// KL(P‖Q) for every candidate i = levels … 2048, straight from the pseudo-code (Migacz, GTC 2017) bin by bin, with
    /// MXNet's smoothing: P = bins [0, i) with the outliers added to bin i−1; Q = bins [0, i) merged into `levels`
    /// groups (bin k in group ⌊k·levels/i⌋) and spread over the group's bins where P is non-zero; both smoothed
    /// (ε = 1e-4 to each empty bin, taken evenly from the others) and normalised.
    /// </summary>
    static double[] NaiveDivergences(long[] hist, int levels)
    {
        var result = new List<double>();
        for (int i = levels; i <= hist.Length; i++)
        {
            var p = hist.Take(i).Select(v => (double)v).ToArray();
            p[i - 1] += hist.Skip(i).Sum();
            var groupSum = new double[levels];
            var groupBins = new int[levels];
            for (int k = 0; k < i; k++)
            {
                int g = (int)((long)k * levels / i);
                groupSum[g] += hist[k];
                if (p[k] != 0) groupBins[g]++;
            }
            var q = new double[i];
            for (int k = 0; k < i; k++)
            {
                int g = (int)((long)k * levels / i);
                if (p[k] != 0) q[k] = groupSum[g] / groupBins[g];
            }
            if (!SmoothNaive(p) || !SmoothNaive(q)) { result.Add(double.PositiveInfinity); continue; }
            double ps = p.Sum(), qs = q.Sum(), kl = 0;
            for (int k = 0; k < i; k++) kl += p[k] / ps * Math.Log(p[k] / ps / (q[k] / qs));
            result.Add(kl);
        }
        return result.ToArray();
    }

    static bool SmoothNaive(double[] d)
    {
        int zeros = d.Count(v => v == 0), nonZeros = d.Length - zeros;
        if (nonZeros == 0) return false;
        double take = 1e-4 * zeros / nonZeros;
        for (int k = 0; k < d.Length; k++) d[k] = d[k] == 0 ? 1e-4 : d[k] - take;
        return d.All(v => v > 0);
    }
}
