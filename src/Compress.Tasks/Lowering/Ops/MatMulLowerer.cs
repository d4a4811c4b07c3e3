using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX MatMul with a constant 2-D (or 1-D) B: A's leading dims are flattened into the row count m, so
/// [N, T, K]·[K, N'] is one m×K by K×N' product; B is packed at build time. One row → Gemv, more → Gemm.
/// </summary>
internal sealed class MatMulLowerer : IOpLowerer
{
    public string OpType => "MatMul";

    public IReadOnlyList<string> Calls => [PlanCalls.Gemv, PlanCalls.Gemm, .. PlanCalls.SparseLinear];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "B")];

    public string Notes => "B a constant 2-D matrix (or vector); A of any rank, leading dims flattened into rows; a pruned B runs a sparse kernel where that is faster";

    public void Lower(Node node, LoweringContext ctx)
    {
        string a = node.Input(0), y = node.Output0;
        long[] aDims = ctx.Dims(a);
        float[] b = ctx.ConstantFloats(node, 1, "B (the weight matrix)");
        long[] bDims = ctx.Dims(node.Input(1));
        if (aDims.Length == 0 || bDims.Length is 0 or > 2)
            throw ctx.Unsupported(node, $"A {LoweringContext.Format(aDims)} · B {LoweringContext.Format(bDims)}: B must be a 1-D or 2-D constant and A at least 1-D");
        int k = LoweringContext.ToInt(aDims[^1]);
        if (bDims[0] != k)
            throw ctx.Unsupported(node, $"A {LoweringContext.Format(aDims)} and B {LoweringContext.Format(bDims)} do not multiply");
        int n = bDims.Length == 2 ? LoweringContext.ToInt(bDims[1]) : 1;
        int m = LoweringContext.ToInt(aDims[..^1].Aggregate(1L, (p, d) => p * d));
        if (ctx.Length(y) != m * n)
            throw ctx.Unsupported(node, $"the output {LoweringContext.Format(ctx.Dims(y))} is not {m}×{n}");

        string comment = m == 1 ? $"MatMul {k}→{n}" : $"MatMul {m}×{k}→{n}";
        if (SparseLinear.Choose(b, transposed: false, k, n) is { } sparse)
        {
            SparseLinear.Emit(node, ctx, sparse, ctx.Read(a), PlanArg.Empty, ctx.Write(y), m, k, n, ctx.FusedActivation(node), comment);
            return;
        }
        var packed = new float[GemmF32.PackedLength(k, n)];
        GemmF32.PackB(b, transposed: false, k, n, packed);
        var w = ctx.Weights(packed);
        if (m == 1)
            ctx.Emit(node, PlanCalls.Gemv, comment, ctx.Read(a), w, PlanArg.Empty, ctx.Write(y), PlanArg.Int(k), PlanArg.Int(n), ctx.FusedActivation(node));
        else
            ctx.Emit(node, PlanCalls.Gemm, comment, ctx.Read(a), w, PlanArg.Empty, ctx.Write(y),
                PlanArg.Int(m), PlanArg.Int(k), PlanArg.Int(n), ctx.FusedActivation(node));
    }
}
