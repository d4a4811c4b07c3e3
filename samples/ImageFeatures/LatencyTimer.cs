using System.Diagnostics;

namespace ImageFeatures;

/// <summary>
/// Side-by-side latency: warms each contender up, then alternates timed rounds between them so that both see the
/// same machine state, and returns each one's median time per call on <see cref="ThreadClock"/> (the thread's CPU
/// time on Linux). Bounded: about <c>warmup + rounds × max(call, roundTime)</c> per contender.
/// </summary>
public static class LatencyTimer
{
    public static double[] MedianMicroseconds(IReadOnlyList<Action> contenders, int rounds = 31, double roundMs = 8, double warmupMs = 250)
    {
        int n = contenders.Count;
        var callsPerRound = new int[n];
        for (int c = 0; c < n; c++)
        {
            // Warm up (lets tiered JIT reach its optimised code) and size a round from the warm-up rate.
            var sw = Stopwatch.StartNew();
            long calls = 0;
            double start = ThreadClock.NowMicroseconds();
            while (sw.Elapsed.TotalMilliseconds < warmupMs) { contenders[c](); calls++; }
            callsPerRound[c] = (int)Math.Max(1, calls * roundMs * 1e3 / (ThreadClock.NowMicroseconds() - start));
        }
        var samples = new double[n][];
        for (int c = 0; c < n; c++) samples[c] = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            for (int c = 0; c < n; c++)
            {
                var action = contenders[c];
                int k = callsPerRound[c];
                double start = ThreadClock.NowMicroseconds();
                for (int i = 0; i < k; i++) action();
                samples[c][r] = (ThreadClock.NowMicroseconds() - start) / k;
            }
        }
        return samples.Select(Median).ToArray();
    }

    /// <summary>
    /// The share of a contender's process CPU time that its calling thread accounts for (≈ 1 when it computes on the
    /// caller's thread only; used to check that thread CPU time does not leave out ONNX Runtime's own threads).
    /// </summary>
    public static double CallerThreadShare(Action contender, int calls)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan processBefore = process.TotalProcessorTime;
        double threadBefore = ThreadClock.NowMicroseconds();
        for (int i = 0; i < calls; i++) contender();
        double thread = ThreadClock.NowMicroseconds() - threadBefore;
        process.Refresh();
        double processUs = (process.TotalProcessorTime - processBefore).TotalMicroseconds;
        return thread / processUs;
    }

    static double Median(double[] xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
