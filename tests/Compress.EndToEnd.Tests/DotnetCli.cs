using System.Diagnostics;

namespace Compress.EndToEnd.Tests;

/// <summary>Runs the `dotnet` CLI in a folder, as a user would type it, and returns its exit code and output.</summary>
public static class DotnetCli
{
    /// <summary>Long enough for a cold restore and build on a loaded machine; a hung child fails the test instead of the run.</summary>
    static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(10);

    public static (int ExitCode, string Output) Run(string workingDirectory, string args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet", args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(s_timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"`dotnet {args}` timed out after {s_timeout.TotalMinutes} min\n{stdout.Result}{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
