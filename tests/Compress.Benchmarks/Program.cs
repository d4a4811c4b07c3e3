using BenchmarkDotNet.Running;

namespace Compress.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project tests/Compress.Benchmarks -- --filter '*'</c>. Every benchmark runs
/// the short job of <see cref="KernelConfig"/> (one launch, 3 warmups, 5 measured iterations) so the whole suite takes a
/// few minutes; the summary table has a GOPS column (2 operations per multiply-accumulate).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, KernelConfig.Create());
}
