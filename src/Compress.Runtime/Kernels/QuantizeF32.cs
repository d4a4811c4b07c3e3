using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX QuantizeLinear to u8 (per tensor): y = clamp(round_half_even(x/scale) + zeroPoint, 0, 255).</summary>
public static partial class QuantizeF32
{
    /// <summary>y[i] = clamp(round_half_even(x[i]/scale) + zeroPoint, 0, 255) for i &lt; x.Length.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<float> x, Span<byte> y, float scale, int zeroPoint)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref byte ys = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated) i = Quantize_F32U8_Vector512(ref xs, ref ys, n, scale, zeroPoint);
        else if (Vector256.IsHardwareAccelerated) i = Quantize_F32U8_Vector256(ref xs, ref ys, n, scale, zeroPoint);
        else if (Vector128.IsHardwareAccelerated) i = Quantize_F32U8_Vector128(ref xs, ref ys, n, scale, zeroPoint);
        Quantize_F32U8_Scalar(ref Unsafe.Add(ref xs, i), ref Unsafe.Add(ref ys, i), n - i, scale, zeroPoint);
    }

    /// <summary>
    /// The per-call parameters of dynamic quantisation (ONNX DynamicQuantizeLinear): the range [min(x, 0), max(x, 0)]
    /// maps onto [0, 255], scale = range/255, zeroPoint = round_half_even(−min/scale) (so 0 is exact); an all-zero x
    /// gives (1, 0).
    /// </summary>
    public static (float Scale, int ZeroPoint) ChooseParameters(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return (1f, 0);
        float min = MathF.Min(TensorPrimitives.Min(x), 0f), max = MathF.Max(TensorPrimitives.Max(x), 0f);
        float scale = (max - min) / 255f;
        if (!(scale > 0f) || !float.IsFinite(scale)) return (1f, 0);
        int zeroPoint = (int)Math.Clamp(MathF.Round(-min / scale), 0f, 255f);
        return (scale, zeroPoint);
    }

    /// <summary>The reference.</summary>
    internal static void Quantize_F32U8_Scalar(ref float x, ref byte y, int n, float scale, int zeroPoint)
    {
        for (int i = 0; i < n; i++)
            Unsafe.Add(ref y, i) = (byte)Math.Clamp(MathF.Round(Unsafe.Add(ref x, i) / scale) + zeroPoint, 0f, 255f);
    }

    /// <summary>64 values per step (4×16 lanes narrowed to one Vector512 of bytes); returns how many it did.</summary>
    internal static int Quantize_F32U8_Vector512(ref float x, ref byte y, int n, float scale, int zeroPoint)
    {
        var s = Vector512.Create(scale);
        var zp = Vector512.Create((float)zeroPoint);
        var hi = Vector512.Create(255f);
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            var a = Convert(Vector512.LoadUnsafe(ref x, (nuint)i), s, zp, hi);
            var b = Convert(Vector512.LoadUnsafe(ref x, (nuint)i + 16), s, zp, hi);
            var c = Convert(Vector512.LoadUnsafe(ref x, (nuint)i + 32), s, zp, hi);
            var d = Convert(Vector512.LoadUnsafe(ref x, (nuint)i + 48), s, zp, hi);
            Vector512.Narrow(Vector512.Narrow(a, b), Vector512.Narrow(c, d)).AsByte().StoreUnsafe(ref y, (nuint)i);
        }
        return i;

        static Vector512<int> Convert(Vector512<float> v, Vector512<float> s, Vector512<float> zp, Vector512<float> hi) =>
            Vector512.ConvertToInt32(Vector512.Min(Vector512.Max(Vector512.Round(v / s) + zp, Vector512<float>.Zero), hi));
    }

    /// <summary>32 values per step.</summary>
    internal static int Quantize_F32U8_Vector256(ref float x, ref byte y, int n, float scale, int zeroPoint)
    {
        var s = Vector256.Create(scale);
        var zp = Vector256.Create((float)zeroPoint);
        var hi = Vector256.Create(255f);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var a = Convert(Vector256.LoadUnsafe(ref x, (nuint)i), s, zp, hi);
            var b = Convert(Vector256.LoadUnsafe(ref x, (nuint)i + 8), s, zp, hi);
            var c = Convert(Vector256.LoadUnsafe(ref x, (nuint)i + 16), s, zp, hi);
            var d = Convert(Vector256.LoadUnsafe(ref x, (nuint)i + 24), s, zp, hi);
            Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, d)).AsByte().StoreUnsafe(ref y, (nuint)i);
        }
        return i;

        static Vector256<int> Convert(Vector256<float> v, Vector256<float> s, Vector256<float> zp, Vector256<float> hi) =>
            Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(v / s) + zp, Vector256<float>.Zero), hi));
    }

    /// <summary>16 values per step.</summary>
    internal static int Quantize_F32U8_Vector128(ref float x, ref byte y, int n, float scale, int zeroPoint)
    {
        var s = Vector128.Create(scale);
        var zp = Vector128.Create((float)zeroPoint);
        var hi = Vector128.Create(255f);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var a = Convert(Vector128.LoadUnsafe(ref x, (nuint)i), s, zp, hi);
            var b = Convert(Vector128.LoadUnsafe(ref x, (nuint)i + 4), s, zp, hi);
            var c = Convert(Vector128.LoadUnsafe(ref x, (nuint)i + 8), s, zp, hi);
            var d = Convert(Vector128.LoadUnsafe(ref x, (nuint)i + 12), s, zp, hi);
            Vector128.Narrow(Vector128.Narrow(a, b), Vector128.Narrow(c, d)).AsByte().StoreUnsafe(ref y, (nuint)i);
        }
        return i;

        static Vector128<int> Convert(Vector128<float> v, Vector128<float> s, Vector128<float> zp, Vector128<float> hi) =>
            Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(Vector128.Round(v / s) + zp, Vector128<float>.Zero), hi));
    }
}
