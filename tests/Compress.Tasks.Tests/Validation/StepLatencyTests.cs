using Compress.Tasks.Tests.Calibration;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Validation;

public class StepLatencyTests
{
    [Theory]
    [InlineData("digits_mlp")]
    [InlineData("digits_cnn")]
    public void Every_step_gets_a_share_and_the_shares_sum_to_100_percent(string model)
    {
        var lowered = CalibrationTestFiles.Lower(model);
        var sample = SampleSource.RandomInputs(lowered.Plan)[0];
        var times = StepLatency.Measure(lowered.Plan, lowered.Weights, sample, TimeSpan.FromMilliseconds(100));

        Assert.Equal(lowered.Plan.Steps.Count, times.MedianNanoseconds.Count);
        Assert.True(times.Runs >= times.Rounds && times.Rounds >= 1);
        Assert.All(times.MedianNanoseconds, t => Assert.True(t >= 0 && double.IsFinite(t)));
        Assert.True(times.TotalNanoseconds > 0);
        double sum = Enumerable.Range(0, lowered.Plan.Steps.Count).Sum(times.SharePercent);
        Assert.Equal(100, sum, 6);
    }

    [Fact]
    public void A_tiny_budget_still_times_one_round_of_one_run()
    {
        var lowered = CalibrationTestFiles.Lower("digits_mlp");
        var times = StepLatency.Measure(lowered.Plan, lowered.Weights, SampleSource.RandomInputs(lowered.Plan)[0], TimeSpan.Zero);
        Assert.Equal(1, times.Runs);
        Assert.Equal(1, times.Rounds);
    }
}
