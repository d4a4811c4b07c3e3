using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Gelu (opset 20; Hendrycks &amp; Gimpel 2016, "Gaussian Error Linear Units"): approximate="none" is
/// x·½(1 + erf(x/√2)) with <see cref="ErfF32"/>; approximate="tanh" is x·½(1 + tanh(√(2/π)·(x + 0.044715·x³))).
/// </summary>
public static class GeluF32
{
    const float InvSqrt2 = 0.70710678118654752f;
    const float SqrtTwoOverPi = 0.79788456080286536f;
    const float Cubic = 0.044715f;

    /// <summary>Chunk of the tanh form's scratch: the tanh argument is computed into a stack buffer, then TensorPrimitives.Tanh.</summary>
    const int Chunk = 256;

    /// <summary>y = x·½(1 + erf(x/√2)); <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Exact(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        if (x.IsEmpty) return;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref xs, (nuint)i);
                (v * Vector512.Create(0.5f) * (Vector512<float>.One + ErfF32.Erf(v * InvSqrt2))).StoreUnsafe(ref ys, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref xs, (nuint)i);
                (v * Vector256.Create(0.5f) * (Vector256<float>.One + ErfF32.Erf(v * InvSqrt2))).StoreUnsafe(ref ys, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref xs, (nuint)i);
                (v * Vector128.Create(0.5f) * (Vector128<float>.One + ErfF32.Erf(v * InvSqrt2))).StoreUnsafe(ref ys, (nuint)i);
            }
        for (; i < n; i++) Unsafe.Add(ref ys, i) = ExactScalar(Unsafe.Add(ref xs, i));
    }

    /// <summary>y = x·½(1 + tanh(√(2/π)·(x + 0.044715·x³))); <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        Span<float> t = stackalloc float[Chunk];
        for (int start = 0; start < x.Length; start += Chunk)
        {
            var xc = x.Slice(start, Math.Min(Chunk, x.Length - start));
            var tc = t[..xc.Length];
            // t = √(2/π)·(x + 0.044715·x³) = √(2/π)·x·(1 + 0.044715·x²), then tanh(t), then y = ½x(1 + t).
            TensorPrimitives.Multiply(xc, xc, tc);
            TensorPrimitives.Multiply(tc, Cubic * SqrtTwoOverPi, tc);
            TensorPrimitives.Add(tc, SqrtTwoOverPi, tc);
            TensorPrimitives.Multiply(tc, xc, tc);
            TensorPrimitives.Tanh(tc, tc);
            TensorPrimitives.Add(tc, 1f, tc);
            TensorPrimitives.Multiply(tc, xc, tc);
            TensorPrimitives.Multiply(tc, 0.5f, y.Slice(start, xc.Length));
        }
    }

    /// <summary>The reference for <see cref="Exact"/> on one value.</summary>
    internal static float ExactScalar(float x) => 0.5f * x * (1f + ErfF32.Scalar(x * InvSqrt2));

    /// <summary>The reference for <see cref="Tanh"/> on one value, with <see cref="MathF.Tanh"/>.</summary>
    internal static float TanhScalar(float x) => 0.5f * x * (1f + MathF.Tanh(SqrtTwoOverPi * (x + Cubic * x * x * x)));
}
