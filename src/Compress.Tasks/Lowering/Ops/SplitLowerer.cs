using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Split (https://onnx.ai/onnx/operators/onnx__Split.html; sizes as attribute before opset 13, constant input
/// from 13, num_outputs from 18): each output is one strided row copy out of its slice of the input ([outer, axis,
/// inner] view), the inverse of Concat.
/// </summary>
internal sealed class SplitLowerer : IOpLowerer
{
    public string OpType => "Split";

    public IReadOnlyList<string> Calls => [PlanCalls.CopyRows];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "split")];

    public string Notes => "any axis; split sizes as attribute (opset < 13) or constant input, equal parts, or num_outputs (opset 18)";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0);
        long[] dims = ctx.Dims(x);
        long axisAttr = node.GetInt("axis", 0);
        long axis = axisAttr < 0 ? axisAttr + dims.Length : axisAttr;
        if (axis < 0 || axis >= dims.Length) throw ctx.Unsupported(node, $"axis {axisAttr} is outside rank {dims.Length}");
        int ax = (int)axis;
        long[] sizes = new OpForms(node, ctx.Opset, i => SliceLowerer.Ints(node, ctx, i)).Split(dims[ax], node.Outputs.Length, m => ctx.Unsupported(node, m));
        long outer = dims[..ax].Aggregate(1L, (p, d) => p * d), inner = dims[(ax + 1)..].Aggregate(1L, (p, d) => p * d);
        long at = 0;
        for (int o = 0; o < node.Outputs.Length; o++)
        {
            string y = node.Outputs[o];
            long row = sizes[o] * inner;
            if (y.Length > 0 && row > 0 && outer > 0)
            {
                long srcStride = dims[ax] * inner;
                ctx.Emit(node, PlanCalls.CopyRows, $"Split output {o}: [{at}, {at + sizes[o]}) of axis {ax}",
                    ctx.Read(x, LoweringContext.ToInt(at * inner), LoweringContext.ToInt((outer - 1) * srcStride + row)), ctx.Write(y),
                    PlanArg.Int(LoweringContext.ToInt(outer)), PlanArg.Int(LoweringContext.ToInt(row)),
                    PlanArg.Int(LoweringContext.ToInt(srcStride)), PlanArg.Int(LoweringContext.ToInt(row)));
            }
            at += sizes[o];
        }
    }
}
