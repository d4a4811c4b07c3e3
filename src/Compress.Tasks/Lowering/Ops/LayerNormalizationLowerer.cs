using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX LayerNormalization (opset 17, https://onnx.ai/onnx/operators/onnx__LayerNormalization.html): rows are the
/// dims before <c>axis</c>, each normalised over the dims from <c>axis</c> on; Scale and B (constant) are broadcast
/// to those dims at build time. In place when the input is not read again. The optional outputs Mean and InvStdDev
/// (shape: the input's with the normalised dims set to 1, one value per row) are written when used.
/// </summary>
internal sealed class LayerNormalizationLowerer : IOpLowerer
{
    public string OpType => "LayerNormalization";

    public IReadOnlyList<string> Calls => [PlanCalls.LayerNorm];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "Scale"), new(2, "B")];

    public string Notes => "any axis; epsilon; Scale and B constant (broadcast to the normalised dims); optional Mean and InvStdDev outputs (float, stash_type 1)";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        long axisAttr = node.GetInt("axis", -1);
        long axis = axisAttr < 0 ? axisAttr + dims.Length : axisAttr;
        if (axis < 0 || axis >= dims.Length) throw ctx.Unsupported(node, $"axis {axisAttr} is outside rank {dims.Length}");
        long[] normalised = dims[(int)axis..];
        int rows = LoweringContext.ToInt(dims[..(int)axis].Aggregate(1L, (p, d) => p * d));
        int n = LoweringContext.ToInt(normalised.Aggregate(1L, (p, d) => p * d));
        float[] scale = Broadcast(node, ctx, 1, "Scale", normalised);
        float[] bias = node.HasInput(2) ? Broadcast(node, ctx, 2, "B", normalised) : [];
        float epsilon = node.GetFloat("epsilon", 1e-5f);
        if (node.GetInt("stash_type", 1) != 1) throw ctx.Unsupported(node, $"stash_type {node.GetInt("stash_type", 1)}: the statistics are computed in float (stash_type 1)");
        bool inPlace = ctx.TryInPlace(x, y);
        string comment = $"LayerNormalization {rows}×[{n}]" + (inPlace ? " (in place)" : "");
        string? mean = node.Outputs.Length > 1 && ctx.IsUsed(node.Outputs[1]) ? node.Outputs[1] : null;
        string? invStdDev = node.Outputs.Length > 2 && ctx.IsUsed(node.Outputs[2]) ? node.Outputs[2] : null;
        if (mean is null && invStdDev is null)
        {
            ctx.Emit(node, PlanCalls.LayerNorm, comment,
                ctx.Read(x), ctx.Weights(scale), ctx.Weights(bias), ctx.Write(y), PlanArg.Int(rows), PlanArg.Int(n), PlanArg.Float(epsilon));
            return;
        }
        ctx.Emit(node, PlanCalls.LayerNorm, comment + (mean is null ? "" : ", Mean") + (invStdDev is null ? "" : ", InvStdDev"),
            ctx.Read(x), ctx.Weights(scale), ctx.Weights(bias), ctx.Write(y),
            mean is null ? PlanArg.Empty : ctx.Write(mean), invStdDev is null ? PlanArg.Empty : ctx.Write(invStdDev),
            PlanArg.Int(rows), PlanArg.Int(n), PlanArg.Float(epsilon));
    }

    static float[] Broadcast(Node node, LoweringContext ctx, int input, string role, long[] normalised)
    {
        float[] values = ctx.ConstantFloats(node, input, role);
        long[] dims = ctx.Dims(node.Input(input));
        if (dims.Length > normalised.Length) throw ctx.Unsupported(node, $"{role} {LoweringContext.Format(dims)} has more dims than the normalised {LoweringContext.Format(normalised)}");
        return TensorData.BroadcastIndices(dims, normalised).Select(i => values[i]).ToArray();
    }
}
