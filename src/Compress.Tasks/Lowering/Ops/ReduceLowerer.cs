using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX ReduceSum/Mean/Max/Min/Prod (https://onnx.ai/onnx/operators/onnx__ReduceMean.html; axes as attribute
/// before opset 18 — 13 for ReduceSum — or constant input after; keepdims; noop_with_empty_axes). Adjacent reduced
/// axes merge into one [outer, axis, inner] reduction; separate runs are reduced one after another, innermost first,
/// through arena scratch (a mean of equal-sized means is the mean). keepdims only relabels the output.
/// </summary>
internal sealed class ReduceLowerer(string opType, ReduceOp op) : IOpLowerer
{
    public string OpType => opType;

    public IReadOnlyList<string> Calls => [PlanCalls.Reduce, PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "axes")];

    public string Notes => "axes as attribute or constant input (by opset), keepdims, noop_with_empty_axes; adjacent axes in one pass";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        int[] axes = new OpForms(node, ctx.Opset, i => SliceLowerer.Ints(node, ctx, i)).ReducedAxes(dims.Length, m => ctx.Unsupported(node, m));
        // Runs of adjacent reduced axes, innermost first; size-1 axes need no work.
        var runs = new List<(int First, int Last)>();
        foreach (int a in axes.Where(a => dims[a] != 1).Reverse())
        {
            if (runs.Count > 0 && runs[^1].First == a + 1) runs[^1] = (a, runs[^1].Last);
            else runs.Add((a, a));
        }
        if (runs.Count == 0)
        {
            AliasLowerer.AliasWithActivation(node, ctx, y, x);
            return;
        }
        var current = (long[])dims.Clone();
        LoweredArg source = ctx.Read(x);
        for (int r = 0; r < runs.Count; r++)
        {
            var (first, last) = runs[r];
            long outer = current[..first].Aggregate(1L, (p, d) => p * d);
            long axis = current[first..(last + 1)].Aggregate(1L, (p, d) => p * d);
            long inner = current[(last + 1)..].Aggregate(1L, (p, d) => p * d);
            for (int d = first; d <= last; d++) current[d] = 1;
            bool final = r == runs.Count - 1;
            LoweredArg target = final ? ctx.Write(y) : ctx.Scratch(LoweringContext.ToInt(outer * inner));
            ctx.Emit(node, PlanCalls.Reduce, $"{opType} axes [{first}..{last}] ({outer}×[{axis}]×{inner})",
                PlanArg.Enum(op), source, target, PlanArg.Int(LoweringContext.ToInt(outer)), PlanArg.Int(LoweringContext.ToInt(axis)), PlanArg.Int(LoweringContext.ToInt(inner)));
            source = target;
        }
    }
}
