using System.Collections.Immutable;
using System.Numerics;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Evaluates a node whose inputs are constants, at build time, for <see cref="ConstantFolding"/>. One evaluator per
/// op type in <see cref="Evaluators"/>; output shapes come from shape inference (<see cref="Graph.Values"/>), so the
/// evaluators only move or compute data. Semantics follow the ONNX operator specification.
/// </summary>
public static class ConstantEvaluator
{
    /// <summary>What an evaluator sees: the node, its constant inputs, and the inferred output shapes.</summary>
    public sealed class Context(Graph graph, Node node)
    {
        public Node Node => node;

        public long Opset => graph.Info.DefaultOpset;

        /// <summary>Constant input <paramref name="i"/>, or null when omitted.</summary>
        public Tensor? Input(int i) => node.HasInput(i) ? graph.Constant(node.Inputs[i]) : null;

        public Tensor Required(int i) => Input(i) ?? throw new NotFoldableException($"input {i} is missing");

        /// <summary>The known shape of input <paramref name="i"/> (constant or not).</summary>
        public Shape? InputShape(int i) => node.HasInput(i) ? graph.Constant(node.Inputs[i])?.Shape ?? graph.Value(node.Inputs[i])?.Shape : null;

        /// <summary>The fully known output dims from shape inference.</summary>
        public ImmutableArray<long> OutputDims(int i) =>
            graph.Value(node.Outputs[i])?.Shape is { IsFullyKnown: true } s ? s.ToArray().ToImmutableArray()
            : throw new NotFoldableException($"the shape of output '{node.Outputs[i]}' is not fully known");

        public Tensor Output(int i, DataType type, Array data) => new(node.Outputs[i], type, OutputDims(i), data);
    }

    /// <summary>Thrown by an evaluator when this instance cannot be folded; the message says why.</summary>
    public sealed class NotFoldableException(string message) : Exception(message);

    /// <summary>An evaluator: the node's output tensors.</summary>
    public delegate Tensor[] Evaluator(Context context);

    /// <summary>The evaluator of each foldable op type. Shape is special: it needs only its input's shape, not its value.</summary>
    public static ImmutableSortedDictionary<string, Evaluator> Evaluators { get; } = new Dictionary<string, Evaluator>
    {
        ["Identity"] = SameData,
        ["Reshape"] = SameData,
        ["Flatten"] = SameData,
        ["Squeeze"] = SameData,
        ["Unsqueeze"] = SameData,
        ["Shape"] = ShapeOf,
        ["Gather"] = Gather,
        ["Slice"] = Slice,
        ["Concat"] = Concat,
        ["Cast"] = Cast,
        ["Transpose"] = Transpose,
        ["Add"] = Binary,
        ["Sub"] = Binary,
        ["Mul"] = Binary,
        ["Div"] = Binary,
        ["Max"] = Binary,
        ["Min"] = Binary,
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>Ops that fold when the input's shape is known, even if its value is not.</summary>
    public static bool NeedsOnlyShapes(string opType) => opType == "Shape";

    /// <summary>Identity, Reshape, Flatten, Squeeze, Unsqueeze: the data is unchanged, only the dims differ.</summary>
    static Tensor[] SameData(Context c)
    {
        var x = c.Required(0);
        return [c.Output(0, x.Type, x.Data)];
    }

    /// <summary>Shape: the input's dims (sliced by start/end from opset 15) as Int64.</summary>
    static Tensor[] ShapeOf(Context c)
    {
        var shape = c.InputShape(0) is { IsFullyKnown: true } s ? s : throw new NotFoldableException("its input's shape is not fully known (symbolic batch)");
        int rank = shape.Rank;
        long Clamp(long v) => Math.Clamp(v < 0 ? v + rank : v, 0, rank);
        long start = Clamp(c.Node.GetInt("start", 0)), end = Clamp(c.Node.GetInt("end", rank));
        var dims = shape.ToArray().Skip((int)start).Take((int)Math.Max(0, end - start)).ToArray();
        return [c.Output(0, DataType.Int64, dims)];
    }

    /// <summary>Gather along axis: output[outer, indices…, inner] = data[outer, index, inner].</summary>
    static Tensor[] Gather(Context c)
    {
        Tensor data = c.Required(0), indicesTensor = c.Required(1);
        int rank = data.Dims.Length;
        long axisAttr = c.Node.GetInt("axis", 0);
        int axis = (int)(axisAttr < 0 ? axisAttr + rank : axisAttr);
        long outer = data.Dims.Take(axis).Aggregate(1L, (a, d) => a * d);
        long inner = data.Dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d);
        long size = data.Dims[axis];
        var indices = TensorData.ToInt64s(indicesTensor);
        int stride = TensorData.Stride(data.Type);
        var result = TensorData.Allocate(data.Type, outer * indices.Length * inner);
        long at = 0;
        for (long o = 0; o < outer; o++)
            foreach (var raw in indices)
            {
                long index = raw < 0 ? raw + size : raw;
                if (index < 0 || index >= size) throw new NotFoldableException($"index {raw} is out of range for size {size}");
                Array.Copy(data.Data, (o * size + index) * inner * stride, result, at * stride, inner * stride);
                at += inner;
            }
        return [c.Output(0, data.Type, result)];
    }

