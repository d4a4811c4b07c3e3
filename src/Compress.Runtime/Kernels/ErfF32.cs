using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Erf: the error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, vectorised (TensorPrimitives has none). The rational
/// approximation of Eigen's generic_fast_erf_float (also XLA's and TVM's): x clamped to [−4, 4] (|erf| rounds to 1
/// beyond), erf(x) ≈ x·P(x²)/Q(x²) with P of degree 6 and Q of degree 4 in x². Being x times a ratio, it keeps full
/// relative accuracy near 0; the tests bound the absolute error by 1e-6 against a double-precision series.
/// </summary>
public static class ErfF32
{
    // Numerator P(x²), highest power first (coefficients of x¹³ … x¹ after the final multiply by x).
    const float P6 = -2.72614225801306e-10f, P5 = 2.77068142495902e-08f, P4 = -2.10102402082508e-06f,
        P3 = -5.69250639462346e-05f, P2 = -7.34990630326855e-04f, P1 = -2.95459980854025e-03f, P0 = -1.60960333262415e-02f;

    // Denominator Q(x²), highest power first.
    const float Q4 = -1.45660718464996e-05f, Q3 = -2.13374055278905e-04f, Q2 = -1.68282697438203e-03f,
        Q1 = -7.37332916720468e-03f, Q0 = -1.42647390514189e-02f;

    /// <summary>Where |erf(x)| rounds to 1 in float32 (erfc(4) ≈ 1.5e-8, below half an ulp of 1).</summary>
    const float Clamp = 4f;

    /// <summary>y = erf(x); <paramref name="x"/> and <paramref name="y"/> may be the same memory. NaN stays NaN, ±∞ gives ±1.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        if (x.IsEmpty) return;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) Erf_F32_Vector512(ref xs, ref ys, x.Length);
        else if (Vector256.IsHardwareAccelerated) Erf_F32_Vector256(ref xs, ref ys, x.Length);
        else if (Vector128.IsHardwareAccelerated) Erf_F32_Vector128(ref xs, ref ys, x.Length);
        else Erf_F32_Scalar(ref xs, ref ys, x.Length);
    }

    /// <summary>The reference: erf(x) for one value, the same formula in scalar arithmetic.</summary>
    internal static float Scalar(float x)
    {
        if (float.IsNaN(x)) return x;
        x = Math.Clamp(x, -Clamp, Clamp);
        float x2 = x * x;
        float p = ((((((P6 * x2 + P5) * x2 + P4) * x2 + P3) * x2 + P2) * x2 + P1) * x2 + P0) * x;
        float q = (((Q4 * x2 + Q3) * x2 + Q2) * x2 + Q1) * x2 + Q0;
        return Math.Clamp(p / q, -1f, 1f);
    }

    /// <remarks>MultiplyAddEstimate: one FMA where the CPU has it, a multiply and an add otherwise (a software-fused
    /// FusedMultiplyAdd would be slow there); both stay within the tested 1e-6.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Erf(Vector512<float> x)
    {
        // Max/Min propagate NaN (IEEE 754:2019 maximum/minimum), so NaN lanes stay NaN.
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-Clamp)), Vector512.Create(Clamp));
        var x2 = x * x;
        var p = Vector512.MultiplyAddEstimate(Vector512.Create(P6), x2, Vector512.Create(P5));
        p = Vector512.MultiplyAddEstimate(p, x2, Vector512.Create(P4));
        p = Vector512.MultiplyAddEstimate(p, x2, Vector512.Create(P3));
        p = Vector512.MultiplyAddEstimate(p, x2, Vector512.Create(P2));
        p = Vector512.MultiplyAddEstimate(p, x2, Vector512.Create(P1));
        p = Vector512.MultiplyAddEstimate(p, x2, Vector512.Create(P0)) * x;
        var q = Vector512.MultiplyAddEstimate(Vector512.Create(Q4), x2, Vector512.Create(Q3));
        q = Vector512.MultiplyAddEstimate(q, x2, Vector512.Create(Q2));
        q = Vector512.MultiplyAddEstimate(q, x2, Vector512.Create(Q1));
        q = Vector512.MultiplyAddEstimate(q, x2, Vector512.Create(Q0));
        return Vector512.Min(Vector512.Max(p / q, Vector512.Create(-1f)), Vector512<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Erf(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-Clamp)), Vector256.Create(Clamp));
        var x2 = x * x;
        var p = Vector256.MultiplyAddEstimate(Vector256.Create(P6), x2, Vector256.Create(P5));
        p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(P4));
        p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(P3));
        p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(P2));
        p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(P1));
        p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(P0)) * x;
        var q = Vector256.MultiplyAddEstimate(Vector256.Create(Q4), x2, Vector256.Create(Q3));
        q = Vector256.MultiplyAddEstimate(q, x2, Vector256.Create(Q2));
        q = Vector256.MultiplyAddEstimate(q, x2, Vector256.Create(Q1));
        q = Vector256.MultiplyAddEstimate(q, x2, Vector256.Create(Q0));
        return Vector256.Min(Vector256.Max(p / q, Vector256.Create(-1f)), Vector256<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Erf(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(-Clamp)), Vector128.Create(Clamp));
        var x2 = x * x;
        var p = Vector128.MultiplyAddEstimate(Vector128.Create(P6), x2, Vector128.Create(P5));
        p = Vector128.MultiplyAddEstimate(p, x2, Vector128.Create(P4));
        p = Vector128.MultiplyAddEstimate(p, x2, Vector128.Create(P3));
        p = Vector128.MultiplyAddEstimate(p, x2, Vector128.Create(P2));
        p = Vector128.MultiplyAddEstimate(p, x2, Vector128.Create(P1));
        p = Vector128.MultiplyAddEstimate(p, x2, Vector128.Create(P0)) * x;
        var q = Vector128.MultiplyAddEstimate(Vector128.Create(Q4), x2, Vector128.Create(Q3));
        q = Vector128.MultiplyAddEstimate(q, x2, Vector128.Create(Q2));
        q = Vector128.MultiplyAddEstimate(q, x2, Vector128.Create(Q1));
        q = Vector128.MultiplyAddEstimate(q, x2, Vector128.Create(Q0));
        return Vector128.Min(Vector128.Max(p / q, Vector128.Create(-1f)), Vector128<float>.One);
    }

    internal static void Erf_F32_Vector512(ref float x, ref float y, int n)
    {
        nint i = 0;
        for (; i <= n - 16; i += 16) Erf(Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        Erf_F32_Vector256(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - (int)i);
    }

    internal static void Erf_F32_Vector256(ref float x, ref float y, int n)
    {
        nint i = 0;
        for (; i <= n - 8; i += 8) Erf(Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        Erf_F32_Vector128(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - (int)i);
    }

    internal static void Erf_F32_Vector128(ref float x, ref float y, int n)
    {
        nint i = 0;
        for (; i <= n - 4; i += 4) Erf(Vector128.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        Erf_F32_Scalar(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - (int)i);
    }

    internal static void Erf_F32_Scalar(ref float x, ref float y, int n)
    {
        for (nint i = 0; i < n; i++) Unsafe.Add(ref y, i) = Scalar(Unsafe.Add(ref x, i));
    }
}
