using BenchmarkDotNet.Running;

namespace Compress.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project tests/Compress.Benchmarks -- --filter '*'</c>. Every benchmark runs
/// the short job of <see cref="KernelConfig"/> (one launch, 8 warmups, 5 measured iterations of 100 ms) so the whole
/// suite takes a few minutes; the summary tables have GOPS columns (2 operations per multiply-accumulate).
/// </summary>
public static class Program
{
    /// <param name="args">BenchmarkDotNet's arguments; <c>--in-process</c> (ours) runs the benchmarks inside this
    /// process (no generated project to build, but the host's JIT state leaks in: small kernels measured up to 2×
    /// slower that way, so the default is a separate benchmark process).</param>
    public static void Main(string[] args)
    {
        bool inProcess = args.Contains("--in-process");
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
            .Run(args.Where(a => a != "--in-process").ToArray(), KernelConfig.Create(inProcess));
    }
}
