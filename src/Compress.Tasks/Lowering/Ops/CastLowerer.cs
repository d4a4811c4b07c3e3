using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Cast as a float model contains it: float32 → float32 is the identity (the output aliases the input). Casts of
/// constants (shape arithmetic, integer initializers) are folded before lowering; a cast of a run-time value to or
/// from another type has no kernel (the plan holds float32 values only).
/// </summary>
internal sealed class CastLowerer : IOpLowerer
{
    public string OpType => "Cast";

    public IReadOnlyList<string> Calls => [PlanCalls.CopyRows, PlanCalls.Activation];

    public string Notes => "float32 → float32 (the identity: the output aliases the input); casts of constants fold at build time; other run-time casts are not supported";

    public void Lower(Node node, LoweringContext ctx)
    {
        var from = ctx.Constant(node.Input(0))?.Type ?? ctx.Graph.Value(node.Input(0))?.Type ?? DataType.Undefined;
        var to = (DataType)node.GetInt("to", 0);
        if (from != DataType.Float || to != DataType.Float)
            throw ctx.Unsupported(node, $"it casts {from} to {to}; at run time only float32 → float32 is supported (the plan holds float32 values)");
        AliasLowerer.AliasWithActivation(node, ctx, node.Output0, node.Input(0));
    }
}
