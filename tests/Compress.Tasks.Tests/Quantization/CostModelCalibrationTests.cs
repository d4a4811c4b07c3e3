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
        var rows = KernelTimings.Measure(CostModel.Default);
        output.WriteLine(KernelTimings.Format(rows));
        // The model steers a binary choice; within 3× of every measurement is what it needs to be right where it matters.
        Assert.All(rows, r => Assert.InRange(r.Ratio, 1 / 3.0, 3.0));
    }
}
