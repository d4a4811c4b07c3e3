using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// A binary element-wise operator at every width (the TensorPrimitives operator pattern): the drivers in
/// <see cref="BinaryF32"/> are generic over it, so each operator gets its own specialised loops.
/// </summary>
internal interface IBinaryOperator
{
    static abstract float Invoke(float a, float b);
    static abstract Vector128<float> Invoke(Vector128<float> a, Vector128<float> b);
    static abstract Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
    static abstract Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
}

/// <summary>a + b.</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a + b;
    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a + b;
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a + b;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a + b;
}

/// <summary>a − b.</summary>
internal readonly struct SubtractOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a - b;
    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a - b;
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a - b;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a - b;
}

/// <summary>a · b.</summary>
internal readonly struct MultiplyOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a * b;
    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a * b;
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a * b;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a * b;
}

/// <summary>a / b.</summary>
internal readonly struct DivideOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a / b;
    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a / b;
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a / b;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a / b;
}

/// <summary>IEEE 754:2019 maximum (NaN propagates, as <see cref="MathF.Max"/>).</summary>
internal readonly struct MaxOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => MathF.Max(a, b);
    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
}

/// <summary>IEEE 754:2019 minimum (NaN propagates, as <see cref="MathF.Min"/>).</summary>
internal readonly struct MinOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => MathF.Min(a, b);
    public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
}
