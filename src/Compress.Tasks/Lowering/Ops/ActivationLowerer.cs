using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// A standalone element-wise activation (Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh) that the
/// canonical pipeline did not fuse into its producer. Runs in place when the input dies here
/// (<c>ActivationF32.Apply</c> allows x and y to be the same memory). One class serves the seven ops.
/// </summary>
internal sealed class ActivationLowerer(string opType) : IOpLowerer
{
    readonly ActivationKind _kind = Activations.ByOpType[opType];

    public string OpType => opType;

    public IReadOnlyList<string> Calls => [PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => _kind == ActivationKind.Clip ? [new(1, "min"), new(2, "max")] : [];

    public string Notes => _kind == ActivationKind.Clip
        ? "min/max as attributes (opset < 11) or constant inputs; usually fused into the producer"
        : "usually fused into the producer; in place when possible";

    public void Lower(Node node, LoweringContext ctx)
    {
        var act = Read(node, ctx);
        string x = node.Input(0), y = node.Output0;
        bool inPlace = ctx.TryInPlace(x, y);
        ctx.Emit(node, PlanCalls.Activation, Activations.Describe(act) + (inPlace ? " (in place)" : ""),
            ctx.Read(x), ctx.Write(y), LoweringContext.Activation(act));
    }

    FusedActivation Read(Node node, LoweringContext ctx)
    {
        var (alpha, beta) = Activations.Defaults(_kind);
        switch (_kind)
        {
            case ActivationKind.LeakyRelu:
                alpha = node.GetFloat("alpha", alpha);
                break;
            case ActivationKind.HardSigmoid:
                alpha = node.GetFloat("alpha", alpha);
                beta = node.GetFloat("beta", beta);
                break;
            case ActivationKind.Clip:
                // Opset < 11: attributes; opset ≥ 11: optional constant inputs.
                alpha = node.GetFloat("min", alpha);
                beta = node.GetFloat("max", beta);
                if (node.HasInput(1)) alpha = Scalar(node, ctx, 1, "min");
                if (node.HasInput(2)) beta = Scalar(node, ctx, 2, "max");
                break;
        }
        return new FusedActivation(_kind, alpha, beta);
    }

    static float Scalar(Node node, LoweringContext ctx, int input, string role)
    {
        float[] v = ctx.ConstantFloats(node, input, role);
        return v.Length == 1 ? v[0] : throw ctx.Unsupported(node, $"{role} must be a scalar, it has {v.Length} values");
    }
}
