using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// The sliced-ELLPACK layout the row-sparse kernels share (SELL-C-σ, Kreutzer et al., SIAM J. Sci. Comput. 2014) with
/// C = 16 rows per slice and σ = 256 rows per sorting window: the rows are cut into slices of 16 and each slice is stored
/// as "steps" of 16 lanes (lane l = the slice's l-th row), one non-zero (or block) per lane per step, zero padded to the
/// slice's longest row. A vector body runs a slice as one 16-lane accumulator with no horizontal sums. Where row lengths
/// vary enough (magnitude pruning can leave some rows nearly empty and some dense), the rows of a 256-row window are
/// first ordered by decreasing length, which keeps the padding small; each body stages a window's results and, unless
/// the window kept its rows in order, moves them back to their rows before the epilogue (<see cref="InRowOrder{T}"/>).
/// <para>
/// The <c>rows</c> array every SELL kernel takes is <c>[slices + 1]</c> cumulative step offsets followed by
/// <c>[slices][lanes]</c> the original row (or block row) of each lane, −1 for padding lanes.
/// </para>
/// <para>
/// <b>Windowed</b> variant (<see cref="SparseGemmF32"/>, <see cref="SparseQGemmU8S8"/>): a step also carries a window
/// base b, and every lane's non-zero lies in the 16 items [b, b + 16) (an item is one column for f32, one 4-column group
/// for int8). The vector body loads that window of x into one register and picks each lane's element with one
/// <c>vpermps</c>/<c>vpermd</c>, instead of a 16-element gather. The 16 lane positions are nibbles in one 64-bit word,
/// lane l at bit 32·(l mod 2) + 4·(l / 2), so a <c>vpbroadcastq</c> plus one <c>vpsrlvd</c> by
/// <see cref="NibbleShifts512"/> decodes them (<c>vpermps</c> ignores the bits above 4). A step's indices are 5 ushorts:
/// the base (in columns) and the 64-bit word.
/// </para>
/// </summary>
internal static class SparseSell
{
    /// <summary>Rows (lanes) per slice: one Vector512 of f32 or s32 accumulators.</summary>
    public const int SliceRows = 16;

    /// <summary>Rows per sorting window (σ). A multiple of 16, so slices never straddle windows; small enough that the
    /// int8 kernels can stage a window's s32 results on the stack before the contiguous epilogue.</summary>
    public const int SortWindow = 256;

    /// <summary>Items a window step can reach: one 16-lane register.</summary>
    public const int WindowItems = 16;

    /// <summary>ushorts of indices per windowed step: the base, then the 64-bit nibble word.</summary>
    public const int IndicesPerStep = 5;

    /// <summary>Per-lane right shifts that bring lane l's nibble to bits 0..3 of a broadcast 64-bit word.</summary>
    public static Vector512<uint> NibbleShifts512 => Vector512.Create(0u, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);

    /// <summary>The shifts of lanes 0..7 (lanes 8..15 add 16).</summary>
    public static Vector256<uint> NibbleShifts256 => Vector256.Create(0u, 0, 4, 4, 8, 8, 12, 12);

    public static int Slices(int n) => (n + SliceRows - 1) / SliceRows;

    /// <summary>Length of the <c>rows</c> array: slice offsets plus one original (block) row per lane.</summary>
    public static int RowsLength(int n, int lanesPerSlice) => checked(Slices(n) + 1 + Slices(n) * lanesPerSlice);

    /// <summary>Bit position of lane <paramref name="lane"/>'s nibble in a step's 64-bit position word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NibbleBit(int lane) => 32 * (lane & 1) + 4 * (lane >> 1);

    /// <summary>Lane <paramref name="lane"/>'s position (0..15) in a windowed step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Position(ulong word, int lane) => (int)(word >> NibbleBit(lane)) & 15;

