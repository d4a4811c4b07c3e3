using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// A data movement that is one index table per axis (Slice, Pad, Gather, nearest Resize): one
/// <c>GatherF32.Axis</c> per axis, chained through arena scratch, the first reading the input and the last writing
/// the output. No tables at all is an alias.
/// </summary>
internal static class AxisGather
{
    /// <summary>One axis pass: <c>Indices[j]</c> is the input position of output position j along <c>Axis</c> (−1: the fill).</summary>
    public readonly record struct Pass(int Axis, int[] Indices);

    public static void Emit(Node node, LoweringContext ctx, string x, string y, long[] dims, IReadOnlyList<Pass> passes, float fill)
    {
        if (passes.Count == 0)
        {
            AliasLowerer.AliasWithActivation(node, ctx, y, x);
            return;
        }
        var current = (long[])dims.Clone();
        LoweredArg source = ctx.Read(x);
        for (int p = 0; p < passes.Count; p++)
        {
            var (axis, indices) = passes[p];
            long outer = current[..axis].Aggregate(1L, (a, d) => a * d), inner = current[(axis + 1)..].Aggregate(1L, (a, d) => a * d);
            long inAxis = current[axis];
            current[axis] = indices.Length;
            bool last = p == passes.Count - 1;
            LoweredArg target = last ? ctx.Write(y) : ctx.Scratch(LoweringContext.ToInt(current.Aggregate(1L, (a, d) => a * d)));
            ctx.Emit(node, PlanCalls.GatherAxis, $"{node.OpType} axis {axis}: {inAxis} → {indices.Length}" + (outer * inner > 1 ? $" ({outer}×[·]×{inner})" : ""),
                source, ctx.WeightsI32(indices), target, PlanArg.Int(LoweringContext.ToInt(outer)), PlanArg.Int(LoweringContext.ToInt(inAxis)),
                PlanArg.Int(LoweringContext.ToInt(inner)), PlanArg.Float(fill));
            source = target;
        }
    }
}
