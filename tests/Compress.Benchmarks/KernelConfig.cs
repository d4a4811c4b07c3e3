using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Compress.Benchmarks;

/// <summary>
/// A short in-process job (no per-run project build: the suite stays at a few minutes even on a busy machine) plus the
/// GOPS column. Kernel latencies are microseconds, so 5 iterations of ≥ 100 ms each are plenty.
/// </summary>
public static class KernelConfig
{
    /// <summary>The default config (console logger, markdown/CSV exporters, analysers) with the short job and GOPS.</summary>
    public static IConfig Create() => ManualConfig.Create(DefaultConfig.Instance)
        .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"))
        .AddJob(Job.ShortRun
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(8)
            .WithIterationCount(5)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
            .WithId("Short"))
        .AddColumn(new GopsColumn())
        .AddColumn(StatisticColumn.Median)
        .HideColumns(Column.Error, Column.StdDev);
}

/// <summary>Declares how many arithmetic operations (2 per multiply-accumulate) one invocation performs.</summary>
public interface IOperationCount
{
    /// <summary>Operations of one call of <paramref name="method"/> with the current parameters.</summary>
    double Operations(string method);
}

/// <summary>GOPS = operations per call / median time per call, for benchmarks whose class implements <see cref="IOperationCount"/>.</summary>
public sealed class GopsColumn : IColumn
{
    public string Id => nameof(GopsColumn);
    public string ColumnName => "GOPS";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Giga operations per second (2 per multiply-accumulate), from the median time";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        double? ns = report?.ResultStatistics?.Median;
        double? ops = Operations(benchmarkCase);
        return ns is > 0 && ops is > 0 ? (ops.Value / ns.Value).ToString("F1") : "-";
    }

    /// <summary>Instantiates the benchmark class with the case's parameters and asks it.</summary>
    internal static double? Operations(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (!typeof(IOperationCount).IsAssignableFrom(type)) return null;
        var instance = (IOperationCount)Activator.CreateInstance(type)!;
        foreach (var p in benchmarkCase.Parameters.Items)
        {
            var member = type.GetProperty(p.Name, BindingFlags.Public | BindingFlags.Instance);
            if (member is not null) member.SetValue(instance, p.Value);
            else type.GetField(p.Name, BindingFlags.Public | BindingFlags.Instance)?.SetValue(instance, p.Value);
        }
        return instance.Operations(benchmarkCase.Descriptor.WorkloadMethod.Name);
    }

    public override string ToString() => ColumnName;
}