    /// <summary>Slice (either opset form, any steps): output[i…] = input[start + i·step …] per axis.</summary>
    static Tensor[] Slice(Context c)
    {
        var x = c.Required(0);
        long[] dims = x.Dims.ToArray();
        var ranges = new OpForms(c.Node, c.Opset, i => c.Input(i) is { } t ? TensorData.ToInt64s(t)
                : c.Node.HasInput(i) ? throw new NotFoldableException($"input {i} is not constant") : null)
            .Slice(dims, m => new NotFoldableException(m));
        var strides = TensorData.Strides(x.Dims);
        long count = ranges.Aggregate(1L, (p, r) => p * r.Count);
        int stride = TensorData.Stride(x.Type);
        var result = TensorData.Allocate(x.Type, count);
        var index = new long[dims.Length];
        for (long i = 0; i < count; i++)
        {
            long src = 0;
            for (int a = 0; a < dims.Length; a++) src += (ranges[a].Start + index[a] * ranges[a].Step) * strides[a];
            Array.Copy(x.Data, src * stride, result, i * stride, stride);
            for (int a = dims.Length - 1; a >= 0; a--)
            {
                if (++index[a] < ranges[a].Count) break;
                index[a] = 0;
            }
        }
        return [c.Output(0, x.Type, result)];
    }

    /// <summary>Concat along axis: for each outer index, the inputs' blocks one after another.</summary>
    static Tensor[] Concat(Context c)
    {
        var inputs = Enumerable.Range(0, c.Node.Inputs.Length).Select(c.Required).ToArray();
        var type = inputs[0].Type;
        if (inputs.Any(t => t.Type != type)) throw new NotFoldableException("its inputs have different types");
        int rank = inputs[0].Dims.Length;
        long axisAttr = c.Node.GetInt("axis", 0);
        int axis = (int)(axisAttr < 0 ? axisAttr + rank : axisAttr);
        long outer = inputs[0].Dims.Take(axis).Aggregate(1L, (a, d) => a * d);
        int stride = TensorData.Stride(type);
        var blocks = inputs.Select(t => t.Dims.Skip(axis).Aggregate(1L, (a, d) => a * d) * stride).ToArray();
        var result = TensorData.Allocate(type, inputs.Sum(t => t.ElementCount));
        long at = 0;
        for (long o = 0; o < outer; o++)
            for (int k = 0; k < inputs.Length; k++)
            {
                Array.Copy(inputs[k].Data, o * blocks[k], result, at, blocks[k]);
                at += blocks[k];
            }
        return [c.Output(0, type, result)];
    }

