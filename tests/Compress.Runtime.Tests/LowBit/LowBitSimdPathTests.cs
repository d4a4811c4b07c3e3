using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;

namespace Compress.Runtime.Tests.LowBit;

/// <summary>
/// The children of <see cref="SimdPathVector256Tests"/> and its siblings re-run the low-bit kernel tests on the
/// Vector256, Vector128 and scalar paths. On a CPU with AvxVnni and AVX-512 the shift kernel's Avx512BW fallback
/// (panel decode + <c>vpmaddwd</c>) is not the dispatched body, so one more child turns AvxVnni off.
/// </summary>
public class LowBitSimdPathTests
{
    const string IsaVariable = "COMPRESS_TEST_LOWBIT_ISA";

    [Fact]
    public void LowBitKernelTests_PassWithoutAvxVnni()
    {
        if (Environment.GetEnvironmentVariable(Simd.ExpectedIsaVariable) is not null || Environment.GetEnvironmentVariable(IsaVariable) is not null
            || Environment.GetEnvironmentVariable(Int8.Int8SimdPathTests.IsaVariable) is not null)
            return; // never recurse
        if (!AvxVnni.IsSupported) return;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        string filter = $"{Simd.Category}={Simd.Kernel}&FullyQualifiedName~Compress.Runtime.Tests.LowBit.";
        foreach (string arg in new[] { "test", typeof(LowBitSimdPathTests).Assembly.Location, "--filter", filter, "--nologo" })
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_EnableAVXVNNI"] = "0";
        start.Environment[IsaVariable] = "NoAvxVnni";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "child test run timed out");
        string output = stdout + stderr.GetAwaiter().GetResult();
        Assert.True(process.ExitCode == 0, $"Low-bit kernel tests failed with DOTNET_EnableAVXVNNI=0:\n{output}");
        var passed = Regex.Match(output, @"Passed:\s+(\d+)");
        Assert.True(passed.Success && int.Parse(passed.Groups[1].Value) >= 100, $"Too few low-bit kernel tests ran:\n{output}");
        Assert.False(AvxVnni.IsSupported && Environment.GetEnvironmentVariable(IsaVariable) is not null);
    }
}
