using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Resize, linear mode (https://onnx.ai/onnx/operators/onnx__Resize.html): separable, one axis at a time, each
/// output position a blend of two input positions whose indices and weights the build computes from the coordinate
/// transformation. (Nearest mode is an index table: <see cref="GatherF32.Axis"/>.)
/// </summary>
public static class ResizeF32
{
    /// <summary>
    /// y[o, j, i] = x[o, first[j], i] + weight[j]·(x[o, second[j], i] − x[o, first[j], i]) for x viewed as [outer, axis,
    /// inner] and y as [outer, first.Length, inner]. Along inner the rows blend with a vectorised Lerp; over the last
    /// axis (inner = 1) one element at a time. x and y must not overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void LinearAxis(ReadOnlySpan<float> x, ReadOnlySpan<int> first, ReadOnlySpan<int> second, ReadOnlySpan<float> weight,
        Span<float> y, int outer, int axis, int inner)
    {
        Guard.NonNegative(outer, nameof(outer));
        Guard.NonNegative(axis, nameof(axis));
        Guard.NonNegative(inner, nameof(inner));
        int count = first.Length;
        Guard.AtLeast(second.Length, count, nameof(second));
        Guard.AtLeast(weight.Length, count, nameof(weight));
        Guard.AtLeast(x.Length, (long)outer * axis * inner, nameof(x));
        Guard.AtLeast(y.Length, (long)outer * count * inner, nameof(y));
        for (int j = 0; j < count; j++)
            if ((uint)first[j] >= (uint)axis || (uint)second[j] >= (uint)axis)
                throw new ArgumentOutOfRangeException(nameof(first), $"Position {j} reads {first[j]} and {second[j]}, outside an axis of {axis}.");
        if (outer == 0 || inner == 0 || count == 0) return;
        for (int o = 0; o < outer; o++)
        {
            var src = x.Slice(o * axis * inner, axis * inner);
            var dst = y.Slice(o * count * inner, count * inner);
            if (inner == 1)
            {
                for (int j = 0; j < count; j++)
                {
                    float a = src[first[j]];
                    dst[j] = a + weight[j] * (src[second[j]] - a);
                }
                continue;
            }
            for (int j = 0; j < count; j++)
            {
                var row = dst.Slice(j * inner, inner);
                var a = src.Slice(first[j] * inner, inner);
                if (weight[j] == 0f || first[j] == second[j]) a.CopyTo(row);
                else TensorPrimitives.Lerp(a, src.Slice(second[j] * inner, inner), weight[j], row);
            }
        }
    }

    /// <summary>The scalar reference.</summary>
    internal static void LinearAxis_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<int> first, ReadOnlySpan<int> second, ReadOnlySpan<float> weight,
        Span<float> y, int outer, int axis, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < first.Length; j++)
                for (int i = 0; i < inner; i++)
                {
                    double a = x[(o * axis + first[j]) * inner + i], b = x[(o * axis + second[j]) * inner + i];
                    y[(o * first.Length + j) * inner + i] = (float)(a + weight[j] * (b - a));
                }
    }
}
