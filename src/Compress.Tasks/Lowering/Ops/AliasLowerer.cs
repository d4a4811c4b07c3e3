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

    public string Notes => opType == "Dropout" ? "inference only (the identity); the mask output unused" : "no kernel: the output aliases the input (a copy only where a graph output would alias an input or another output)";

    public void Lower(Node node, LoweringContext ctx)
    {
        ctx.RequireOnlyFirstOutput(node);
        AliasWithActivation(node, ctx, node.Output0, node.Input(0));
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
