using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX element-wise unary math (Abs, Neg, Reciprocal, Floor, Ceil, Sqrt, Exp, Log, Erf, Gelu; opset 13/20 semantics).
/// TensorPrimitives already has vectorised bodies for every ISA for all but Erf and Gelu (<see cref="ErfF32"/>,
/// <see cref="GeluF32"/>).
/// </summary>
public static class UnaryF32
{
    /// <summary>y = op(x); <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        y = y[..x.Length];
        switch (op)
        {
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(x, y); break;
            case UnaryOp.Floor: TensorPrimitives.Floor(x, y); break;
            case UnaryOp.Ceil: TensorPrimitives.Ceiling(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Erf: ErfF32.Run(x, y); break;
            case UnaryOp.Gelu: GeluF32.Exact(x, y); break;
            case UnaryOp.GeluTanh: GeluF32.Tanh(x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary>The reference: op(x) for one value, with the MathF functions (and <see cref="ErfF32.Scalar"/>).</summary>
    internal static float Scalar(UnaryOp op, float x) => op switch
    {
        UnaryOp.Abs => MathF.Abs(x),
        UnaryOp.Neg => -x,
        UnaryOp.Reciprocal => 1f / x,
        UnaryOp.Floor => MathF.Floor(x),
        UnaryOp.Ceil => MathF.Ceiling(x),
        UnaryOp.Sqrt => MathF.Sqrt(x),
        UnaryOp.Exp => MathF.Exp(x),
        UnaryOp.Log => MathF.Log(x),
        UnaryOp.Erf => ErfF32.Scalar(x),
        UnaryOp.Gelu => GeluF32.ExactScalar(x),
        UnaryOp.GeluTanh => GeluF32.TanhScalar(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}
