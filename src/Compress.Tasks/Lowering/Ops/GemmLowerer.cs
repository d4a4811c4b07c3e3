using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Gemm: Y = alpha·A'·B' + beta·C (A' = transA ? Aᵀ : A, B' likewise). B must be constant: it is scaled by alpha
/// and packed with <see cref="GemmF32.PackB"/> at build time; beta·C becomes the kernel's bias when C is a scalar,
/// [N] or [1, N], and a broadcast Add after the product otherwise. One row → Gemv, more → Gemm.
/// </summary>
internal sealed class GemmLowerer : IOpLowerer
{
    public string OpType => "Gemm";

    public IReadOnlyList<string> Calls => [PlanCalls.Gemv, PlanCalls.Gemm, PlanCalls.Permute, PlanCalls.Binary, .. PlanCalls.SparseLinear];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "B")];

    public string Notes => "B constant (alpha folded into it, packed at build time; a pruned B runs a sparse kernel where that is faster); a scalar/row C is the bias, any other C a broadcast Add; transA via a transpose";

    public void Lower(Node node, LoweringContext ctx)
    {
        ctx.RequireOnlyFirstOutput(node);
        string a = node.Input(0), y = node.Output0;
        float alpha = node.GetFloat("alpha", 1f), beta = node.GetFloat("beta", 1f);
        bool transA = node.GetInt("transA", 0) != 0, transB = node.GetInt("transB", 0) != 0;
        long[] aDims = ctx.Dims(a);
        if (aDims.Length != 2) throw ctx.Unsupported(node, $"A must be 2-D, it is {LoweringContext.Format(aDims)}");
        int m = LoweringContext.ToInt(transA ? aDims[1] : aDims[0]), k = LoweringContext.ToInt(transA ? aDims[0] : aDims[1]);

        float[] b = ctx.ConstantFloats(node, 1, "B");
        long[] bDims = ctx.Dims(node.Input(1));
        if (bDims.Length != 2 || (transB ? bDims[1] : bDims[0]) != k)
            throw ctx.Unsupported(node, $"B {LoweringContext.Format(bDims)} does not match A {LoweringContext.Format(aDims)}");
        int n = LoweringContext.ToInt(transB ? bDims[0] : bDims[1]);
        float[] scaled = alpha == 1f ? b : b.Select(v => v * alpha).ToArray();
        var sparse = SparseLinear.Choose(scaled, transB, k, n);
        LoweredArg w = PlanArg.Empty;
        if (sparse is null)
        {
            var packed = new float[GemmF32.PackedLength(k, n)];
            GemmF32.PackB(scaled, transB, k, n, packed);
            w = ctx.Weights(packed);
        }

        LoweredArg bias = PlanArg.Empty, residual = PlanArg.Empty;
        long[]? residualDims = null;
        string biasNote = "";
        if (node.HasInput(2) && beta != 0f)
        {
            string cName = node.Input(2);
            long[] cDims = ctx.Dims(cName);
            long cCount = cDims.Aggregate(1L, (p, d) => p * d);
            bool row = cCount == n && (cDims.Length == 1 || (cDims.Length == 2 && cDims[0] == 1));
            if (ctx.IsConstant(cName) && (cCount == 1 || row))
            {
                float[] c = ctx.ConstantFloats(node, 2, "C");
                bias = ctx.Weights(cCount == 1 ? Enumerable.Repeat(beta * c[0], n).ToArray() : c.Select(v => beta * v).ToArray());
                biasNote = ", bias";
            }
            else
            {
                // C is not a per-column bias (or is computed at run time): Y = A·B into scratch, then Y + beta·C broadcast.
                if (ctx.IsConstant(cName)) residual = ctx.Weights(ctx.ConstantFloats(node, 2, "C").Select(v => beta * v).ToArray());
                else if (beta == 1f) residual = ctx.Read(cName);
                else
                {
                    // A computed C with beta ≠ 1: beta·C into scratch first (one broadcast Mul by the constant beta).
                    long[] ones = Enumerable.Repeat(1L, cDims.Length).ToArray();
                    residual = ctx.Scratch(LoweringContext.ToInt(cCount));
                    ctx.Emit(node, PlanCalls.Binary, $"Gemm: beta·C {LoweringContext.Format(cDims)}",
                        PlanArg.Enum(BinaryOp.Mul), ctx.Read(cName), ctx.Weights([beta]), residual,
                        StructArgs.Broadcast(Broadcast4.Create(cDims, cDims, ones)), LoweringContext.Activation(FusedActivation.None));
                }
                residualDims = cDims;
                biasNote = ", + C";
            }
        }

        LoweredArg aArg = ctx.Read(a);
        string shape = m == 1 ? $"{k}→{n}" : $"{m}×{k}→{n}";
        if (transA)
        {
            // The kernel wants A row-major m×k: transpose the stored k×m into scratch first.
            var transposed = ctx.Scratch(m * k);
            ctx.Emit(node, PlanCalls.Permute, $"Gemm: Aᵀ ({k}×{m} → {m}×{k})",
                aArg, transposed, StructArgs.Permute(Permute6.Create([k, m], [1, 0])));
            aArg = transposed;
        }

        if (residualDims is null)
        {
            EmitProduct(node, ctx, sparse, aArg, w, bias, ctx.Write(y), m, k, n, ctx.FusedActivation(node), $"Gemm {shape}{biasNote}");
            return;
        }
        var product = ctx.Scratch(m * n);
        EmitProduct(node, ctx, sparse, aArg, w, bias, product, m, k, n, LoweringContext.Activation(FusedActivation.None), $"Gemm {shape}");
        Broadcast4 b4;
        try
        {
            b4 = Broadcast4.Create([m, n], [m, n], residualDims);
        }
        catch (ArgumentException e)
        {
            throw ctx.Unsupported(node, $"C {LoweringContext.Format(residualDims)} does not broadcast to [{m},{n}]: {e.Message}");
        }
        ctx.Emit(node, PlanCalls.Binary, $"Gemm: + {(beta == 1f ? "" : "beta·")}C {LoweringContext.Format(residualDims)}",
            PlanArg.Enum(BinaryOp.Add), product, residual, ctx.Write(y), StructArgs.Broadcast(b4), ctx.FusedActivation(node));
    }

    static void EmitProduct(Node node, LoweringContext ctx, SparseLinear.Choice? sparse, LoweredArg a, LoweredArg w, LoweredArg bias, LoweredArg y,
        int m, int k, int n, LoweredArg act, string comment)
    {
        if (sparse is not null)
            SparseLinear.Emit(node, ctx, sparse, a, bias, y, m, k, n, act, comment);
        else if (m == 1)
            ctx.Emit(node, PlanCalls.Gemv, comment, a, w, bias, y, PlanArg.Int(k), PlanArg.Int(n), act);
        else
            ctx.Emit(node, PlanCalls.Gemm, comment, a, w, bias, y, PlanArg.Int(m), PlanArg.Int(k), PlanArg.Int(n), act);
    }
}