    /// <summary>The 64-bit position word of windowed step <paramref name="t"/> (ushorts 1..4 of the step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Word(ref ushort indices, nint t) =>
        Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref indices, t * IndicesPerStep + 1)));

    /// <summary>
    /// The order rows are stored in. Inside each window of <paramref name="unitsPerWindow"/> units (rows, or block
    /// rows), by decreasing count (ties by index: stable, so the layout is deterministic) — but only where that saves
    /// enough steps (per <paramref name="steps"/>(order, start, length), the window's step count in that order) to pay
    /// for putting the results back in row order: at least <paramref name="minSaved"/> steps and 5 %. Otherwise the
    /// window keeps its rows in order, which the kernels detect and skip the unpermuting for (uniformly random sparsity
    /// gains little from sorting). Measured: unpermuting a window costs about as much as 256 steps of 16 values.
    /// </summary>
    public static int[] Order(int[] counts, int unitsPerWindow, Func<int[], int, int, long> steps, int minSaved)
    {
        var order = new int[counts.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int w = 0; w < order.Length; w += unitsPerWindow)
        {
            int len = Math.Min(unitsPerWindow, order.Length - w);
            long inOrder = steps(order, w, len);
            var sorted = (int[])order.Clone();
            Array.Sort(sorted, w, len, Comparer<int>.Create((a, b) => counts[a] != counts[b] ? counts[b].CompareTo(counts[a]) : a.CompareTo(b)));
            long saved = inOrder - steps(sorted, w, len);
            if (saved >= minSaved && saved * 20 >= inOrder) Array.Copy(sorted, w, order, w, len);
        }
        return order;
    }

    /// <summary>
    /// Checks the slice offsets at the start of <paramref name="rows"/> (non-decreasing, starting at 0, ending within
    /// <paramref name="availableSteps"/>) and returns the total step count. O(slices): run on every call, so a corrupt
    /// layout throws instead of reading out of bounds.
    /// </summary>
    public static int CheckOffsets(ReadOnlySpan<int> rows, int slices, long availableSteps, string name)
    {
        int previous = 0;
        if (slices > 0 && rows[0] != 0) ThrowLayout(name);
        for (int s = 1; s <= slices; s++)
        {
            int o = rows[s];
            if (o < previous) ThrowLayout(name);
            previous = o;
        }
        if (previous > availableSteps) ThrowLayout(name);
        return previous;
    }

    private static void ThrowLayout(string name) =>
        throw new ArgumentException($"'{name}' does not hold a valid slice layout (offsets must start at 0, never decrease and stay within the packed arrays).", name);

    /// <summary>
    /// Plans the windowed steps of one slice with the greedy rule "the window starts at the smallest next item of any
    /// lane; every lane whose next item falls inside takes it" (the lagging lane is always served, so lanes stay in
    /// step). <paramref name="items"/>[l] are lane l's sorted items (null for a padding lane). Writes step bases and
    /// per-lane items (−1 = padding) when <paramref name="bases"/> is not empty; returns the step count.
    /// </summary>
    public static int PlanWindowedSlice(int[]?[] items, int itemCount, Span<int> bases, Span<int> laneItems)
    {
        Span<int> next = stackalloc int[SliceRows];
        next.Clear();
        int steps = 0;
        int maxBase = Math.Max(0, itemCount - WindowItems);
        while (true)
        {
            int min = int.MaxValue;
            for (int l = 0; l < SliceRows; l++)
                if (items[l] is { } list && next[l] < list.Length) min = Math.Min(min, list[next[l]]);
            if (min == int.MaxValue) return steps;
            int b = Math.Min(min, maxBase);
            bool write = !bases.IsEmpty;
            if (write) bases[steps] = b;
            for (int l = 0; l < SliceRows; l++)
            {
                int item = -1;
                if (items[l] is { } list && next[l] < list.Length && list[next[l]] < b + WindowItems) item = list[next[l]++];
                if (write) laneItems[steps * SliceRows + l] = item;
            }
            steps++;
        }
    }

    /// <summary>The rows of one σ window as lane item lists of slice <paramref name="s"/>.</summary>
    public static int[]?[] SliceLanes(int[][] rowItems, int[] order, int s)
    {
        var lanes = new int[]?[SliceRows];
        for (int l = 0; l < SliceRows; l++)
        {
            int i = s * SliceRows + l;
            lanes[l] = i < order.Length ? rowItems[order[i]] : null;
        }
        return lanes;
    }

    /// <summary>Total windowed steps of a matrix whose rows hold <paramref name="rowItems"/> (sorted item lists), and the row order.</summary>
    public static int CountWindowedSteps(int[][] rowItems, int itemCount, out int[] order)
    {
        int n = rowItems.Length;
        var counts = new int[n];
        for (int r = 0; r < n; r++) counts[r] = rowItems[r].Length;
        order = Order(counts, SortWindow, (o, start, len) =>
        {
            long total = 0;
            for (int s = start / SliceRows; s * SliceRows < start + len; s++)
                total += PlanWindowedSlice(SliceLanes(rowItems, o, s), itemCount, default, default);
            return total;
        }, SortWindow);
        long steps = 0;
        for (int s = 0; s < Slices(n); s++)
            steps += PlanWindowedSlice(SliceLanes(rowItems, order, s), itemCount, default, default);
        return checked((int)steps);
    }

    /// <summary>
    /// Writes the windowed layout: for every step, <paramref name="writeValues"/>(step, lane, row, item) stores the
    /// lane's value(s) (never called for padding lanes, whose values must already be zero), the indices get the base
    /// times <paramref name="itemWidth"/> (in columns) and the nibble word, and <paramref name="rows"/> the offsets and
    /// the lane → row map.
    /// </summary>
    public static void WriteWindowed(int[][] rowItems, int itemCount, int itemWidth, int[] order, Span<ushort> indices, Span<int> rows,
        Action<int, int, int, int> writeValues)
    {
        int n = rowItems.Length, slices = Slices(n);
        int step = 0;
        var bases = new int[itemCount + 1];
        var laneItems = new int[(itemCount + 1) * SliceRows];
        for (int s = 0; s < slices; s++)
        {
            var lanes = SliceLanes(rowItems, order, s);
            int count = PlanWindowedSlice(lanes, itemCount, bases, laneItems);
            rows[s] = step;
            for (int l = 0; l < SliceRows; l++)
            {
                int i = s * SliceRows + l;
                rows[slices + 1 + s * SliceRows + l] = i < n ? order[i] : -1;
            }
            for (int t = 0; t < count; t++, step++)
            {
                ulong word = 0;
                for (int l = 0; l < SliceRows; l++)
                {
                    int item = laneItems[t * SliceRows + l];
                    if (item < 0) continue;
                    word |= (ulong)(item - bases[t]) << NibbleBit(l);
                    writeValues(step, l, order[s * SliceRows + l], item);
                }
                int o = step * IndicesPerStep;
                indices[o] = checked((ushort)(bases[t] * itemWidth));
                for (int q = 0; q < 4; q++) indices[o + 1 + q] = (ushort)(word >> (16 * q));
            }
        }
        rows[slices] = step;
    }

    /// <summary>
    /// y[j] = act(acc[j] + bias[j]) for <paramref name="count"/> outputs (the epilogue of a sorting window, whose sums
    /// were staged in original row order). Register-fusable activations only; Sigmoid/Tanh are a post pass.
    /// </summary>
    public static void BiasActivation(ref float acc, ref float bias, bool hasBias, ref float y, int count, in FusedActivation act)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref acc, (nuint)i);
                if (hasBias) v += Vector512.LoadUnsafe(ref bias, (nuint)i);
                ActivationF32.Apply(v, act).StoreUnsafe(ref y, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref acc, (nuint)i);
                if (hasBias) v += Vector256.LoadUnsafe(ref bias, (nuint)i);
                ActivationF32.Apply(v, act).StoreUnsafe(ref y, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= count; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref acc, (nuint)i);
                if (hasBias) v += Vector128.LoadUnsafe(ref bias, (nuint)i);
                ActivationF32.Apply(v, act).StoreUnsafe(ref y, (nuint)i);
            }
        for (; i < count; i++)
            Unsafe.Add(ref y, i) = ActivationF32.Fused(Unsafe.Add(ref acc, i) + (hasBias ? Unsafe.Add(ref bias, i) : 0f), act);
    }

    /// <summary>The reference epilogue: full activation (Sigmoid/Tanh included) one output at a time.</summary>
    public static void BiasActivationScalar(ref float acc, ref float bias, bool hasBias, ref float y, int count, in FusedActivation act)
    {
        for (nint i = 0; i < count; i++)
            Unsafe.Add(ref y, i) = ActivationF32.Scalar(Unsafe.Add(ref acc, i) + (hasBias ? Unsafe.Add(ref bias, i) : 0f), act);
    }

    /// <summary>
    /// Scatters a slice's 16 lane sums into the window buffer at each lane's row (relative to the window's first row);
    /// padding lanes (−1) and rows outside the window are skipped, so a corrupt map cannot write out of bounds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scatter<T>(ReadOnlySpan<T> sums, ref int laneRows, int windowStart, int windowRows, Span<T> window)
    {
        Debug.Assert(windowRows <= window.Length);
        ref T w = ref MemoryMarshal.GetReference(window);
        ref T s = ref MemoryMarshal.GetReference(sums);
        for (int l = 0; l < sums.Length; l++)
        {
            int r = Unsafe.Add(ref laneRows, l) - windowStart;
            if ((uint)r < (uint)windowRows) Unsafe.Add(ref w, r) = Unsafe.Add(ref s, l);
        }
    }

    /// <summary>
    /// After the slices of the sorting window starting at row <paramref name="w0"/>: moves their lane results, which the
    /// vector bodies store slice after slice in stored (sorted) order with one full-width store each, to the rows they
    /// belong to (lane q·R + i of block row laneRows[q] is row R·laneRows[q] + i). Done once per window rather than
    /// per slice because scalar loads right after a 64-byte store cannot be store-forwarded (measured: 5 µs of stalls
    /// per call at n = 1024). Padding lanes and rows outside the window are skipped, so a corrupt map cannot write
    /// out of bounds.
    /// </summary>
    public static void Unpermute<T>(ReadOnlySpan<T> sorted, ref int rows, int slices, int w0, int wRows, int lanesPerSlice, int r, Span<T> window)
    {
        Debug.Assert(wRows <= window.Length);
        int sFirst = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SortWindow) / SliceRows), lanes = (sEnd - sFirst) * lanesPerSlice;
        Debug.Assert(lanes * r <= sorted.Length);
        ref int laneRows = ref LaneRows(ref rows, slices, sFirst, lanesPerSlice);
        ref T src = ref MemoryMarshal.GetReference(sorted);
        ref T dst = ref MemoryMarshal.GetReference(window);
        if (r == 1)
        {
            for (int q = 0; q < lanes; q++)
            {
                int row = Unsafe.Add(ref laneRows, q) - w0;
                if ((uint)row < (uint)wRows) Unsafe.Add(ref dst, row) = Unsafe.Add(ref src, q);
            }
            return;
        }
        for (int q = 0; q < lanes; q++)
        {
            int br = Unsafe.Add(ref laneRows, q);
            if (br < 0) continue;
            for (int i = 0; i < r; i++)
            {
                long row = (long)br * r + i - w0;
                if ((ulong)row < (ulong)wRows) Unsafe.Add(ref dst, (nint)row) = Unsafe.Add(ref src, q * r + i);
            }
        }
    }

    /// <summary>
    /// Whether the sorting window starting at row <paramref name="w0"/> kept the rows in order (lane q = block row
    /// w0/R + q, padding lanes −1 past n): then the lane results are already in row order and need no unpermuting.
    /// One vector compare per 16 lanes.
    /// </summary>
    public static bool IsIdentity(ref int rows, int slices, int w0, int lanesPerSlice, int r, int n)
    {
        int sFirst = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SortWindow) / SliceRows), lanes = (sEnd - sFirst) * lanesPerSlice;
        int first = w0 / r, valid = Math.Min(lanes, (n - w0 + r - 1) / r);
        ref int laneRows = ref LaneRows(ref rows, slices, sFirst, lanesPerSlice);
        int q = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var expected = Vector512.Create(first) + Vector512<int>.Indices;
            for (; q + 16 <= valid; q += 16, expected += Vector512.Create(16))
                if (!Vector512.EqualsAll(Vector512.LoadUnsafe(ref laneRows, (nuint)q), expected)) return false;
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var expected = Vector128.Create(first) + Vector128<int>.Indices;
            for (; q + 4 <= valid; q += 4, expected += Vector128.Create(4))
                if (!Vector128.EqualsAll(Vector128.LoadUnsafe(ref laneRows, (nuint)q), expected)) return false;
        }
        for (; q < valid; q++)
            if (Unsafe.Add(ref laneRows, q) != first + q) return false;
        for (; q < lanes; q++)
            if (Unsafe.Add(ref laneRows, q) != -1) return false;
        return true;
    }

    /// <summary>
    /// The window's results in row order: <paramref name="sorted"/> itself when the window kept its rows in order,
    /// else <paramref name="window"/>, cleared and filled by <see cref="Unpermute{T}"/>.
    /// </summary>
    public static Span<T> InRowOrder<T>(Span<T> sorted, Span<T> window, ref int rows, int slices, int w0, int wRows, int lanesPerSlice, int r, int n)
    {
        if (IsIdentity(ref rows, slices, w0, lanesPerSlice, r, n)) return sorted;
        window.Clear();
        Unpermute<T>(sorted, ref rows, slices, w0, wRows, lanesPerSlice, r, window);
        return window;
    }

    /// <summary>
    /// Alternates the direction a GEMV walks its weights on successive calls (forward, backward, forward…). Weights a
    /// little larger than the L2 are evicted in full by a cyclic walk (every line is the least recently used one when
    /// it is needed again), while a back-and-forth walk starts each call on the lines the previous call touched last:
    /// measured on 2:4 at 1024×1024 (2.3 MB, L2 2 MB), 25–45 % faster. Results are bit-identical either way (slices
    /// are independent). The counter is shared and unsynchronised on purpose: a lost update only costs a cache miss.
    /// </summary>
    public static bool NextPassReversed(ref int counter) => (++counter & 1) == 0;

    /// <summary>
    /// Prepares the copy of x's end that windows reaching past k read from (so the hot loops never call out and keep
    /// their accumulators in registers): <paramref name="tail"/> (2·w long) = x[start..k) then zeros, with
    /// start = max(0, k − w). Returns start.
    /// </summary>
    public static int PrepareTail<T>(ref T x, int k, int w, Span<T> tail) where T : struct
    {
        int start = Math.Max(0, k - w);
        tail.Clear();
        for (int i = 0; i < k - start; i++) tail[i] = Unsafe.Add(ref x, start + i);
        return start;
    }

    /// <summary>
    /// Where the w-element window starting at column <paramref name="b"/> is read from: x itself when it fits
    /// (b ≤ k − w), else the prepared tail (a base past k, possible only in corrupt data, reads zeros).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T WindowAt<T>(ref T x, ref T tail, int b, int lastFull, int tailStart, int w) =>
        ref b <= lastFull ? ref Unsafe.Add(ref x, b) : ref Unsafe.Add(ref tail, Math.Min(b - tailStart, w));

    /// <summary>The lane → row map of slice <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref int LaneRows(ref int rows, int slices, int s, int lanes) => ref Unsafe.Add(ref rows, slices + 1 + s * lanes);
}
