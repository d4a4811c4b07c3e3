using System.Diagnostics;

namespace Digits;

/// <summary>
/// Side-by-side latency: warms each contender up, then alternates timed rounds between them so that both see the
/// same machine load, and returns each one's median time per call. Bounded: about
/// <c>warmup + rounds × roundTime</c> per contender.
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
            while (sw.Elapsed.TotalMilliseconds < warmupMs) { contenders[c](); calls++; }
            callsPerRound[c] = (int)Math.Max(1, calls * roundMs / sw.Elapsed.TotalMilliseconds);
        }
        var samples = new double[n][];
        for (int c = 0; c < n; c++) samples[c] = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            for (int c = 0; c < n; c++)
            {
                var action = contenders[c];
                int k = callsPerRound[c];
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < k; i++) action();
                samples[c][r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / k;
            }
        }
        return samples.Select(Median).ToArray();
    }

    static double Median(double[] xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
