using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Compress.Benchmarks;

/// <summary>
/// A short job (one launch, 8 warmups, 5 iterations of 100 ms: kernel latencies are microseconds, so that is plenty and
/// the suite takes a few minutes) plus the Median/Min and GOPS columns.
/// </summary>
public static class KernelConfig
{
    /// <summary>The default config (console logger, markdown/CSV exporters, analysers) with the short job and GOPS.</summary>
    public static IConfig Create(bool inProcess = false) => ManualConfig.Create(DefaultConfig.Instance)
        .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"))
        .AddJob((inProcess ? Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance) : Job.ShortRun)
            .WithWarmupCount(8)
            .WithIterationCount(5)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
            .WithId("Short"))
        .AddColumn(StatisticColumn.Median, StatisticColumn.Min)
        .AddColumn(new GopsColumn(fromMin: false), new GopsColumn(fromMin: true))
        .HideColumns(Column.Error, Column.StdDev);
}

/// <summary>Declares how many arithmetic operations (2 per multiply-accumulate) one invocation performs.</summary>
public interface IOperationCount
{
    /// <summary>Operations of one call of <paramref name="method"/> with the current parameters.</summary>
    double Operations(string method);
}

/// <summary>
/// GOPS = operations per call / time per call (the median, or the minimum — the best iteration, the least disturbed
/// by other processes on a shared machine), for benchmarks whose class implements <see cref="IOperationCount"/>.
/// </summary>
public sealed class GopsColumn(bool fromMin) : IColumn
{
    public string Id => nameof(GopsColumn) + (fromMin ? "Min" : "Median");
    public string ColumnName => fromMin ? "GOPS (best)" : "GOPS";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => fromMin ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Giga operations per second (2 per multiply-accumulate), from the {(fromMin ? "minimum" : "median")} time";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        double? ns = fromMin ? report?.ResultStatistics?.Min : report?.ResultStatistics?.Median;
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
