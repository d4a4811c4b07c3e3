using Compress.Tasks.Graph;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// A Gemm or MatMul in the form the quantised GEMM kernels run: Y[m×n] = A[m×k]·(Alpha·B) + Bias, with B a constant
/// stored k×n (or n×k when <paramref name="TransB"/>) and Bias per output column (Gemm's beta·C for a constant scalar,
/// [n] or [1, n] C). MatMul flattens A's leading dims into m.
/// </summary>
/// <param name="B">The name of the constant B (the key of its <see cref="Quantization.QuantizedWeight"/>).</param>
internal sealed record LinearForm(string A, string Y, string B, bool TransB, float Alpha, float[]? Bias, int M, int K, int N)
{
    /// <summary>Output channels of B lie along this axis of its ONNX layout.</summary>
    public int ChannelAxis => TransB ? 0 : 1;

    /// <summary>"64→256" for one row, "4×64→256" for more.</summary>
    public string Shape => M == 1 ? $"{K}→{N}" : $"{M}×{K}→{N}";

    /// <summary>", bias" when there is one.</summary>
    public string BiasNote => Bias is null ? "" : ", bias";

    /// <summary>The form of a Gemm/MatMul node, or null with the reason the quantised kernels cannot run it.</summary>
    public static LinearForm? Resolve(Node node, LoweringContext ctx, out string? reason)
    {
        reason = null;
        string a = node.Input(0), y = node.Output0, b = node.Input(1);
        if (!ctx.IsConstant(b)) { reason = "B is computed at run time"; return null; }
        long[] aDims = ctx.Dims(a), bDims = ctx.Dims(b);
        if (bDims.Length != 2) { reason = $"B is {LoweringContext.Format(bDims)}, not a matrix"; return null; }
        if (node.OpType == "MatMul")
        {
            if (aDims.Length == 0 || aDims[^1] != bDims[0]) { reason = "A and B do not multiply"; return null; }
            int k = LoweringContext.ToInt(bDims[0]), n = LoweringContext.ToInt(bDims[1]);
            int m = LoweringContext.ToInt(aDims[..^1].Aggregate(1L, (p, d) => p * d));
            if (ctx.Length(y) != (long)m * n) { reason = "the output is not m×n"; return null; }
            return new LinearForm(a, y, b, false, 1f, null, m, k, n);
        }

        ctx.RequireOnlyFirstOutput(node);
        if (node.GetInt("transA", 0) != 0) { reason = "transA has no int8 kernel"; return null; }
        float alpha = node.GetFloat("alpha", 1f), beta = node.GetFloat("beta", 1f);
        if (!(alpha > 0f)) { reason = $"alpha {alpha} is not positive"; return null; }
        bool transB = node.GetInt("transB", 0) != 0;
        if (aDims.Length != 2 || (transB ? bDims[1] : bDims[0]) != aDims[1]) { reason = "A and B do not multiply"; return null; }
        int gm = LoweringContext.ToInt(aDims[0]), gk = LoweringContext.ToInt(aDims[1]), gn = LoweringContext.ToInt(transB ? bDims[0] : bDims[1]);
        float[]? bias = null;
        if (node.HasInput(2) && beta != 0f)
        {
            string c = node.Input(2);
            long[] cDims = ctx.Dims(c);
            long count = cDims.Aggregate(1L, (p, d) => p * d);
            bool row = count == gn && (cDims.Length == 1 || (cDims.Length == 2 && cDims[0] == 1));
            if (!ctx.IsConstant(c) || !(count == 1 || row)) { reason = "C is not a constant per-column bias"; return null; }
            float[] cv = ctx.ConstantFloats(node, 2, "C");
            bias = count == 1 ? Enumerable.Repeat(beta * cv[0], gn).ToArray() : cv.Select(v => beta * v).ToArray();
        }
        return new LinearForm(a, y, b, transB, alpha, bias, gm, gk, gn);
    }
}
