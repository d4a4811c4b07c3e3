using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX MatMul with a constant 2-D (or 1-D) B: A's leading dims are flattened into the row count m, so
/// [N, T, K]·[K, N'] is one m×K by K×N' product; B is packed at build time. One row → Gemv, more → Gemm.
/// A B computed at run time (attention's Q·Kᵀ, P·V) runs <c>BatchedMatMulF32</c>: per batch, B packed into scratch
/// and the same GEMM kernels; each operand's batch dims either match the output's or are all 1 (stride 0).
/// </summary>
internal sealed class MatMulLowerer : IOpLowerer
{
    public string OpType => "MatMul";

    public IReadOnlyList<string> Calls => [PlanCalls.Gemv, PlanCalls.Gemm, .. PlanCalls.SparseLinear, PlanCalls.BatchedMatMul];

    public string Notes => "B a constant 1-D or 2-D matrix (the weight, packed at build time): A of any rank, leading dims flattened into rows, a pruned B runs a sparse kernel where that is faster; " +
        "B computed at run time: batched [.., M, K]·[.., K, N] (a 1-D operand promoted as numpy.matmul does), each side's batch dims equal to the output's or all 1; a constant B of rank > 2 is not supported";

    public void Lower(Node node, LoweringContext ctx)
    {
        if (!ctx.IsConstant(node.Input(1)))
        {
            LowerBatched(node, ctx);
            return;
        }
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

    static void LowerBatched(Node node, LoweringContext ctx)
    {
        string a = node.Input(0), b = node.Input(1), y = node.Output0;
        long[] aDims = ctx.Dims(a), bDims = ctx.Dims(b), yDims = ctx.Dims(y);
        if (aDims.Length == 0 || bDims.Length == 0) throw ctx.Unsupported(node, "an operand is a scalar");
        long[] am = aDims.Length == 1 ? [1, aDims[0]] : aDims, bm = bDims.Length == 1 ? [bDims[0], 1] : bDims;
        long m = am[^2], k = am[^1], n = bm[^1];
        if (bm[^2] != k) throw ctx.Unsupported(node, $"A {LoweringContext.Format(aDims)} and B {LoweringContext.Format(bDims)} do not multiply");
        long[] aBatch = am[..^2], bBatch = bm[..^2];
        int batchRank = Math.Max(aBatch.Length, bBatch.Length);
        long[] outBatch = new long[batchRank];
        for (int i = 0; i < batchRank; i++)
        {
            long da = i - (batchRank - aBatch.Length) is var ia && ia >= 0 ? aBatch[ia] : 1;
            long db = i - (batchRank - bBatch.Length) is var ib && ib >= 0 ? bBatch[ib] : 1;
            outBatch[i] = Math.Max(da, db);
        }
        long batch = outBatch.Aggregate(1L, (p, d) => p * d);
        int Stride(long[] side, long matrix, string name)
        {
            long count = side.Aggregate(1L, (p, d) => p * d);
            if (count == 1) return 0;
            if (count == batch && side.SkipWhile(d => d == 1).SequenceEqual(outBatch.SkipWhile(d => d == 1))) return LoweringContext.ToInt(matrix);
            throw ctx.Unsupported(node, $"the batch dims of {name} {LoweringContext.Format(side)} neither match the output's {LoweringContext.Format(outBatch)} nor are all 1");
        }
        int aStride = Stride(aBatch, m * k, "A"), bStride = Stride(bBatch, k * n, "B");
        if (batch * m * n != ctx.Length(y)) throw ctx.Unsupported(node, $"the output {LoweringContext.Format(yDims)} is not {batch}×{m}×{n}");
        int I(long v) => LoweringContext.ToInt(v);
        ctx.Emit(node, PlanCalls.BatchedMatMul, $"MatMul of activations {batch}×[{m}×{k}]·[{k}×{n}]" + (bStride == 0 && batch > 1 ? " (B shared)" : aStride == 0 && batch > 1 ? " (A shared)" : ""),
            ctx.Read(a), ctx.Read(b), ctx.Write(y), ctx.Scratch(Runtime.Kernels.BatchedMatMulF32.ScratchLength(I(k), I(n))),
            PlanArg.Int(I(batch)), PlanArg.Int(I(m)), PlanArg.Int(I(k)), PlanArg.Int(I(n)), PlanArg.Int(aStride), PlanArg.Int(bStride));
    }
}
