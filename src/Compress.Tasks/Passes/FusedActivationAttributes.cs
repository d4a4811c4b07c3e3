using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

/// <summary>
/// The attributes <see cref="FuseActivation"/> puts on a producer node (Conv, Gemm, MatMul, Add, Sub, Mul, Div,
/// BatchNormalization) whose activation it absorbed. The lowering reads them to pick the kernel epilogue; the ONNX
/// writer turns them back into a separate activation node.
/// </summary>
public static class FusedActivationAttributes
{
    /// <summary>String: the ONNX op type of the fused activation (Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh).</summary>
    public const string Activation = "compress.activation";

    /// <summary>Float: LeakyRelu alpha, Clip min, HardSigmoid alpha; 0 for the others.</summary>
    public const string Alpha = "compress.activation_alpha";

    /// <summary>Float: Clip max, HardSigmoid beta; 0 for the others.</summary>
    public const string Beta = "compress.activation_beta";

    /// <summary>The op types that can be fused, each a kernel epilogue of Compress.Runtime's <c>FusedActivation</c>.</summary>
    public static IReadOnlySet<string> Fusable { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    };

    /// <summary>The fused activation of <paramref name="node"/>: (op type, alpha, beta), or null when it has none.</summary>
    public static (string OpType, float Alpha, float Beta)? Read(Node node) =>
        node.Attributes.TryGetValue(Activation, out var a) && a.String is { Length: > 0 } op
            ? (op, node.GetFloat(Alpha, 0f), node.GetFloat(Beta, 0f))
            : null;

    /// <summary>Whether <paramref name="node"/> carries a fused activation.</summary>
    public static bool Has(Node node) => node.Attributes.ContainsKey(Activation);

    /// <summary>The node with the three attributes set.</summary>
    public static Node Set(Node node, string opType, float alpha, float beta) => node
        .WithAttribute(Activation, AttributeValue.Of(opType))
        .WithAttribute(Alpha, AttributeValue.Of(alpha))
        .WithAttribute(Beta, AttributeValue.Of(beta));

    /// <summary>The node without the three attributes.</summary>
    public static Node Clear(Node node) => node with { Attributes = node.Attributes.RemoveRange([Activation, Alpha, Beta]) };
}
