using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Slice (https://onnx.ai/onnx/operators/onnx__Slice.html; opset 1 attributes, opset ≥ 10 constant inputs):
/// one index table per sliced axis (start + k·step, any sign of step), run by <c>GatherF32.Axis</c>.
/// </summary>
internal sealed class SliceLowerer : IOpLowerer
{
    public string OpType => "Slice";

    public IReadOnlyList<string> Calls => [PlanCalls.GatherAxis, PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "starts"), new(2, "ends"), new(3, "axes"), new(4, "steps")];

    public string Notes => "starts/ends/axes/steps as attributes (opset < 10) or constant inputs; negative steps; one gather per sliced axis";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        var ranges = new OpForms(node, ctx.Opset, i => Ints(node, ctx, i)).Slice(dims, m => ctx.Unsupported(node, m));
        var passes = new List<AxisGather.Pass>();
        for (int d = 0; d < dims.Length; d++)
        {
            var (start, count, step) = ranges[d];
            if (start == 0 && step == 1 && count == dims[d]) continue;
            passes.Add(new(d, Enumerable.Range(0, LoweringContext.ToInt(count)).Select(k => LoweringContext.ToInt(start + k * step)).ToArray()));
        }
        AxisGather.Emit(node, ctx, x, y, dims, passes, 0f);
    }

    /// <summary>Constant integer input <paramref name="i"/> of <paramref name="node"/>, null when omitted.</summary>
    internal static long[]? Ints(Node node, LoweringContext ctx, int i)
    {
        if (!node.HasInput(i)) return null;
        var t = ctx.Constant(node.Input(i)) ?? throw ctx.Unsupported(node, $"its input {i} ('{node.Input(i)}') is computed at run time; it must be a constant");
        if (!TensorData.IsInteger(t.Type)) throw ctx.Unsupported(node, $"its input {i} ('{node.Input(i)}') is {t.Type}, not an integer tensor");
        return TensorData.ToInt64s(t);
    }
}
