namespace Compress.Tasks.Lowering;

/// <summary>
/// Static memory planning for the activation arena: buffers whose lifetimes overlap never share memory; the rest
/// reuse it. Greedy by size with best fit, as in TensorFlow Lite's <c>GreedyBySize</c> planner (Pisarchyk &amp; Lee,
/// "Efficient Memory Management for Deep Neural Net Inference", 2020): buffers are placed largest first, each into
/// the smallest gap left between the already-placed buffers that are alive at the same time, or after them.
/// </summary>
public static class ArenaPlanner
{
    /// <summary>Offsets are multiples of this many floats (64 bytes: a cache line, one Vector512).</summary>
    public const int AlignmentFloats = 16;

    /// <summary>Byte offsets (<see cref="PlanBytes"/>) are multiples of this: <see cref="AlignmentFloats"/> floats.</summary>
    public const int AlignmentBytes = AlignmentFloats * sizeof(float);

    /// <summary>A buffer of <paramref name="Length"/> elements (floats for <see cref="Plan"/>, bytes for <see cref="PlanBytes"/>) alive from step <paramref name="First"/> to <paramref name="Last"/> inclusive.</summary>
    public readonly record struct Buffer(int Length, int First, int Last)
    {
        public bool Overlaps(Buffer other) => First <= other.Last && other.First <= Last;
    }

    /// <summary>The placement: an aligned offset per buffer (same order) and the arena size in floats.</summary>
    public sealed record Placement(int[] Offsets, int TotalFloats);

    /// <summary>A placement in bytes: a 64-byte-aligned offset per buffer (same order) and the arena size in bytes (a multiple of 64).</summary>
    public sealed record BytePlacement(int[] ByteOffsets, int TotalBytes);

    /// <summary>Places buffers measured in floats at offsets that are multiples of <see cref="AlignmentFloats"/>.</summary>
    public static Placement Plan(IReadOnlyList<Buffer> buffers)
    {
        var (offsets, total) = Place(buffers, AlignmentFloats);
        if (total > int.MaxValue)
            throw new InvalidOperationException($"The activation arena would exceed {int.MaxValue} floats.");
        return new Placement(offsets, (int)total);
    }

    /// <summary>
    /// Places buffers measured in bytes (an arena holding values of mixed element sizes: f32 activations, u8 quantised
    /// activations, byte scratch) at offsets that are multiples of <see cref="AlignmentBytes"/>, so every buffer starts
    /// on a cache line and an f32 buffer's float offset is its byte offset / 4. For buffers that are all floats (lengths
    /// 4 × n) the result is <see cref="Plan"/>'s scaled by 4: the same greedy order, gaps and offsets.
    /// </summary>
    public static BytePlacement PlanBytes(IReadOnlyList<Buffer> buffers)
    {
        var (offsets, total) = Place(buffers, AlignmentBytes);
        // The arena is a float[]: its byte size must fit int, and its float count is TotalBytes / 4.
        if (total > int.MaxValue - AlignmentBytes)
            throw new InvalidOperationException($"The activation arena would exceed {int.MaxValue} bytes.");
        return new BytePlacement(offsets, (int)total);
    }

    static (int[] Offsets, long Total) Place(IReadOnlyList<Buffer> buffers, int alignment)
    {
        long Align(long v) => (v + alignment - 1) / alignment * alignment;
        var offsets = new int[buffers.Count];
        // Largest first; ties by first use, then index, so the result depends only on the input.
        var order = Enumerable.Range(0, buffers.Count)
            .Where(i => buffers[i].Length > 0)
            .OrderByDescending(i => buffers[i].Length).ThenBy(i => buffers[i].First).ThenBy(i => i)
            .ToList();
        var placed = new List<int>();
        long total = 0;
        foreach (int i in order)
        {
            var b = buffers[i];
            var busy = placed.Where(p => buffers[p].Overlaps(b))
                .Select(p => (Start: (long)offsets[p], End: (long)offsets[p] + buffers[p].Length))
                .OrderBy(r => r.Start).ThenBy(r => r.End).ToList();
            long bestOffset = -1, bestGap = long.MaxValue, cursor = 0;
            foreach (var (start, end) in busy)
            {
                long gapStart = Align(cursor);
                long gap = start - gapStart;
                if (gap >= b.Length && gap < bestGap) { bestGap = gap; bestOffset = gapStart; }
                cursor = Math.Max(cursor, end);
            }
            if (bestOffset < 0) bestOffset = Align(cursor);
            if (bestOffset + b.Length > int.MaxValue)
                throw new InvalidOperationException($"The activation arena would exceed {int.MaxValue} elements.");
            offsets[i] = (int)bestOffset;
            placed.Add(i);
            total = Math.Max(total, bestOffset + b.Length);
        }
        return (offsets, Align(total));
    }

    public static long Align(long floats) => (floats + AlignmentFloats - 1) / AlignmentFloats * AlignmentFloats;
}
