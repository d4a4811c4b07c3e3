using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Index-table copies along one axis: ONNX Gather with constant indices, Slice (any step), Pad (constant, edge,
/// reflect) and nearest-neighbour Resize are each one such copy per axis (https://onnx.ai/onnx/operators/).
/// </summary>
public static class GatherF32
{
    /// <summary>
    /// y[o, j, i] = x[o, indices[j], i] when indices[j] ≥ 0, else <paramref name="fill"/>, for x viewed as
    /// [outer, axis, inner] and y as [outer, indices.Length, inner]. Runs of consecutive indices (a slice, the middle
    /// of a pad) and runs of fills are each one contiguous block copy or fill, so a slice of the last axis is still
    /// a vectorised copy. x and y must not overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Axis(ReadOnlySpan<float> x, ReadOnlySpan<int> indices, Span<float> y, int outer, int axis, int inner, float fill)
    {
        Guard.NonNegative(outer, nameof(outer));
        Guard.NonNegative(axis, nameof(axis));
        Guard.NonNegative(inner, nameof(inner));
        int count = indices.Length;
        Guard.AtLeast(x.Length, (long)outer * axis * inner, nameof(x));
        Guard.AtLeast(y.Length, (long)outer * count * inner, nameof(y));
        foreach (int index in indices)
            if (index >= axis) throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} is outside an axis of {axis}.");
        if (outer == 0 || inner == 0 || count == 0) return;
        for (int o = 0; o < outer; o++)
        {
            var src = x.Slice(o * axis * inner, axis * inner);
            var dst = y.Slice(o * count * inner, count * inner);
            for (int j = 0; j < count;)
            {
                int first = indices[j], run = 1;
                if (first < 0)
                {
                    while (j + run < count && indices[j + run] < 0) run++;
                    dst.Slice(j * inner, run * inner).Fill(fill);
                }
                else
                {
                    while (j + run < count && indices[j + run] == first + run) run++;
                    src.Slice(first * inner, run * inner).CopyTo(dst.Slice(j * inner, run * inner));
                }
                j += run;
            }
        }
    }

    /// <summary>The scalar reference: one element at a time.</summary>
    internal static void Axis_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<int> indices, Span<float> y, int outer, int axis, int inner, float fill)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
                for (int i = 0; i < inner; i++)
                    y[(o * indices.Length + j) * inner + i] = indices[j] < 0 ? fill : x[(o * axis + indices[j]) * inner + i];
    }
}
