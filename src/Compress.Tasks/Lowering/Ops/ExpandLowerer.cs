using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Expand (https://onnx.ai/onnx/operators/onnx__Expand.html) as a strided gather: a broadcast dim reads its input
/// with stride 0 (<see cref="Permute6"/>, at most 6 dims after dropping 1s and merging). An expand that broadcasts
/// nothing is an alias.
/// </summary>
internal sealed class ExpandLowerer : IOpLowerer
{
    public string OpType => "Expand";

    public IReadOnlyList<string> Calls => [PlanCalls.Permute, PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "shape")];

    public string Notes => "constant shape; numpy broadcasting, at most 6 dims after merging";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] xDims = ctx.Dims(x), yDims = ctx.Dims(y);
        int rank = yDims.Length;
        var padded = Enumerable.Repeat(1L, rank - xDims.Length).Concat(xDims).ToArray();
        if (padded.Length != rank) throw ctx.Unsupported(node, $"the input {LoweringContext.Format(xDims)} has more dims than the output {LoweringContext.Format(yDims)}");
        var strides = new long[rank];
        for (long d = rank - 1, s = 1; d >= 0; d--)
        {
            strides[d] = padded[d] == yDims[d] ? s : padded[d] == 1 ? 0 : throw ctx.Unsupported(node, $"{LoweringContext.Format(xDims)} does not broadcast to {LoweringContext.Format(yDims)}");
            s *= padded[d];
        }
        if (padded.SequenceEqual(yDims))
        {
            AliasLowerer.AliasWithActivation(node, ctx, y, x);
            return;
        }
        // Drop size-1 output dims, then merge neighbours whose strides chain (s[i] = s[i+1]·d[i+1]; zero strides chain too).
        var kept = new List<(long Dim, long Stride)>();
        for (int d = 0; d < rank; d++)
        {
            if (yDims[d] == 1) continue;
            if (kept.Count > 0 && kept[^1].Stride == strides[d] * yDims[d]) kept[^1] = (kept[^1].Dim * yDims[d], strides[d]);
            else kept.Add((yDims[d], strides[d]));
        }
        if (kept.Count > 6) throw ctx.Unsupported(node, $"{LoweringContext.Format(xDims)} → {LoweringContext.Format(yDims)} leaves {kept.Count} dims after merging; at most 6 are supported");
        while (kept.Count < 6) kept.Insert(0, (1, 0));
        int I(long v) => LoweringContext.ToInt(v);
        var p = new Permute6(I(kept[0].Dim), I(kept[1].Dim), I(kept[2].Dim), I(kept[3].Dim), I(kept[4].Dim), I(kept[5].Dim),
            I(kept[0].Stride), I(kept[1].Stride), I(kept[2].Stride), I(kept[3].Stride), I(kept[4].Stride), I(kept[5].Stride));
        ctx.Emit(node, PlanCalls.Permute, $"Expand {LoweringContext.Format(xDims)} → {LoweringContext.Format(yDims)}", ctx.Read(x), ctx.Write(y), StructArgs.Permute(p));
    }
}
