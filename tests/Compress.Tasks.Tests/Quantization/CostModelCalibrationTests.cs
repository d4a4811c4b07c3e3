using System.Diagnostics;
using System.Reflection;
using Compress.Tasks.Quantization;
using Xunit.Abstractions;

namespace Compress.Tasks.Tests.Quantization;

/// <summary>
/// Re-checks <see cref="CostModel.Default"/> against the kernels on the machine at hand. Opt-in, because timings need
/// an optimised build and a quiet machine:
/// <c>COMPRESS_COSTMODEL_CHECK=1 dotnet test tests/Compress.Tasks.Tests -c Release --filter CostModelCalibration</c>.
/// </summary>
public class CostModelCalibrationTests(ITestOutputHelper output)
{
    [Fact]
    public void Default_constants_match_the_kernels_on_this_machine()
    {
        if (Environment.GetEnvironmentVariable("COMPRESS_COSTMODEL_CHECK") != "1") return;
        var runtime = typeof(Compress.Runtime.Kernels.GemmF32).Assembly;
        if (runtime.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
        {
            output.WriteLine("Compress.Runtime is a Debug build: timings would be meaningless; run with -c Release.");
            return;
        }
        // Two passes, the faster of each: a busy machine only ever adds time.
        var rows = KernelTimings.Measure(CostModel.Default).Zip(KernelTimings.Measure(CostModel.Default),
            (a, b) => a with { MeasuredNs = Math.Min(a.MeasuredNs, b.MeasuredNs) }).ToList();
        output.WriteLine(KernelTimings.Format(rows));
        // The model steers a binary choice: most estimates within 3× of the measurement, none off by more than 6× (the
        // known outliers: QuantizeF32's scalar tail below 64 values, small pointwise int8 convs; see CostModel.Default).
        double within3 = rows.Count(r => r.Ratio is >= 1 / 3.0 and <= 3.0) / (double)rows.Count;
        Assert.True(within3 >= 0.9, $"{within3:P0} of the estimates are within 3× of the measurements");
        Assert.All(rows, r => Assert.InRange(r.Ratio, 1 / 6.0, 6.0));
    }
}
