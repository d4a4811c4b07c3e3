using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ImageFeatures;

/// <summary>
/// CPU time of the calling thread (POSIX <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>) where the OS has it, else wall
/// time. On a loaded machine wall time also counts the time other processes held the core; the thread's CPU time does
/// not, so two contenders on the same thread compare fairly (ONNX Runtime with one intra-op thread computes on the
/// caller's thread, so its time is counted too; <see cref="LatencyTimer"/> checks that).
/// </summary>
public static partial class ThreadClock
{
    const int ClockThreadCpuTimeId = 3; // Linux and FreeBSD; macOS's value differs, so it uses wall time

    public static bool IsCpuTime { get; } = OperatingSystem.IsLinux() && TryRead(out _);

    /// <summary>Now, in microseconds, on the clock <see cref="IsCpuTime"/> names.</summary>
    public static double NowMicroseconds()
    {
        if (IsCpuTime && TryRead(out double us)) return us;
        return Stopwatch.GetTimestamp() * 1e6 / Stopwatch.Frequency;
    }

    static bool TryRead(out double microseconds)
    {
        if (clock_gettime(ClockThreadCpuTimeId, out var ts) != 0) { microseconds = 0; return false; }
        microseconds = ts.Seconds * 1e6 + ts.Nanoseconds / 1e3;
        return true;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, out TimeSpec time);
}
