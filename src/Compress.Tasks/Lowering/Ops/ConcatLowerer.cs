using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Concat: one strided row copy per input into its slice of the output ([outer, axis, inner] view: input i
/// fills rows of length aᵢ·inner at column offset Σⱼ&lt;ᵢ aⱼ·inner). Constant inputs are read from the weights.
/// </summary>
internal sealed class ConcatLowerer : IOpLowerer
{
    public string OpType => "Concat";

    public IReadOnlyList<string> Calls => [PlanCalls.CopyRows];

    public string Notes => "any axis; constant inputs from the weights";

    public void Lower(Node node, LoweringContext ctx)
    {
        string y = node.Output0;
        long[] yDims = ctx.Dims(y);
        int rank = yDims.Length;
        long axis = node.GetInt("axis", long.MinValue);
        if (axis == long.MinValue) throw ctx.Unsupported(node, "the axis attribute is missing");
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw ctx.Unsupported(node, $"axis {node.GetInt("axis", 0)} is outside rank {rank}");
        int ax = (int)axis;
        long outer = yDims[..ax].Aggregate(1L, (p, d) => p * d), inner = yDims[(ax + 1)..].Aggregate(1L, (p, d) => p * d);
        long dstStride = yDims[ax] * inner, at = 0;
        for (int i = 0; i < node.Inputs.Length; i++)
        {
            string x = node.Inputs[i];
            if (x.Length == 0) continue;
            long[] d = ctx.Dims(x);
            if (d.Length != rank || Enumerable.Range(0, rank).Any(k => k != ax && d[k] != yDims[k]))
                throw ctx.Unsupported(node, $"input {i} {LoweringContext.Format(d)} does not fit output {LoweringContext.Format(yDims)} along axis {ax}");
            long row = d[ax] * inner;
            if (row > 0 && outer > 0)
            {
                long length = (outer - 1) * dstStride + row;
                ctx.Emit(node, PlanCalls.CopyRows, $"Concat input {i} {LoweringContext.Format(d)} at {at} of axis {ax}",
                    ctx.Read(x), ctx.Write(y, LoweringContext.ToInt(at * inner), LoweringContext.ToInt(length)),
                    PlanArg.Int(LoweringContext.ToInt(outer)), PlanArg.Int(LoweringContext.ToInt(row)),
                    PlanArg.Int(LoweringContext.ToInt(row)), PlanArg.Int(LoweringContext.ToInt(dstStride)));
            }
            at += d[ax];
        }
        if (at != yDims[ax]) throw ctx.Unsupported(node, $"the inputs add up to {at} along axis {ax}, the output has {yDims[ax]}");
    }
}
