using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Softmax as [outer, axis, inner]. Opset ≥ 13: over the single dim <c>axis</c> (default −1). Opset &lt; 13: the
/// input is coerced to 2-D at <c>axis</c> (default 1), so the softmax runs over all dims from <c>axis</c> on.
/// </summary>
internal sealed class SoftmaxLowerer : IOpLowerer
{
    public string OpType => "Softmax";

    public IReadOnlyList<string> Calls => [PlanCalls.Softmax];

    public string Notes => "any axis; opset < 13 coerces to 2-D at axis, opset ≥ 13 normalises one axis";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        // A model that names no opset is treated as the newest.
        bool legacy = ctx.Opset is > 0 and < 13;
        int rank = dims.Length;
        long axis = node.GetInt("axis", legacy ? 1 : -1);
        if (axis < 0) axis += rank;
        if (rank == 0 || axis < 0 || axis >= rank) throw ctx.Unsupported(node, $"axis {node.GetInt("axis", 0)} is outside rank {rank}");
        int a = (int)axis;
        long outer = dims[..a].Aggregate(1L, (p, d) => p * d);
        long n = legacy ? dims[a..].Aggregate(1L, (p, d) => p * d) : dims[a];
        long inner = legacy ? 1 : dims[(a + 1)..].Aggregate(1L, (p, d) => p * d);
        ctx.Emit(node, PlanCalls.Softmax, $"Softmax over {n}" + (outer * inner > 1 ? $" ({outer}×[{n}]×{inner})" : ""),
            ctx.Read(x), ctx.Write(y), PlanArg.Int(LoweringContext.ToInt(outer)), PlanArg.Int(LoweringContext.ToInt(n)), PlanArg.Int(LoweringContext.ToInt(inner)));
    }
}
