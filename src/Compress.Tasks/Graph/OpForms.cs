using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Graph;

/// <summary>
/// The integer operands of a structural op (axes, pads, starts/ends/steps, split sizes), read the same way by shape
/// inference, constant folding and lowering, whichever opset form the node uses (attribute before, constant input
/// after; https://onnx.ai/onnx/operators/). <paramref name="Ints"/> returns input i's constant integers, null when the
/// input is omitted, and throws when it is computed at run time.
/// </summary>
internal readonly record struct OpForms(Node Node, long Opset, Func<int, long[]?> Ints)
{
    /// <summary>Reduce*: the axes (null when omitted), keepdims, and whether empty axes mean "no reduction".</summary>
    public (long[]? Axes, bool KeepDims, bool NoopWhenEmpty) Reduce()
    {
        // Axes became input 1 in opset 13 for ReduceSum and in opset 18 for the other reductions.
        long inputFrom = Node.OpType == "ReduceSum" ? 13 : 18;
        long[]? axes = Opset is > 0 && Opset < inputFrom ? Node.GetInts("axes") : Node.HasInput(1) ? Ints(1) : Node.GetInts("axes");
        return (axes, Node.GetInt("keepdims", 1) != 0, Node.GetInt("noop_with_empty_axes", 0) != 0);
    }

    /// <summary>The reduced axes (non-negative, sorted, distinct) of a rank-<paramref name="rank"/> input; empty for a no-op.</summary>
    public int[] ReducedAxes(int rank, Func<string, Exception> fail)
    {
        var (axes, _, noop) = Reduce();
        if (axes is null || axes.Length == 0) return noop ? [] : Enumerable.Range(0, rank).ToArray();
        return axes.Select(a => NonNegative(a, rank, "axis", fail)).Distinct().Order().ToArray();
    }

    /// <summary>Pad: begin and end pads per axis of a rank-<paramref name="rank"/> input, the mode and the constant value.</summary>
    public (long[] Begin, long[] End, string Mode, float Value) Pad(int rank, Func<int, float?> constantValue, Func<string, Exception> fail)
    {
        string mode = Node.GetString("mode", "constant");
        long[] pads;
        float value;
        long[]? axes = null;
        if (Opset is > 0 && Opset < 11)
        {
            pads = Node.GetInts("pads") ?? Node.GetInts("paddings") ?? throw fail("the attribute 'pads' is missing");
            value = Node.GetFloat("value", 0f);
        }
        else
        {
            pads = Ints(1) ?? throw fail("input 1 (pads) is missing");
            value = Node.HasInput(2) ? constantValue(2) ?? throw fail("its constant_value (input 2) is computed at run time; it must be a constant") : 0f;
            if (Node.HasInput(3)) axes = Ints(3);
        }
        var axisList = axes?.Select(a => NonNegative(a, rank, "axis", fail)).ToArray() ?? Enumerable.Range(0, rank).ToArray();
        if (pads.Length != 2 * axisList.Length)
            throw fail($"it has {pads.Length} pads for {axisList.Length} axes; it needs two per axis (all begins, then all ends)");
        long[] begin = new long[rank], end = new long[rank];
        for (int i = 0; i < axisList.Length; i++)
        {
            begin[axisList[i]] = pads[i];
            end[axisList[i]] = pads[axisList.Length + i];
        }
        return (begin, end, mode, value);
    }

    /// <summary>Slice: per input axis, the first index, count and step (count = dim and step 1 for untouched axes).</summary>
    public (long Start, long Count, long Step)[] Slice(long[] dims, Func<string, Exception> fail)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (Opset is > 0 && Opset < 10)
        {
            starts = Node.GetInts("starts") ?? throw fail("the attribute 'starts' is missing");
            ends = Node.GetInts("ends") ?? throw fail("the attribute 'ends' is missing");
            axes = Node.GetInts("axes");
        }
        else
        {
            starts = Ints(1) ?? throw fail("input 1 (starts) is missing");
            ends = Ints(2) ?? throw fail("input 2 (ends) is missing");
            axes = Node.HasInput(3) ? Ints(3) : null;
            steps = Node.HasInput(4) ? Ints(4) : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw fail($"starts, ends, axes and steps have different lengths ({starts.Length}, {ends.Length}, {axes.Length}, {steps.Length})");
        var result = dims.Select(d => (0L, d, 1L)).ToArray();
        var seen = new HashSet<int>();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = NonNegative(axes[i], dims.Length, "axis", fail);
            if (!seen.Add(axis)) throw fail($"axis {axes[i]} is sliced twice");
            if (steps[i] == 0) throw fail("a step is 0");
            result[axis] = Resolve(starts[i], ends[i], steps[i], dims[axis]);
        }
        return result;
    }

    /// <summary>One slice of a dim of size <paramref name="dim"/>, clamped as the Slice spec says.</summary>
    public static (long Start, long Count, long Step) Resolve(long start, long end, long step, long dim)
    {
        if (start < 0) start = start <= long.MinValue + dim ? 0 : start + dim;
        if (end < 0) end = end <= long.MinValue + dim ? -1 : end + dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            long count = end > start ? (end - start + step - 1) / step : 0;
            return (start, count, step);
        }
        start = Math.Clamp(start, 0, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        long back = start > end ? (start - end + (-step) - 1) / -step : 0;
        return (start, dim == 0 ? 0 : back, step);
    }

    /// <summary>Split: the size of each of <paramref name="outputs"/> parts of a dim of <paramref name="dim"/>.</summary>
    public long[] Split(long dim, int outputs, Func<string, Exception> fail)
    {
        long[]? sizes = Opset is > 0 && Opset < 13 ? Node.GetInts("split") : Node.HasInput(1) ? Ints(1) : null;
        if (sizes is { Length: > 0 })
        {
            if (sizes.Length != outputs) throw fail($"'split' lists {sizes.Length} sizes for {outputs} outputs");
            if (sizes.Sum() != dim || sizes.Any(s => s < 0)) throw fail($"the split sizes [{string.Join(",", sizes)}] do not add up to {dim}");
            return sizes;
        }
        long parts = Node.GetInt("num_outputs", outputs);
        if (parts != outputs) throw fail($"num_outputs is {parts} but the node has {outputs} outputs");
        if (parts <= 0) throw fail("it has no outputs");
        // Opset 18: ceil(dim / n) each, the last one smaller; before, an even split is required.
        long each = (dim + parts - 1) / parts;
        if (dim % parts != 0 && !(Opset >= 18 && Node.Attributes.ContainsKey("num_outputs")))
            throw fail($"the axis of size {dim} does not split evenly into {parts} parts");
        return Enumerable.Range(0, (int)parts).Select(i => Math.Clamp(dim - i * each, 0, each)).ToArray();
    }

    static int NonNegative(long axis, int rank, string what, Func<string, Exception> fail)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw fail($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }
}
