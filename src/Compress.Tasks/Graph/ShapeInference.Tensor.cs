using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

// Shape manipulation (Flatten, Reshape, Transpose, Concat, Squeeze, Unsqueeze) and shape arithmetic (Shape, Gather, Constant).
public static partial class ShapeInference
{
    /// <summary>Flatten: [d0…d(a-1), da…] → [d0·…·d(a-1), da·…] for axis a in [-rank, rank] (default 1).</summary>
    static void Flatten(ShapeContext c)
    {
        var x = c.InputShape(0);
        long axis = c.Node.GetInt("axis", 1);
        long a = axis < 0 ? axis + x.Rank : axis;
        if (a < 0 || a > x.Rank) throw c.Fail($"axis {axis} is out of range for rank {x.Rank}");
        var outer = Product(x.Dims.Take((int)a)) ?? throw c.Fail($"the leading dimensions of {x} multiply to more than one symbol");
        var inner = Product(x.Dims.Skip((int)a)) ?? throw c.Fail($"the trailing dimensions of {x} include the symbolic batch");
        c.Output(0, c.InputType(0), new Shape([outer, inner]));
    }

    /// <summary>
    /// Reshape: the target shape (input 1 from opset 5, the <c>shape</c> attribute before) must be constant or known
    /// shape arithmetic; 0 copies the input dimension (unless <c>allowzero</c>), one -1 takes the remaining size.
    /// </summary>
    static void Reshape(ShapeContext c)
    {
        var x = c.InputShape(0);
        ImmutableArray<Dim> target = c.Opset < 5 && !c.HasInput(1)
            ? (c.Node.GetInts("shape") ?? throw c.Fail("the attribute 'shape' is missing")).Select(v => new Dim(v)).ToImmutableArray()
            : c.KnownValue(1) ?? throw c.Fail($"its target shape '{c.Node.Input(1)}' is computed at run time; Compress needs a constant shape");
        bool allowZero = c.Node.GetInt("allowzero", 0) != 0;

        var dims = new Dim[target.Length];
        int infer = -1;
        for (int i = 0; i < target.Length; i++)
        {
            var t = target[i];
            if (!IsNumber(t)) dims[i] = t;
            else if (t.Value == 0 && !allowZero)
                dims[i] = i < x.Rank ? x.Dims[i] : throw c.Fail($"target entry {i} is 0 (copy) but the input {x} has no dimension {i}");
            else if (t.Value == -1)
            {
                if (infer >= 0) throw c.Fail($"the target shape [{string.Join(",", target)}] has more than one -1");
                infer = i;
            }
            else if (t.Value < -1) throw c.Fail($"the target shape [{string.Join(",", target)}] has a negative entry");
            else dims[i] = Dim.Known(t.Value);
        }

        // Split both sides into a known product and a list of symbols; symbols must pair up.
        var inSymbols = x.Dims.Where(d => !d.IsKnown).ToList();
        long inKnown = x.Dims.Where(d => d.IsKnown).Aggregate(1L, (p, d) => p * d.Value);
        long outKnown = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (i == infer) continue;
            if (dims[i].IsKnown) outKnown *= dims[i].Value;
            else if (!inSymbols.Remove(dims[i]))
                throw c.Fail($"the target shape uses '{dims[i]}', which the input {x} does not have");
        }
        string targetText = $"[{string.Join(",", target)}]";
        if (infer >= 0)
        {
            if (inSymbols.Count == 0)
            {
                if (outKnown == 0 || inKnown % outKnown != 0)
                    throw c.Fail($"cannot reshape {x} ({inKnown} elements) to {targetText}");
                dims[infer] = Dim.Known(inKnown / outKnown);
            }
            else if (inSymbols.Count == 1 && inKnown == outKnown) dims[infer] = inSymbols[0];
            else throw c.Fail($"reshaping {x} to {targetText} would mix the symbolic batch into another dimension");
        }
        else if (inSymbols.Count > 0 || inKnown != outKnown)
            throw c.Fail($"cannot reshape {x} to {targetText}: the element counts differ");
        c.Output(0, c.InputType(0), new Shape(dims.ToImmutableArray()));
    }

    /// <summary>Transpose: dims permuted by <c>perm</c> (default: reversed).</summary>
    static void Transpose(ShapeContext c)
    {
        var x = c.InputShape(0);
        var perm = c.Node.GetInts("perm") ?? Enumerable.Range(0, x.Rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != x.Rank || perm.Order().Select((p, i) => p == i).Any(ok => !ok))
            throw c.Fail($"perm [{string.Join(",", perm)}] is not a permutation of the {x.Rank} axes of {x}");
        c.Output(0, c.InputType(0), new Shape(perm.Select(p => x.Dims[(int)p]).ToImmutableArray()));
    }

    /// <summary>Concat: dims agree except along <c>axis</c>, where they add up; tracked integer vectors are concatenated.</summary>
    static void Concat(ShapeContext c)
    {
        if (c.InputCount == 0) throw c.Fail("it has no inputs");
        var first = c.InputShape(0);
        if (first.Rank == 0) throw c.Fail("Concat needs inputs of rank ≥ 1");
        if (c.Opset >= 4 && !c.Node.Attributes.ContainsKey("axis")) throw c.Fail("the required attribute 'axis' is missing");
        int axis = c.Axis(c.Node.GetInt("axis", 1), first.Rank);
        var dims = first.Dims.ToArray();
        for (int i = 1; i < c.InputCount; i++)
        {
            var s = c.InputShape(i);
            if (s.Rank != first.Rank) throw c.Fail($"its inputs have different ranks ({first} and {s})");
            for (int d = 0; d < s.Rank; d++)
            {
                if (d == axis)
                {
                    dims[d] = dims[d].IsKnown && s.Dims[d].IsKnown ? Dim.Known(dims[d].Value + s[d])
                        : throw c.Fail($"the concatenated axis {axis} is symbolic in {first} or {s}");
                }
                else if (dims[d].IsKnown && s.Dims[d].IsKnown && dims[d].Value != s[d])
                    throw c.Fail($"its inputs {first} and {s} differ on axis {d}, which is not the concatenated axis {axis}");
                else if (!dims[d].IsKnown) dims[d] = s.Dims[d];
            }
        }
        ImmutableArray<Dim>? value = null;
        if (first.Rank == 1)
        {
            var parts = Enumerable.Range(0, c.InputCount).Select(c.KnownValue).ToList();
            if (parts.All(p => p is not null)) value = parts.SelectMany(p => p!.Value).ToImmutableArray();
        }
        c.Output(0, c.InputType(0), new Shape(dims.ToImmutableArray()), value);
    }

    /// <summary>Squeeze: removes the listed size-1 axes (attribute before opset 13, input 1 from 13), or every size-1 axis.</summary>
    static void Squeeze(ShapeContext c)
    {
        var x = c.InputShape(0);
        long[]? axes = c.Opset < 13 ? c.Node.GetInts("axes") : c.HasInput(1) ? c.ConstantInts(1, "axes") : null;
        var remove = new HashSet<int>();
        if (axes is null || axes.Length == 0)
        {
            for (int d = 0; d < x.Rank; d++)
                if (x.Dims[d].IsKnown && x[d] == 1) remove.Add(d);
        }
        else
        {
            foreach (var a in axes)
            {
                int d = c.Axis(a, x.Rank, "squeezed axis");
                if (!x.Dims[d].IsKnown || x[d] != 1) throw c.Fail($"axis {a} of {x} has size {x.Dims[d]}, not 1");
                remove.Add(d);
            }
        }
        var shape = new Shape(x.Dims.Where((_, d) => !remove.Contains(d)).ToImmutableArray());
        c.Output(0, c.InputType(0), shape, shape.Rank == 0 ? c.KnownValue(0) : x.Rank == 1 && shape.Rank == 1 ? c.KnownValue(0) : null);
    }

    /// <summary>Unsqueeze: inserts size-1 axes at the listed positions of the output (attribute before opset 13, input 1 from 13).</summary>
    static void Unsqueeze(ShapeContext c)
    {
        var x = c.InputShape(0);
        long[] axes = c.Opset < 13
            ? c.Node.GetInts("axes") ?? throw c.Fail("the required attribute 'axes' is missing")
            : c.ConstantInts(1, "axes");
        int rank = x.Rank + axes.Length;
        var inserted = new HashSet<int>();
        foreach (var a in axes)
            if (!inserted.Add(c.Axis(a, rank, "unsqueezed axis"))) throw c.Fail($"axes [{string.Join(",", axes)}] repeat an axis");
        var dims = new Dim[rank];
        for (int d = 0, src = 0; d < rank; d++) dims[d] = inserted.Contains(d) ? Dim.Known(1) : x.Dims[src++];
        c.Output(0, c.InputType(0), new Shape(dims.ToImmutableArray()), x.Rank <= 1 && rank == 1 ? c.KnownValue(0) : null);
    }

    /// <summary>Shape: the input's dims as an Int64 vector (optionally sliced by start/end, opset 15); the value is tracked.</summary>
    static void ShapeOp(ShapeContext c)
    {
        var x = c.InputShape(0);
        long Clamp(long v) => Math.Clamp(v < 0 ? v + x.Rank : v, 0, x.Rank);
        int start = (int)Clamp(c.Node.GetInt("start", 0)), end = (int)Clamp(c.Node.GetInt("end", x.Rank));
        var value = x.Dims.Skip(start).Take(Math.Max(0, end - start)).ToImmutableArray();
        c.Output(0, DataType.Int64, Shape.Of(value.Length), value);
    }

    /// <summary>Gather: data[:axis] + indices.shape + data[axis+1:]; picks from tracked integer vectors with constant indices.</summary>
    static void Gather(ShapeContext c)
    {
        Shape data = c.InputShape(0), indices = c.InputShape(1);
        if (data.Rank == 0) throw c.Fail("Gather needs data of rank ≥ 1");
        int axis = c.Axis(c.Node.GetInt("axis", 0), data.Rank);
        var shape = new Shape([.. data.Dims.Take(axis), .. indices.Dims, .. data.Dims.Skip(axis + 1)]);
        ImmutableArray<Dim>? value = null;
        if (data.Rank == 1 && indices.Rank <= 1 && c.KnownValue(0) is { } vector && c.KnownValue(1) is { } picks && picks.All(IsNumber))
        {
            var picked = ImmutableArray.CreateBuilder<Dim>();
            foreach (var p in picks)
            {
                long i = p.Value < 0 ? p.Value + vector.Length : p.Value;
                if (i < 0 || i >= vector.Length) throw c.Fail($"index {p.Value} is out of range for {vector.Length} entries");
                picked.Add(vector[(int)i]);
            }
            value = picked.ToImmutable();
        }
        c.Output(0, c.InputType(0), shape, value);
    }

    /// <summary>Constant: the value attribute's type and shape; the value itself is known to later rules.</summary>
    static void ConstantOp(ShapeContext c)
    {
        var value = ConstantNode.ValueOf(c.Node)
            ?? throw c.Unsupported("a Constant needs one of value, value_float(s), value_int(s), value_string(s); sparse_value is not supported");
        c.OutputConstant(0, value);
    }
}
