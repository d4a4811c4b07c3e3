using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// a^b as <see cref="MathF.Pow"/> (C99/IEEE pow: a negative base with a non-integer exponent is NaN; pow(x, 0) = 1).
/// </summary>
/// <remarks>
/// The vector forms call <see cref="MathF.Pow"/> per lane, as TensorPrimitives.Pow does (its operator is not
/// vectorisable either): exp(b·ln a) in vector registers would lose up to |b·ln a|·2⁻²⁴ relative accuracy and need
/// every sign and special case rebuilt. The lowering turns the common Pow(x, 2) into a Mul.
/// </remarks>
internal readonly struct PowOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => MathF.Pow(a, b);

    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b)
    {
        Unsafe.SkipInit(out Vector128<float> y);
        for (int i = 0; i < Vector128<float>.Count; i++) y = y.WithElement(i, MathF.Pow(a.GetElement(i), b.GetElement(i)));
        return y;
    }

    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) =>
        Vector256.Create(Invoke(a.GetLower(), b.GetLower()), Invoke(a.GetUpper(), b.GetUpper()));

    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) =>
        Vector512.Create(Invoke(a.GetLower(), b.GetLower()), Invoke(a.GetUpper(), b.GetUpper()));
}
