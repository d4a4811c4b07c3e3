using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;

namespace Compress.Runtime.Tests.Int8;

/// <summary>
/// The three child processes of <see cref="SimdPathTests"/> already re-run every int8/int4 kernel test (they carry the
/// Kernel trait) on the Vector256 (AvxVnni still on), Vector128 and scalar paths. On a CPU with both AvxVnni and
/// AVX-512 the Avx512BW bodies (vpmovsxbw + vpmaddwd) are never the dispatched ones, so one more child turns AvxVnni
/// off (<c>DOTNET_EnableAVXVNNI=0</c>) and re-runs the int8/int4 kernel tests there.
/// </summary>
public class Int8SimdPathTests
{
    public const string IsaVariable = "COMPRESS_TEST_INT8_ISA";

    [Fact]
    public void Int8KernelTests_PassOnAvx512BWPath()
    {
        if (Environment.GetEnvironmentVariable(Simd.ExpectedIsaVariable) is not null || Environment.GetEnvironmentVariable(IsaVariable) is not null)
            return; // never recurse
        if (!Avx512BW.IsSupported) return; // nothing to force on this CPU: the dispatched body is already the one tested
        string assembly = typeof(Int8SimdPathTests).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        string filter = $"{Simd.Category}={Simd.Kernel}&(FullyQualifiedName~Compress.Runtime.Tests.Int8.|FullyQualifiedName~Compress.Runtime.Tests.Int4.)";
        foreach (string arg in new[] { "test", assembly, "--filter", filter, "--nologo" })
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_EnableAVXVNNI"] = "0";
        start.Environment[IsaVariable] = "Avx512BW";

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "child test run timed out");
        string output = stdout + stderr.GetAwaiter().GetResult();
        Assert.True(process.ExitCode == 0, $"Int8 kernel tests failed with DOTNET_EnableAVXVNNI=0:\n{output}");
        var passed = Regex.Match(output, @"Passed:\s+(\d+)");
        Assert.True(passed.Success, $"No test summary:\n{output}");
        Assert.True(int.Parse(passed.Groups[1].Value) >= 500, $"Too few int8 kernel tests ran:\n{output}");
    }
}

/// <summary>Inside the AvxVnni-off child: the dispatch really reaches the Avx512BW bodies.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class Int8IsaProbeTests
{
    [Fact]
    public void ExpectedInt8PathIsActive()
    {
        switch (Environment.GetEnvironmentVariable(Int8SimdPathTests.IsaVariable))
        {
            case null:
                return;
            case "Avx512BW":
                Assert.False(AvxVnni.IsSupported, "AvxVnni should be off");
                Assert.True(Avx512BW.IsSupported, "Avx512BW should be on");
                return;
            case var other:
                Assert.Fail($"Unknown {Int8SimdPathTests.IsaVariable}={other}");
                return;
        }
    }
}
