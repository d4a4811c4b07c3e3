namespace Compress.Runtime;

/// <summary>An element-wise activation that a kernel can fuse into its epilogue (ONNX Relu, LeakyRelu, Clip, Sigmoid,
/// HardSigmoid, HardSwish, Tanh).</summary>
public enum ActivationKind
{
    /// <summary>y = x.</summary>
    None,
    /// <summary>y = max(x, 0).</summary>
    Relu,
    /// <summary>y = x &lt; 0 ? Alpha·x : x.</summary>
    LeakyRelu,
    /// <summary>y = min(max(x, Alpha), Beta).</summary>
    Clip,
    /// <summary>y = 1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>y = max(0, min(1, Alpha·x + Beta)).</summary>
    HardSigmoid,
    /// <summary>y = x·max(0, min(1, x/6 + 1/2)).</summary>
    HardSwish,
    /// <summary>y = tanh(x).</summary>
    Tanh,
}
