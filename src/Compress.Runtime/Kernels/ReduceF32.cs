using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX ReduceSum/Mean/Max/Min/Prod (https://onnx.ai/onnx/operators/onnx__ReduceSum.html) over the middle dim of x
/// viewed as [outer, axis, inner]: y[o, i] = reduce over a of x[o, a, i].
/// </summary>
public static class ReduceF32
{
    /// <summary>
    /// y[o·inner + i] = op over a &lt; axis of x[(o·axis + a)·inner + i]. Over the last dim (inner = 1) each row is one
    /// vectorised TensorPrimitives reduction; otherwise whole rows of length inner are combined element-wise, so the
    /// inner loop is a vectorised Add/Max/Min/Multiply either way. An empty axis gives the op's identity (Mean: NaN).
    /// x and y must not overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        Guard.NonNegative(outer, nameof(outer));
        Guard.NonNegative(axis, nameof(axis));
        Guard.NonNegative(inner, nameof(inner));
        Guard.AtLeast(x.Length, (long)outer * axis * inner, nameof(x));
        Guard.AtLeast(y.Length, (long)outer * inner, nameof(y));
        if (outer == 0 || inner == 0) return;
        if (axis == 0)
        {
            y[..(outer * inner)].Fill(Identity(op));
            return;
        }
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var row = x.Slice(o * axis, axis);
                y[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Mean => TensorPrimitives.Sum(row) / axis,
                    ReduceOp.Max => TensorPrimitives.Max(row),
                    ReduceOp.Min => TensorPrimitives.Min(row),
                    ReduceOp.Prod => TensorPrimitives.Product(row),
                    _ => throw new ArgumentOutOfRangeException(nameof(op)),
                };
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var acc = y.Slice(o * inner, inner);
            var block = x.Slice(o * axis * inner, axis * inner);
            block[..inner].CopyTo(acc);
            for (int a = 1; a < axis; a++)
            {
                var row = block.Slice(a * inner, inner);
                switch (op)
                {
                    case ReduceOp.Sum or ReduceOp.Mean: TensorPrimitives.Add(acc, row, acc); break;
                    case ReduceOp.Max: TensorPrimitives.Max(acc, row, acc); break;
                    case ReduceOp.Min: TensorPrimitives.Min(acc, row, acc); break;
                    case ReduceOp.Prod: TensorPrimitives.Multiply(acc, row, acc); break;
                    default: throw new ArgumentOutOfRangeException(nameof(op));
                }
            }
            if (op == ReduceOp.Mean) TensorPrimitives.Divide(acc, axis, acc);
        }
    }

    /// <summary>The result of reducing nothing: 0 for Sum, 1 for Prod, −∞ for Max, +∞ for Min, NaN for Mean (0/0).</summary>
    public static float Identity(ReduceOp op) => op switch
    {
        ReduceOp.Sum => 0f,
        ReduceOp.Prod => 1f,
        ReduceOp.Max => float.NegativeInfinity,
        ReduceOp.Min => float.PositiveInfinity,
        _ => float.NaN,
    };

    /// <summary>The scalar reference: one element at a time, in double.</summary>
    internal static void Run_F32_Scalar(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = Identity(op) is var id && op == ReduceOp.Mean ? 0 : id;
                for (int a = 0; a < axis; a++)
                {
                    double v = x[(o * axis + a) * inner + i];
                    acc = op switch
                    {
                        ReduceOp.Sum or ReduceOp.Mean => acc + v,
                        ReduceOp.Max => double.IsNaN(v) || v > acc ? v : acc,
                        ReduceOp.Min => double.IsNaN(v) || v < acc ? v : acc,
                        _ => acc * v,
                    };
                }
                y[o * inner + i] = (float)(op == ReduceOp.Mean ? acc / axis : acc);
            }
    }
}
