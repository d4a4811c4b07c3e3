using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX Softmax (opset 13: over one axis): y = exp(x − max) / Σ exp(x − max) along the middle dim of [outer, axis, inner].</summary>
public static partial class SoftmaxF32
{
    /// <summary>Softmax over the middle dimension of x viewed as [outer, axis, inner]; x and y may be the same memory.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        Guard.NonNegative(outer, nameof(outer));
        Guard.NonNegative(axis, nameof(axis));
        Guard.NonNegative(inner, nameof(inner));
        long n = (long)outer * axis * inner;
        Guard.AtLeast(x.Length, n, nameof(x));
        Guard.AtLeast(y.Length, n, nameof(y));
        if (n == 0) return;
        if (inner == 1)
        {
            // Rows are contiguous: vectorised TensorPrimitives passes. Not TensorPrimitives.SoftMax, which takes exp(x)
            // without subtracting the row's max first and so overflows to NaN for logits above ~88 (ONNX's
            // test_softmax_large_number).
            for (int o = 0; o < outer; o++)
                Row(x.Slice(o * axis, axis), y.Slice(o * axis, axis));
            return;
        }
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < outer; o++)
        {
            ref float xo = ref Unsafe.Add(ref xr, (nint)o * axis * inner);
            ref float yo = ref Unsafe.Add(ref yr, (nint)o * axis * inner);
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + 16 <= inner; i += 16)
                    Columns_F32_16_Vector512(ref Unsafe.Add(ref xo, i), ref Unsafe.Add(ref yo, i), axis, inner);
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= inner; i += 8)
                    Columns_F32_8_Vector256(ref Unsafe.Add(ref xo, i), ref Unsafe.Add(ref yo, i), axis, inner);
            if (Vector128.IsHardwareAccelerated)
                for (; i + 4 <= inner; i += 4)
                    Columns_F32_4_Vector128(ref Unsafe.Add(ref xo, i), ref Unsafe.Add(ref yo, i), axis, inner);
            for (; i < inner; i++)
                Column_F32_Scalar(ref Unsafe.Add(ref xo, i), ref Unsafe.Add(ref yo, i), axis, inner);
        }
    }

    /// <summary>Softmax of one contiguous row: y = exp(x − max(x)), then y /= Σ y; x and y may be the same memory.</summary>
    static void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
    }

    /// <summary>Softmax down 16 adjacent columns of an [axis, inner] block (max, exp and sum, scale).</summary>
    internal static void Columns_F32_16_Vector512(ref float x, ref float y, int axis, nint inner)
    {
        var max = Vector512.LoadUnsafe(ref x);
        for (nint a = 1; a < axis; a++) max = Vector512.Max(max, Vector512.LoadUnsafe(ref x, (nuint)(a * inner)));
        var sum = Vector512<float>.Zero;
        for (nint a = 0; a < axis; a++)
        {
            var e = Vector512.Exp(Vector512.LoadUnsafe(ref x, (nuint)(a * inner)) - max);
            e.StoreUnsafe(ref y, (nuint)(a * inner));
            sum += e;
        }
        var inv = Vector512<float>.One / sum;
        for (nint a = 0; a < axis; a++) (Vector512.LoadUnsafe(ref y, (nuint)(a * inner)) * inv).StoreUnsafe(ref y, (nuint)(a * inner));
    }

    /// <summary>Softmax down 8 adjacent columns.</summary>
    internal static void Columns_F32_8_Vector256(ref float x, ref float y, int axis, nint inner)
    {
        var max = Vector256.LoadUnsafe(ref x);
        for (nint a = 1; a < axis; a++) max = Vector256.Max(max, Vector256.LoadUnsafe(ref x, (nuint)(a * inner)));
        var sum = Vector256<float>.Zero;
        for (nint a = 0; a < axis; a++)
        {
            var e = Vector256.Exp(Vector256.LoadUnsafe(ref x, (nuint)(a * inner)) - max);
            e.StoreUnsafe(ref y, (nuint)(a * inner));
            sum += e;
        }
        var inv = Vector256<float>.One / sum;
        for (nint a = 0; a < axis; a++) (Vector256.LoadUnsafe(ref y, (nuint)(a * inner)) * inv).StoreUnsafe(ref y, (nuint)(a * inner));
    }

    /// <summary>Softmax down 4 adjacent columns.</summary>
    internal static void Columns_F32_4_Vector128(ref float x, ref float y, int axis, nint inner)
    {
        var max = Vector128.LoadUnsafe(ref x);
        for (nint a = 1; a < axis; a++) max = Vector128.Max(max, Vector128.LoadUnsafe(ref x, (nuint)(a * inner)));
        var sum = Vector128<float>.Zero;
        for (nint a = 0; a < axis; a++)
        {
            var e = Vector128.Exp(Vector128.LoadUnsafe(ref x, (nuint)(a * inner)) - max);
            e.StoreUnsafe(ref y, (nuint)(a * inner));
            sum += e;
        }
        var inv = Vector128<float>.One / sum;
        for (nint a = 0; a < axis; a++) (Vector128.LoadUnsafe(ref y, (nuint)(a * inner)) * inv).StoreUnsafe(ref y, (nuint)(a * inner));
    }

    /// <summary>Softmax down one column.</summary>
    internal static void Column_F32_Scalar(ref float x, ref float y, int axis, nint inner)
    {
        float max = x;
        for (nint a = 1; a < axis; a++) max = MathF.Max(max, Unsafe.Add(ref x, a * inner));
        float sum = 0f;
        for (nint a = 0; a < axis; a++)
        {
            float e = MathF.Exp(Unsafe.Add(ref x, a * inner) - max);
            Unsafe.Add(ref y, a * inner) = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (nint a = 0; a < axis; a++) Unsafe.Add(ref y, a * inner) *= inv;
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
