using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX DequantizeLinear from u8 (per tensor): y = scale·(x − zeroPoint).</summary>
public static partial class DequantizeU8
{
    /// <summary>y[i] = scale·(float)(x[i] − zeroPoint) for i &lt; x.Length.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<byte> x, Span<float> y, float scale, int zeroPoint)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        ref byte xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated) i = Dequantize_U8F32_Vector512(ref xs, ref ys, n, scale, zeroPoint);
        else if (Vector256.IsHardwareAccelerated) i = Dequantize_U8F32_Vector256(ref xs, ref ys, n, scale, zeroPoint);
        else if (Vector128.IsHardwareAccelerated) i = Dequantize_U8F32_Vector128(ref xs, ref ys, n, scale, zeroPoint);
        Dequantize_U8F32_Scalar(ref Unsafe.Add(ref xs, i), ref Unsafe.Add(ref ys, i), n - i, scale, zeroPoint);
    }

    /// <summary>The reference.</summary>
    internal static void Dequantize_U8F32_Scalar(ref byte x, ref float y, int n, float scale, int zeroPoint)
    {
        for (int i = 0; i < n; i++)
            Unsafe.Add(ref y, i) = (Unsafe.Add(ref x, i) - zeroPoint) * scale;
    }

    /// <summary>16 values per step (bytes widened to s32 lanes).</summary>
    internal static int Dequantize_U8F32_Vector512(ref byte x, ref float y, int n, float scale, int zeroPoint)
    {
        var s = Vector512.Create(scale);
        var zp = Vector512.Create(zeroPoint);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var (w0, w1) = Vector256.Widen(Vector256.Create(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128<byte>.Zero));
            var v = Vector512.WidenLower(Vector512.Create(w0, w1)).AsInt32();
            (Vector512.ConvertToSingle(v - zp) * s).StoreUnsafe(ref y, (nuint)i);
        }
        return i;
    }

    /// <summary>8 values per step.</summary>
    internal static int Dequantize_U8F32_Vector256(ref byte x, ref float y, int n, float scale, int zeroPoint)
    {
        var s = Vector256.Create(scale);
        var zp = Vector256.Create(zeroPoint);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref x, i))).AsByte();
            var v = Vector256.WidenLower(Vector256.Create(Vector128.WidenLower(b), Vector128<ushort>.Zero)).AsInt32();
            (Vector256.ConvertToSingle(v - zp) * s).StoreUnsafe(ref y, (nuint)i);
        }
        return i;
    }

    /// <summary>4 values per step.</summary>
    internal static int Dequantize_U8F32_Vector128(ref byte x, ref float y, int n, float scale, int zeroPoint)
    {
        var s = Vector128.Create(scale);
        var zp = Vector128.Create(zeroPoint);
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            var b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref x, i))).AsByte();
            var v = Vector128.WidenLower(Vector128.WidenLower(b)).AsInt32();
            (Vector128.ConvertToSingle(v - zp) * s).StoreUnsafe(ref y, (nuint)i);
        }
        return i;
    }
}
