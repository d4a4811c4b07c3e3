namespace Compress.Runtime;

/// <summary>An element-wise unary math op (ONNX Abs, Neg, Reciprocal, Floor, Ceil, Sqrt, Exp, Log, Erf, Gelu).</summary>
public enum UnaryOp
{
    /// <summary>|x|.</summary>
    Abs,
    /// <summary>−x.</summary>
    Neg,
    /// <summary>1 / x.</summary>
    Reciprocal,
    /// <summary>⌊x⌋.</summary>
    Floor,
    /// <summary>⌈x⌉.</summary>
    Ceil,
    /// <summary>√x (NaN for x &lt; 0).</summary>
    Sqrt,
    /// <summary>eˣ.</summary>
    Exp,
    /// <summary>ln x (NaN for x &lt; 0, −∞ at 0).</summary>
    Log,
    /// <summary>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.</summary>
    Erf,
    /// <summary>Gelu, approximate="none": x·½(1 + erf(x/√2)).</summary>
    Gelu,
    /// <summary>Gelu, approximate="tanh": x·½(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    GeluTanh,
}
