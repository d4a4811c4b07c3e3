using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

// Reductions, Pad, Slice, Split, Expand and LayerNormalization (operands read through OpForms).
public static partial class ShapeInference
{
    static OpForms Forms(ShapeContext c) => new(c.Node, c.Opset, i => c.HasInput(i) ? c.ConstantInts(i, $"input {i}") : null);

    /// <summary>Every dim must be a number except the batch (dim 0), which an op may carry through untouched.</summary>
    static long[] DimsOrFail(ShapeContext c, Shape s, IReadOnlySet<int> touched)
    {
        var dims = new long[s.Rank];
        for (int d = 0; d < s.Rank; d++)
        {
            if (s.Dims[d].IsKnown) dims[d] = s.Dims[d].Value;
            else if (touched.Contains(d)) throw c.Fail($"it changes dimension {d} of {s}, which is symbolic");
            else dims[d] = 1;
        }
        return dims;
    }

    /// <summary>ReduceSum/Mean/Max/Min/Prod: the reduced axes become 1 (keepdims) or disappear.</summary>
    static void Reduce(ShapeContext c)
    {
        var x = c.InputShape(0);
        var forms = Forms(c);
        int[] axes = forms.ReducedAxes(x.Rank, c.Fail);
        bool keep = forms.Reduce().KeepDims;
        var dims = ImmutableArray.CreateBuilder<Dim>();
        for (int d = 0; d < x.Rank; d++)
            if (!axes.Contains(d)) dims.Add(x.Dims[d]);
            else if (keep) dims.Add(Dim.Known(1));
        c.Output(0, c.InputType(0), new Shape(dims.ToImmutable()));
    }

    /// <summary>Pad: each dim grows by its begin and end pads (negative pads crop).</summary>
    static void Pad(ShapeContext c)
    {
        var x = c.InputShape(0);
        var (begin, end, mode, _) = Forms(c).Pad(x.Rank, i => c.Constant(i) is { Type: DataType.Float, ElementCount: 1 } t ? t.Floats[0] : null, c.Fail);
        if (mode is not ("constant" or "reflect" or "edge")) throw c.Unsupported($"mode '{mode}' (constant, reflect and edge are)");
        var touched = Enumerable.Range(0, x.Rank).Where(d => begin[d] != 0 || end[d] != 0).ToHashSet();
        long[] dims = DimsOrFail(c, x, touched);
        var result = new Dim[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            if (!touched.Contains(d)) { result[d] = x.Dims[d]; continue; }
            long size = dims[d] + begin[d] + end[d];
            if (size < 0) throw c.Fail($"pads {begin[d]}, {end[d]} remove more than the {dims[d]} entries of axis {d}");
            if (mode == "reflect" && (begin[d] >= dims[d] || end[d] >= dims[d]))
                throw c.Fail($"reflect pads {begin[d]}, {end[d]} must be smaller than axis {d} ({dims[d]})");
            if (mode == "edge" && dims[d] == 0) throw c.Fail($"edge padding of the empty axis {d}");
            result[d] = Dim.Known(size);
        }
        c.Output(0, c.InputType(0), new Shape(result.ToImmutableArray()));
    }

    /// <summary>Slice: each sliced dim becomes its element count; tracked 1-D integer values are sliced too.</summary>
    static void Slice(ShapeContext c)
    {
        var x = c.InputShape(0);
        var forms = Forms(c);
        var known = x.Dims.Select(d => d.IsKnown ? d.Value : long.MaxValue / 4).ToArray();
        var ranges = forms.Slice(known, c.Fail);
        var result = new Dim[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            var (start, count, step) = ranges[d];
            bool untouched = start == 0 && step == 1 && count == known[d];
            if (untouched) { result[d] = x.Dims[d]; continue; }
            if (!x.Dims[d].IsKnown) throw c.Fail($"it slices dimension {d} of {x}, which is symbolic");
            result[d] = Dim.Known(count);
        }
        ImmutableArray<Dim>? value = null;
        if (x.Rank == 1 && c.KnownValue(0) is { } vector)
        {
            var (start, count, step) = ranges[0];
            value = Enumerable.Range(0, (int)count).Select(k => vector[(int)(start + k * step)]).ToImmutableArray();
        }
        c.Output(0, c.InputType(0), new Shape(result.ToImmutableArray()), value);
    }

    /// <summary>Split: the outputs share the input's dims except along axis, where they take their sizes.</summary>
    static void Split(ShapeContext c)
    {
        var x = c.InputShape(0);
        int axis = c.Axis(c.Node.GetInt("axis", 0), x.Rank);
        if (!x.Dims[axis].IsKnown) throw c.Fail($"it splits dimension {axis} of {x}, which is symbolic");
        long[] sizes = Forms(c).Split(x[axis], c.Node.Outputs.Length, c.Fail);
        for (int i = 0; i < sizes.Length; i++)
            c.Output(i, c.InputType(0), new Shape(x.Dims.SetItem(axis, Dim.Known(sizes[i]))));
    }

    /// <summary>Expand: the input broadcast (numpy rules, both ways) with the constant target shape.</summary>
    static void Expand(ShapeContext c)
    {
        var x = c.InputShape(0);
        var target = c.KnownValue(1) ?? throw c.Fail($"its shape '{c.Node.Input(1)}' is computed at run time; Compress needs a constant shape");
        if (!TryBroadcast(x, new Shape(target), out var result)) throw c.Fail($"{x} cannot be expanded to [{string.Join(",", target)}]");
        c.Output(0, c.InputType(0), result);
    }

    /// <summary>LayerNormalization: Y has X's shape; Scale (and B) broadcast over the normalised dims [axis, rank).</summary>
    static void LayerNormalization(ShapeContext c)
    {
        var x = c.InputShape(0);
        int axis = c.Axis(c.Node.GetInt("axis", -1), x.Rank);
        var normalised = new Shape(x.Dims[axis..]);
        for (int i = 1; i <= 2 && c.HasInput(i); i++)
            if (!TryBroadcast(c.InputShape(i), normalised, out var s) || s != normalised)
                throw c.Fail($"input '{c.Node.Inputs[i]}' {c.InputShape(i)} does not broadcast to the normalised dims {normalised}");
        c.Output(0, c.InputType(0), x);
        var stats = new Shape([.. x.Dims[..axis], .. Enumerable.Repeat(Dim.Known(1), x.Rank - axis)]);
        c.Output(1, DataType.Float, stats);
        c.Output(2, DataType.Float, stats);
    }

    /// <summary>Resize: sizes, or floor(dim · scale) per axis; the dims it changes must be numbers.</summary>
    static void Resize(ShapeContext c)
    {
        var x = c.InputShape(0);
        var known = x.Dims.Select(d => d.IsKnown ? d.Value : 1).ToArray();
        var form = ResizeForm.Read(c.Node, c.Opset, known, c.Constant, c.Fail, c.Unsupported);
        var dims = new Dim[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            if (!x.Dims[d].IsKnown && form.Scales[d] == 1) { dims[d] = x.Dims[d]; continue; }
            if (!x.Dims[d].IsKnown) throw c.Fail($"it resizes dimension {d} of {x}, which is symbolic");
            dims[d] = Dim.Known(form.OutputDims[d]);
        }
        c.Output(0, c.InputType(0), new Shape(dims.ToImmutableArray()));
    }
}
