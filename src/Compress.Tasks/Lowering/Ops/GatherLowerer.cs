using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Gather (https://onnx.ai/onnx/operators/onnx__Gather.html) of run-time data with constant indices, along any
/// axis: output[outer, indices…, inner] = data[outer, index, inner], one <c>GatherF32.Axis</c> call. Gathers of
/// constant data (shape arithmetic, embedding rows of a constant input) are folded before lowering.
/// </summary>
internal sealed class GatherLowerer : IOpLowerer
{
    public string OpType => "Gather";

    public IReadOnlyList<string> Calls => [PlanCalls.GatherAxis, PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "indices")];

    public string Notes => "constant indices (negative allowed), any axis; data from the run time";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        if (dims.Length == 0) throw ctx.Unsupported(node, "its data is a scalar");
        long axisAttr = node.GetInt("axis", 0);
        long axis = axisAttr < 0 ? axisAttr + dims.Length : axisAttr;
        if (axis < 0 || axis >= dims.Length) throw ctx.Unsupported(node, $"axis {axisAttr} is outside rank {dims.Length}");
        long size = dims[axis];
        var indices = (SliceLowerer.Ints(node, ctx, 1) ?? throw ctx.Unsupported(node, "the indices input is missing")).Select(i =>
        {
            long index = i < 0 ? i + size : i;
            return index >= 0 && index < size ? LoweringContext.ToInt(index)
                : throw ctx.Unsupported(node, $"index {i} is out of range for axis {axis} of size {size}");
        }).ToArray();
        AxisGather.Emit(node, ctx, x, y, dims, [new((int)axis, indices)], 0f);
    }
}
