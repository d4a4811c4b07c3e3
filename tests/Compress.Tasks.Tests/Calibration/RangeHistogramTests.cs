using Compress.Tasks.Calibration;

namespace Compress.Tasks.Tests.Calibration;

public class RangeHistogramTests
{
    [Fact]
    public void Tracks_count_min_max_and_bins_by_magnitude()
    {
        var h = new RangeHistogram(2048);
        h.Add([0f, 0.5f, 1f, 2047.5f, -0.5f, -3f, -2048f]);
        Assert.Equal(7, h.Count);
        Assert.Equal(-2048f, h.Min);
        Assert.Equal(2047.5f, h.Max);
        Assert.Equal(1.0, h.BinWidth);
        Assert.Equal(2, h.Positive[0]);    // 0 and 0.5
        Assert.Equal(1, h.Positive[1]);
        Assert.Equal(1, h.Positive[2047]);
        Assert.Equal(1, h.Negative[0]);    // −0.5
        Assert.Equal(1, h.Negative[3]);    // −3 ∈ (−4, −3]
        Assert.Equal(1, h.Negative[2047]); // the largest magnitude lands in the last bin
        Assert.Equal(7, h.Positive.ToArray().Sum() + h.Negative.ToArray().Sum());
    }

    [Fact]
    public void Growing_the_range_folds_bins_and_keeps_every_count()
    {
        var small = Enumerable.Range(0, 5000).Select(i => (float)(i % 1000 / 1000.0 * 0.999 * (i % 3 == 0 ? -1 : 1))).ToArray();
        var large = Enumerable.Range(0, 5000).Select(i => (float)((i * 7919 % 10000) / 10000.0 * 7.9 * (i % 2 == 0 ? -1 : 1))).ToArray();

        var grown = new RangeHistogram(1);
        grown.Add(small);
        Assert.Equal(1.0, grown.Range);
        grown.Add(large); // 1 → 2 → 4 → 8: three folds
        Assert.Equal(8.0, grown.Range);

        var direct = new RangeHistogram(8);
        direct.Add(small);
        direct.Add(large);

        Assert.Equal(10000, grown.Count);
        Assert.Equal(direct.Positive.ToArray(), grown.Positive.ToArray());
        Assert.Equal(direct.Negative.ToArray(), grown.Negative.ToArray());
        Assert.Equal(10000, grown.Positive.ToArray().Sum() + grown.Negative.ToArray().Sum());
        Assert.Equal(Math.Min(small.Min(), large.Min()), grown.Min);
        Assert.Equal(Math.Max(small.Max(), large.Max()), grown.Max);
    }

    [Fact]
    public void Range_is_set_by_the_first_non_zero_values_and_zeros_stay_in_bin_0()
    {
        var h = new RangeHistogram();
        h.Add([0f, 0f, 0f]);
        Assert.Equal(0.0, h.Range);
        Assert.Equal(3, h.Positive[0]);
        h.Add([4f, -2f]);
        Assert.Equal(4.0, h.Range);
        Assert.Equal(3, h.Positive[0]);
        Assert.Equal(1, h.Positive[2047]);
        Assert.Equal(1, h.Negative[1024]);
        h.Add([100f]); // 4 → 8 → … → 128
        Assert.Equal(128.0, h.Range);
        Assert.Equal(6, h.Count);
        Assert.Equal(5, h.Positive.ToArray().Sum());
        Assert.Equal(3, h.Positive[0]);
        Assert.Equal(1, h.Positive[63]);   // 4 was in the last bin of 2048 over [0, 4]: bin 2047 / 32
        Assert.Equal(1, h.Negative[32]);   // −2: bin 1024 / 32
    }

    [Fact]
    public void Memory_is_fixed_whatever_is_added()
    {
        var h = new RangeHistogram(1);
        var batch = CalibrationTestFiles.Gaussian(4096, 3);
        h.Add(batch);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) h.Add(batch);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(201 * 4096, h.Count);
    }

    [Fact]
    public void Non_finite_values_are_refused_without_changing_anything()
    {
        var h = new RangeHistogram();
        h.Add([1f, -2f]);
        Assert.False(h.TryAdd([3f, float.NaN]));
        Assert.False(h.TryAdd([float.PositiveInfinity]));
        Assert.Throws<ArgumentException>(() => h.Add([float.NegativeInfinity]));
        Assert.Equal(2, h.Count);
        Assert.Equal(1f, h.Max);
        Assert.True(h.TryAdd([]));
    }
}
