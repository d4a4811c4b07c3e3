using System.Diagnostics;
using System.Runtime;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

/// <summary>
/// Build-time latency of each plan step: the <see cref="PlanInterpreter"/> runs the plan (the runtime kernels the
/// generated class calls, in the same order, so each step sees the caches the steps before it leave) on one sample,
/// stamping the time after every step, in rounds of <see cref="RoundRuns"/> runs for the whole budget; a step's time
/// is its lowest per-round median. The interpreter's dispatch (tens of ns per step) is included, so steps well under
/// a microsecond read high.
/// </summary>
/// <remarks>
/// Why rounds and the lowest median: tiered compilation. A kernel first runs as quickly jitted tier-0 code, several
/// times slower than the optimised code that replaces it once the process has stopped jitting new methods for a while
/// (≥ 100 ms; with dynamic PGO an instrumented tier comes in between), and not every kernel at the same time: timed
/// too early, the shares are wrong, not just high (a fresh process measured the Digits CNN at 90 µs, 12 µs settled).
/// Tier-up only makes a step faster, so its fastest round is its settled time; the median inside a round drops the
/// runs a busy machine preempted. The budget is spent in full, and extended by half while the steps still get faster
/// or the JIT is still compiling; <see cref="StepTimes.Settled"/> says whether both had stopped. (In an MSBuild task
/// host that is busy jitting, the kernels can stay at tier 0 for the whole budget: the report then says so.)
/// </remarks>
public static class StepLatency
{
    /// <summary>Runs per round (the median is over these); a run slower than the budget allows makes fewer.</summary>
    public const int RoundRuns = 25;

    /// <summary>Default wall-clock budget: long enough for the kernels to reach tier 1 in a fresh build process; at most 1.5× that in all.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// The times count as settled when their sum has not dropped by 5%, and the JIT has not been busy, for this long
    /// (either at the end of the budget extends it by up to half).
    /// </summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromMilliseconds(100);

    /// <summary>Times every step of <paramref name="plan"/> on <paramref name="inputs"/> (one array per plan input).</summary>
    /// <param name="budget">Wall-clock time to spend (up to 1.5× while still settling); <see cref="DefaultBudget"/> when null. At least one round of one run is made.</param>
    public static StepTimes Measure(ModelPlan plan, byte[] weights, float[][] inputs, TimeSpan? budget = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var interpreter = new PlanInterpreter(plan, weights);
        var outputs = plan.Outputs.Select(o => new float[o.Length]).ToArray();
        int n = plan.Steps.Count;
        var stamps = new long[n + 1];
        Action<int, PlanInterpreter.Frame> observer = (step, _) => stamps[step + 1] = Stopwatch.GetTimestamp();
        long start = Stopwatch.GetTimestamp(), limit = (long)((budget ?? DefaultBudget).TotalSeconds * Stopwatch.Frequency);

        interpreter.RunInto(inputs, outputs, observer); // first run: JIT of the interpreter's paths, not timed
        long perRun = Math.Max(Stopwatch.GetTimestamp() - start, 1);
        int roundRuns = (int)Math.Clamp(limit / 4 / perRun, 1, RoundRuns);
        var round = new long[n * roundRuns]; // [step][run]
        var best = new long[n];
        best.AsSpan().Fill(long.MaxValue);
        int runs = 0, rounds = 0;
        long settle = (long)(SettleTime.TotalSeconds * Stopwatch.Frequency), now = start, improved = start;
        double reference = double.PositiveInfinity; // Σ best when the total last got 5% faster
        var jitTime = JitInfo.GetCompilationTime();
        do
        {
            long roundStart = now;
            for (int r = 0; r < roundRuns; r++)
            {
                interpreter.RunInto(inputs, outputs, observer);
                for (int s = 0; s < n; s++) round[s * roundRuns + r] = stamps[s + 1] - stamps[s];
            }
            for (int s = 0; s < n; s++) best[s] = Math.Min(best[s], Median(round.AsSpan(s * roundRuns, roundRuns)));
            runs += roundRuns;
            rounds++;
            now = Stopwatch.GetTimestamp();
            double total = best.Sum(t => (double)t);
            // Still changing: 5% faster in all, or the JIT busy for a tenth of the round (tier-up under way, on any thread).
            var jitted = JitInfo.GetCompilationTime();
            bool compiling = (jitted - jitTime).TotalSeconds * Stopwatch.Frequency > (now - roundStart) / 10.0;
            jitTime = jitted;
            bool faster = total < 0.95 * reference;
            if (faster) reference = total;
            if (faster || compiling) improved = now;
        }
        // The budget, extended by half while still changing (a slow tier-up on a busy machine).
        while (now - start < limit || (now - improved < settle && now - start < limit + limit / 2));
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        return new StepTimes([.. best.Select(t => t * nsPerTick)], runs, rounds) { Settled = now - improved >= settle };
    }

    /// <summary>The median (lower middle for an even count), sorting <paramref name="values"/> in place.</summary>
    static long Median(Span<long> values)
    {
        values.Sort();
        return values[(values.Length - 1) / 2];
    }
}
