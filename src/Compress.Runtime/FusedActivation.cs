namespace Compress.Runtime;

/// <summary>
/// An activation applied to a kernel's output before it is stored: LeakyRelu x&lt;0 ? Alpha·x : x;
/// Clip min(max(x, Alpha), Beta); HardSigmoid max(0, min(1, Alpha·x + Beta)); HardSwish x·max(0, min(1, x/6 + 1/2));
/// Sigmoid 1/(1+e^-x); Tanh; Relu max(x, 0).
/// </summary>
/// <param name="Kind">Which function.</param>
/// <param name="Alpha">LeakyRelu slope, Clip minimum, HardSigmoid slope; unused otherwise.</param>
/// <param name="Beta">Clip maximum, HardSigmoid offset; unused otherwise.</param>
public readonly record struct FusedActivation(ActivationKind Kind, float Alpha, float Beta)
{
    /// <summary>No activation (the identity).</summary>
    public static FusedActivation None => default;

    /// <summary>max(x, 0).</summary>
    public static FusedActivation Relu => new(ActivationKind.Relu, 0f, 0f);
}
