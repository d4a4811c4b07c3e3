using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX Softmax (opset 13: over one axis): y = exp(x − max) / Σ exp(x − max) along the middle dim of [outer, axis, inner].</summary>
public static partial class SoftmaxF32
{
    /// <summary>Softmax over the middle dimension of x viewed as [outer, axis, inner]; x and y may be the same memory.</summary>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        Guard.NonNegative(outer, nameof(outer));
        Guard.NonNegative(axis, nameof(axis));
        Guard.NonNegative(inner, nameof(inner));
        long n = (long)outer * axis * inner;
        Guard.AtLeast(x.Length, n, nameof(x));
        Guard.AtLeast(y.Length, n, nameof(y));
        Softmax_F32_Scalar(x, y, outer, axis, inner);
    }

    internal static void Softmax_F32_Scalar(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int baseIndex = o * axis * inner + i;
                float max = float.NegativeInfinity;
                for (int a = 0; a < axis; a++) max = MathF.Max(max, x[baseIndex + a * inner]);
                float sum = 0f;
                for (int a = 0; a < axis; a++)
                {
                    float e = MathF.Exp(x[baseIndex + a * inner] - max);
                    y[baseIndex + a * inner] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int a = 0; a < axis; a++) y[baseIndex + a * inner] *= inv;
            }
    }
}
