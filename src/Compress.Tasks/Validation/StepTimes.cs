using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

/// <summary>Per-step latency from <see cref="StepLatency.Measure"/>.</summary>
/// <param name="MedianNanoseconds">Per plan step, in plan order: its lowest median over the rounds, in ns.</param>
/// <param name="Runs">Timed runs in all.</param>
/// <param name="Rounds">Rounds they were split into (each step's median is per round).</param>
public sealed record StepTimes(EquatableArray<double> MedianNanoseconds, int Runs, int Rounds)
{
    /// <summary>
    /// False when the steps were still getting faster, or the JIT still compiling, as the (extended) budget ran out —
    /// the kernels not all tiered up — so the shares are rough.
    /// </summary>
    public bool Settled { get; init; } = true;

    /// <summary>Σ of the step medians, ns: the plan's latency as the sum of its typical steps.</summary>
    public double TotalNanoseconds => MedianNanoseconds.Sum();

    /// <summary>Step <paramref name="step"/>'s share of <see cref="TotalNanoseconds"/>, in percent (0 for an empty plan).</summary>
    public double SharePercent(int step) => TotalNanoseconds > 0 ? 100 * MedianNanoseconds[step] / TotalNanoseconds : 0;
}
