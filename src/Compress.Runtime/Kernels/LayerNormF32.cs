using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX LayerNormalization (opset 17, https://onnx.ai/onnx/operators/onnx__LayerNormalization.html; Ba, Kiros &amp;
/// Hinton 2016): per row of n, y = (x − mean) / √(var + ε) · scale + bias, var the biased (population) variance.
/// </summary>
public static class LayerNormF32
{
    /// <summary>
    /// Normalises <paramref name="rows"/> rows of <paramref name="n"/> floats. <paramref name="scale"/> has n values;
    /// an empty <paramref name="bias"/> means none. Two passes per row, each a vectorised TensorPrimitives call chain
    /// (sum; subtract; sum of squares; scale; multiply-add). x and y may be the same memory.
    /// </summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int rows, int n, float epsilon) =>
        Run(x, scale, bias, y, default, default, rows, n, epsilon);

    /// <summary>
    /// As <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float)"/>,
    /// also writing the optional outputs Mean and InvStdDev (one value per row, 1/√(var + ε)); an empty span is not written.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> mean, Span<float> invStdDev, int rows, int n, float epsilon)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(n, nameof(n));
        Guard.AtLeast(x.Length, (long)rows * n, nameof(x));
        Guard.AtLeast(y.Length, (long)rows * n, nameof(y));
        Guard.AtLeast(scale.Length, n, nameof(scale));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.Optional(mean.Length, rows, nameof(mean));
        Guard.Optional(invStdDev.Length, rows, nameof(invStdDev));
        if (n == 0) return;
        scale = scale[..n];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * n, n);
            var yr = y.Slice(r * n, n);
            float rowMean = TensorPrimitives.Sum(xr) / n;
            TensorPrimitives.Subtract(xr, rowMean, yr);
            float variance = TensorPrimitives.SumOfSquares(yr) / n;
            float inverse = 1f / MathF.Sqrt(variance + epsilon);
            if (!mean.IsEmpty) mean[r] = rowMean;
            if (!invStdDev.IsEmpty) invStdDev[r] = inverse;
            TensorPrimitives.Multiply(yr, inverse, yr);
            if (bias.IsEmpty) TensorPrimitives.Multiply(yr, scale, yr);
            else TensorPrimitives.FusedMultiplyAdd(yr, scale, bias[..n], yr);
        }
    }

    /// <summary>The scalar reference, in double; Mean and InvStdDev written where not empty.</summary>
    internal static void Run_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int rows, int n, float epsilon) =>
        Run_F32_Scalar(x, scale, bias, y, default, default, rows, n, epsilon);

    /// <inheritdoc cref="Run_F32_Scalar(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float)"/>
    internal static void Run_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> meanOut, Span<float> invStdDevOut, int rows, int n, float epsilon)
    {
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < n; i++) mean += x[r * n + i];
            mean /= n;
            for (int i = 0; i < n; i++) variance += (x[r * n + i] - mean) * (x[r * n + i] - mean);
            variance /= n;
            double inverse = 1 / Math.Sqrt(variance + epsilon);
            if (!meanOut.IsEmpty) meanOut[r] = (float)mean;
            if (!invStdDevOut.IsEmpty) invStdDevOut[r] = (float)inverse;
            for (int i = 0; i < n; i++)
                y[r * n + i] = (float)((x[r * n + i] - mean) * inverse * scale[i] + (bias.IsEmpty ? 0 : bias[i]));
        }
    }
}
