namespace Compress.Runtime;

/// <summary>An element-wise binary operator (ONNX Add, Sub, Mul, Div, Max, Min, Pow).</summary>
public enum BinaryOp
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a - b.</summary>
    Sub,
    /// <summary>a · b.</summary>
    Mul,
    /// <summary>a / b.</summary>
    Div,
    /// <summary>max(a, b).</summary>
    Max,
    /// <summary>min(a, b).</summary>
    Min,
    /// <summary>a^b (<see cref="MathF.Pow"/>: a negative base needs an integer exponent, else NaN).</summary>
    Pow,
}