    /// <summary>Cast: integers convert exactly through long, everything else through double.</summary>
    static Tensor[] Cast(Context c)
    {
        var x = c.Required(0);
        var to = (DataType)c.Node.GetInt("to", 0);
        if (to == x.Type) return [c.Output(0, to, x.Data)];
        var dims = c.OutputDims(0);
        try
        {
            var t = TensorData.IsInteger(x.Type) && TensorData.IsInteger(to)
                ? TensorData.FromInt64s(c.Node.Outputs[0], to, dims, TensorData.ToInt64s(x))
                : TensorData.FromDoubles(c.Node.Outputs[0], to, dims, TensorData.ToDoubles(x));
            return [t];
        }
        catch (NotSupportedException e)
        {
            throw new NotFoldableException(e.Message);
        }
    }

    /// <summary>Transpose: output[i…] = input[perm⁻¹(i…)], default perm reversed.</summary>
    static Tensor[] Transpose(Context c)
    {
        var x = c.Required(0);
        int rank = x.Dims.Length;
        var perm = c.Node.GetInts("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        var inStrides = TensorData.Strides(x.Dims);
        var outDims = perm.Select(p => x.Dims[(int)p]).ToArray();
        int stride = TensorData.Stride(x.Type);
        var result = TensorData.Allocate(x.Type, x.ElementCount);
        var index = new long[rank];
        for (long i = 0; i < x.ElementCount; i++)
        {
            long src = 0;
            for (int a = 0; a < rank; a++) src += index[a] * inStrides[perm[a]];
            Array.Copy(x.Data, src * stride, result, i * stride, stride);
            for (int a = rank - 1; a >= 0; a--)
            {
                if (++index[a] < outDims[a]) break;
                index[a] = 0;
            }
        }
        return [c.Output(0, x.Type, result)];
    }

    /// <summary>Add, Sub, Mul, Div, Max, Min with numpy broadcasting, in the element type's own arithmetic.</summary>
    static Tensor[] Binary(Context c)
    {
        if (c.Node.Inputs.Length != 2) throw new NotFoldableException("only two-input forms are folded");
        Tensor a = c.Required(0), b = c.Required(1);
        if (a.Type != b.Type) throw new NotFoldableException("its inputs have different types");
        var outDims = c.OutputDims(0);
        string op = c.Node.OpType;
        Array data = (a.Data, b.Data) switch
        {
            (float[] x, float[] y) => Apply(x, a.Dims, y, b.Dims, outDims, op),
            (double[] x, double[] y) => Apply(x, a.Dims, y, b.Dims, outDims, op),
            (long[] x, long[] y) => Apply(x, a.Dims, y, b.Dims, outDims, op),
            (int[] x, int[] y) => Apply(x, a.Dims, y, b.Dims, outDims, op),
            _ => throw new NotFoldableException($"{a.Type} arithmetic is not folded"),
        };
        return [c.Output(0, a.Type, data)];
    }

    static T[] Apply<T>(T[] a, ImmutableArray<long> aDims, T[] b, ImmutableArray<long> bDims, ImmutableArray<long> outDims, string op)
        where T : INumber<T>
    {
        long[] ia = TensorData.BroadcastIndices(aDims, outDims), ib = TensorData.BroadcastIndices(bDims, outDims);
        var result = new T[ia.Length];
        for (long i = 0; i < result.Length; i++)
        {
            T x = a[ia[i]], y = b[ib[i]];
            result[i] = op switch
            {
                "Add" => x + y,
                "Sub" => x - y,
                "Mul" => x * y,
                "Div" when T.IsZero(y) && !(typeof(T) == typeof(float) || typeof(T) == typeof(double)) =>
                    throw new NotFoldableException("it divides an integer by zero"),
                "Div" => x / y,
                "Max" => T.Max(x, y),
                "Min" => T.Min(x, y),
                _ => throw new NotFoldableException($"{op} is not folded"),
            };
        }
        return result;
    }
}
