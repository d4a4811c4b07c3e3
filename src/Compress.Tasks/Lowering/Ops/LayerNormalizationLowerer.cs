using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX LayerNormalization (opset 17, https://onnx.ai/onnx/operators/onnx__LayerNormalization.html): rows are the
/// dims before <c>axis</c>, each normalised over the dims from <c>axis</c> on; Scale and B (constant) are broadcast
/// to those dims at build time. In place when the input is not read again.
/// </summary>
internal sealed class LayerNormalizationLowerer : IOpLowerer
{
    public string OpType => "LayerNormalization";

    public IReadOnlyList<string> Calls => [PlanCalls.LayerNorm];

    public string Notes => "any axis; epsilon; Scale and B constant (broadcast to the normalised dims); Mean/InvStdDev outputs unused";

    public void Lower(Node node, LoweringContext ctx)
    {
        ctx.RequireOnlyFirstOutput(node);
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
        bool inPlace = ctx.TryInPlace(x, y);
        ctx.Emit(node, PlanCalls.LayerNorm, $"LayerNormalization {rows}×[{n}]" + (inPlace ? " (in place)" : ""),
            ctx.Read(x), ctx.Weights(scale), ctx.Weights(bias), ctx.Write(y), PlanArg.Int(rows), PlanArg.Int(n), PlanArg.Float(epsilon));
    }

    static float[] Broadcast(Node node, LoweringContext ctx, int input, string role, long[] normalised)
    {
        float[] values = ctx.ConstantFloats(node, input, role);
        long[] dims = ctx.Dims(node.Input(input));
        if (dims.Length > normalised.Length) throw ctx.Unsupported(node, $"{role} {LoweringContext.Format(dims)} has more dims than the normalised {LoweringContext.Format(normalised)}");
        return TensorData.BroadcastIndices(dims, normalised).Select(i => values[i]).ToArray();
    }
}
