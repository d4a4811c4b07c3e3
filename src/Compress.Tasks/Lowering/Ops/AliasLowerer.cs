using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// Ops that only relabel the dims (Flatten, Reshape, Squeeze, Unsqueeze) or pass the data through (Identity,
/// inference Dropout): no kernel, the output shares the input's storage. A copy is emitted only when sharing would
/// make a graph output alias a graph input, a constant or another output; a fused activation becomes the copy.
/// </summary>
internal sealed class AliasLowerer(string opType) : IOpLowerer
{
    public string OpType => opType;

    public IReadOnlyList<string> Calls => [PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => opType switch
    {
        "Reshape" => [new(1, "shape")],
        "Squeeze" or "Unsqueeze" => [new(1, "axes")],
        "Dropout" => [new(1, "ratio"), new(2, "training_mode")],
        _ => [],
    };

    public string Notes => opType == "Dropout" ? "inference only (the identity; training_mode must be false or ratio 0); the mask output unused" : "no kernel: the output aliases the input (a copy only where a graph output would alias an input or another output)";

    public void Lower(Node node, LoweringContext ctx)
    {
        ctx.RequireOnlyFirstOutput(node);
        if (opType == "Dropout" && IsTraining(node, ctx, out float ratio) && ratio != 0f)
            throw ctx.Unsupported(node, $"training_mode is true with ratio {ratio}: it drops random elements; only inference Dropout (the identity) is supported");
        AliasWithActivation(node, ctx, node.Output0, node.Input(0));
    }

    /// <summary>Dropout (opset 12+): whether the constant <c>training_mode</c> input is true, and the drop <paramref name="ratio"/> (default 0.5).</summary>
    static bool IsTraining(Node node, LoweringContext ctx, out float ratio)
    {
        ratio = 0.5f;
        if (!node.HasInput(2)) return false;
        var mode = ctx.Constant(node.Input(2)) ?? throw ctx.Unsupported(node,
            $"its training_mode ('{node.Input(2)}') is computed at run time; only a constant is supported there");
        if (!Graph.TensorData.ToDoubles(mode).Any(v => v != 0)) return false;
        if (node.HasInput(1))
            ratio = ctx.ConstantFloats(node, 1, "ratio") is [var r] ? r : throw ctx.Unsupported(node, "ratio must be a scalar");
        return true;
    }

    /// <summary>Aliases <paramref name="output"/> to <paramref name="input"/>, or applies the node's fused activation into it.</summary>
    internal static void AliasWithActivation(Node node, LoweringContext ctx, string output, string input)
    {
        if (Activations.ReadFused(node) is { Kind: not Runtime.ActivationKind.None })
        {
            bool inPlace = ctx.TryInPlace(input, output);
            ctx.Emit(node, PlanCalls.Activation, node.OpType + (inPlace ? " (in place)" : ""),
                ctx.Read(input), ctx.Write(output), ctx.FusedActivation(node));
            return;
        }
        ctx.AliasOrCopy(node, output, input);
    }
}
