using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Transpose as a strided gather (<see cref="Permute6"/>: size-1 dims dropped, adjacent dims merged, at most 6
/// left). A permutation that moves no data (only size-1 dims move) is an alias.
/// </summary>
internal sealed class TransposeLowerer : IOpLowerer
{
    public string OpType => "Transpose";

    public IReadOnlyList<string> Calls => [PlanCalls.Permute, PlanCalls.CopyRows, PlanCalls.Activation];

    public string Notes => "any rank with at most 6 dims after merging; data-free permutations alias";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        int[] perm = node.GetInts("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, dims.Length).Reverse().ToArray();
        Permute6 p;
        try
        {
            p = Permute6.Create(dims, perm);
        }
        catch (ArgumentException e)
        {
            throw ctx.Unsupported(node, $"perm [{string.Join(",", perm)}] of {LoweringContext.Format(dims)}: {e.Message}");
        }
        bool movesNothing = p is { D0: 1, D1: 1, D2: 1, D3: 1, D4: 1 } && (p.S5 == 1 || p.D5 <= 1);
        if (movesNothing)
        {
            AliasLowerer.AliasWithActivation(node, ctx, y, x);
            return;
        }
        ctx.Emit(node, PlanCalls.Permute, $"Transpose {LoweringContext.Format(dims)} perm [{string.Join(",", perm)}]",
            ctx.Read(x), ctx.Write(y), StructArgs.Permute(p));
    }
}
