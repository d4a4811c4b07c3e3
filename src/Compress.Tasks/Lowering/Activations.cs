using System.Globalization;
using Compress.Runtime;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Lowering;

/// <summary>
/// Element-wise activations: the ONNX ops that map to <see cref="ActivationKind"/>, their default parameters, and
/// the fused form the canonical pipeline leaves on a producer node (attributes <c>compress.activation</c>,
/// <c>compress.activation_alpha</c>, <c>compress.activation_beta</c>).
/// </summary>
internal static class Activations
{
    public const string KindAttribute = Passes.FusedActivationAttributes.Activation;
    public const string AlphaAttribute = Passes.FusedActivationAttributes.Alpha;
    public const string BetaAttribute = Passes.FusedActivationAttributes.Beta;

    /// <summary>ONNX op type → kernel activation.</summary>
    public static IReadOnlyDictionary<string, ActivationKind> ByOpType { get; } = new Dictionary<string, ActivationKind>(StringComparer.Ordinal)
    {
        ["Relu"] = ActivationKind.Relu,
        ["LeakyRelu"] = ActivationKind.LeakyRelu,
        ["Clip"] = ActivationKind.Clip,
        ["Sigmoid"] = ActivationKind.Sigmoid,
        ["HardSigmoid"] = ActivationKind.HardSigmoid,
        ["HardSwish"] = ActivationKind.HardSwish,
        ["Tanh"] = ActivationKind.Tanh,
    };

    /// <summary>The ONNX defaults: LeakyRelu alpha 0.01; HardSigmoid alpha 0.2, beta 0.5; Clip the whole float range.</summary>
    public static (float Alpha, float Beta) Defaults(ActivationKind kind) => kind switch
    {
        ActivationKind.LeakyRelu => (0.01f, 0f),
        ActivationKind.HardSigmoid => (0.2f, 0.5f),
        ActivationKind.Clip => (float.MinValue, float.MaxValue),
        _ => (0f, 0f),
    };

    /// <summary>The activation fused into <paramref name="node"/>, or null.</summary>
    /// <exception cref="Diagnostics.CompressException">The attribute names an activation no kernel has.</exception>
    public static FusedActivation? ReadFused(Node node)
    {
        if (!node.Attributes.TryGetValue(KindAttribute, out var attr)) return null;
        string op = attr.String ?? "";
        if (!ByOpType.TryGetValue(op, out var kind))
            throw new Diagnostics.CompressException(Diagnostics.ErrorCodes.UnsupportedOp,
                $"Node '{node.Label}' ({node.OpType}) carries a fused activation '{op}' that no kernel supports; " +
                $"supported: {string.Join(", ", ByOpType.Keys.Order(StringComparer.Ordinal))}.");
        var (alpha, beta) = Defaults(kind);
        return new FusedActivation(kind, node.GetFloat(AlphaAttribute, alpha), node.GetFloat(BetaAttribute, beta));
    }

    /// <summary>"Relu", "LeakyRelu(0.1)", "Clip(0, 6)" — for step comments.</summary>
    public static string Describe(FusedActivation a) => a.Kind switch
    {
        ActivationKind.LeakyRelu => $"LeakyRelu({F(a.Alpha)})",
        ActivationKind.Clip => $"Clip({F(a.Alpha)}, {F(a.Beta)})",
        ActivationKind.HardSigmoid => $"HardSigmoid({F(a.Alpha)}, {F(a.Beta)})",
        _ => a.Kind.ToString(),
    };

    static string F(float v) => v == float.MinValue ? "-max" : v == float.MaxValue ? "max" : v.ToString("G6", CultureInfo.InvariantCulture);
}
