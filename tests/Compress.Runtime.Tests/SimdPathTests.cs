using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Text.RegularExpressions;

namespace Compress.Runtime.Tests;

/// <summary>Names shared by the kernel test classes and the child processes that re-run them.</summary>
internal static class Simd
{
    /// <summary>Trait on every kernel test class; the child processes run exactly these.</summary>
    public const string Category = "Category";
    public const string Kernel = "Kernel";

    /// <summary>Set in a child: which widest path the child must be running ("Vector256", "Vector128", "Scalar").</summary>
    public const string ExpectedIsaVariable = "COMPRESS_TEST_EXPECTED_ISA";
}

/// <summary>Runs inside each child process (and trivially in the parent): the JIT really took the path the child was
/// started for, so a child run can't pass by testing the default path again.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class IsaProbeTests
{
    [Fact]
    public void ExpectedPathIsActive()
    {
        switch (Environment.GetEnvironmentVariable(Simd.ExpectedIsaVariable))
        {
            case null:
                return;
            case "Vector256":
                Assert.False(Vector512.IsHardwareAccelerated, "Vector512 should be off");
                Assert.True(Vector256.IsHardwareAccelerated, "Vector256 should be on");
                return;
            case "Vector128":
                Assert.False(Vector256.IsHardwareAccelerated, "Vector256 should be off");
                Assert.True(Vector128.IsHardwareAccelerated, "Vector128 should be on");
                return;
            case "Scalar":
                Assert.False(Vector128.IsHardwareAccelerated, "Vector128 should be off");
                return;
            case var other:
                Assert.Fail($"Unknown {Simd.ExpectedIsaVariable}={other}");
                return;
        }
    }
}

/// <summary>
/// Re-runs every kernel test (trait Category=Kernel) in a child <c>dotnet test</c> with an ISA switched off, so the
/// dispatch picks the Vector256, Vector128 and scalar paths on a machine whose default is Vector512. On .NET 10 the
/// AVX-512 switch is <c>DOTNET_EnableAVX512</c>; the older <c>DOTNET_EnableAVX512F</c> no longer has an effect (both
/// are set). One class per path so xunit runs the three children in parallel.
/// </summary>
internal static class SimdChild
{
    public static void Run(string environment, string expectedIsa)
    {
        if (Environment.GetEnvironmentVariable(Simd.ExpectedIsaVariable) is not null) return; // never recurse
        string assembly = typeof(SimdChild).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string arg in new[] { "test", assembly, "--filter", $"{Simd.Category}={Simd.Kernel}", "--nologo" })
            start.ArgumentList.Add(arg);
        foreach (string pair in environment.Split(';'))
        {
            var kv = pair.Split('=');
            start.Environment[kv[0]] = kv[1];
        }
        start.Environment[Simd.ExpectedIsaVariable] = expectedIsa;

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(4)), "child test run timed out");
        string output = stdout + stderr.Result;
        Assert.True(process.ExitCode == 0, $"Kernel tests failed with {environment}:\n{output}");
        var passed = Regex.Match(output, @"Passed:\s+(\d+)");
        Assert.True(passed.Success, $"No test summary with {environment}:\n{output}");
        Assert.True(int.Parse(passed.Groups[1].Value) >= 200, $"Too few kernel tests ran with {environment}:\n{output}");
    }
}

public class SimdPathVector256Tests
{
    [Fact]
    public void KernelTests_PassWithoutAvx512() => SimdChild.Run("DOTNET_EnableAVX512=0;DOTNET_EnableAVX512F=0", "Vector256");
}

public class SimdPathVector128Tests
{
    [Fact]
    public void KernelTests_PassWithoutAvx2() => SimdChild.Run("DOTNET_EnableAVX2=0", "Vector128");
}

public class SimdPathScalarTests
{
    [Fact]
    public void KernelTests_PassWithoutHardwareIntrinsics() => SimdChild.Run("DOTNET_EnableHWIntrinsic=0", "Scalar");
}
