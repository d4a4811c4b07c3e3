using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized.LowBit;

/// <summary>
/// Weight-only ternary Gemm/MatMul (TTQ, post-training): codes {−1, 0, +1} packed as two bit masks by
/// <see cref="TernaryGemmF32.Pack"/>, αp and αn per output column (Gemm alpha folded in), f32 activations, bias and
/// activation. One <c>TernaryGemmF32.Gemv</c> per row, with arena scratch for its lookup tables.
/// </summary>
internal sealed class TernaryGemmLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Ternary;

    public IReadOnlyList<string> Calls => [PlanCalls.TernaryGemv];

    public string Notes => $"as int8 {opType}; weights {{−αn, 0, +αp}} as 2-bit masks, fp32 activations; one call per row, at most {DynamicGemmLowerer.MaxRows} rows";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (SignLowering.Resolve(node, ctx, 2, out var f, out var w) is { } reason) return reason;
        var masks = new byte[TernaryGemmF32.PackedLength(f.K, f.N)];
        TernaryGemmF32.Pack(w.Values, f.TransB, f.K, f.N, masks);
        var masksArg = ctx.WeightsU8(masks);
        var ap = ctx.Weights(w.Scales.Select(s => s * f.Alpha).ToArray());
        var an = ctx.Weights((w.NegativeScales ?? w.Scales).Select(s => s * f.Alpha).ToArray());
        LoweredArg bias = f.Bias is null ? PlanArg.Empty : ctx.Weights(f.Bias);
        var scratch = ctx.Scratch(TernaryGemmF32.ScratchLength(f.K));
        for (int r = 0; r < f.M; r++)
            ctx.Emit(node, PlanCalls.TernaryGemv, $"{opType} {f.K}→{f.N} ternary (2-bit masks, table lookups) ×f32→f32{f.BiasNote}{SignLowering.Row(r, f.M)}",
                ctx.Read(f.A, r * f.K, f.K), masksArg, ap, an, bias, ctx.Write(f.Y, r * f.N, f.N), scratch,
                PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        return null;
    }
}

/// <summary>
/// Weight-only binary Gemm/MatMul (BinaryConnect): signs packed one bit per weight by <see cref="BinaryGemmF32.Pack"/>,
/// α per output column, f32 activations. One <c>BinaryGemmF32.Gemv</c> per row.
/// </summary>
internal sealed class BinaryGemmLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Binary;

    public IReadOnlyList<string> Calls => [PlanCalls.BinaryGemv];

    public string Notes => $"as int8 {opType}; weights ±α as 1 bit, fp32 activations; one call per row, at most {DynamicGemmLowerer.MaxRows} rows";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (SignLowering.Resolve(node, ctx, 1, out var f, out var w) is { } reason) return reason;
        var bits = new byte[BinaryGemmF32.PackedLength(f.K, f.N)];
        BinaryGemmF32.Pack(w.Values, f.TransB, f.K, f.N, bits);
        var bitsArg = ctx.WeightsU8(bits);
        var alpha = ctx.Weights(w.Scales.Select(s => s * f.Alpha).ToArray());
        LoweredArg bias = f.Bias is null ? PlanArg.Empty : ctx.Weights(f.Bias);
        var scratch = ctx.Scratch(BinaryGemmF32.ScratchLength(f.K));
        for (int r = 0; r < f.M; r++)
            ctx.Emit(node, PlanCalls.BinaryGemv, $"{opType} {f.K}→{f.N} binary weights (1 bit, table lookups) ×f32→f32{f.BiasNote}{SignLowering.Row(r, f.M)}",
                ctx.Read(f.A, r * f.K, f.K), bitsArg, alpha, bias, ctx.Write(f.Y, r * f.N, f.N), scratch,
                PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        return null;
    }
}

/// <summary>
/// Fully binary Gemm/MatMul (XNOR-Net): signs packed 64 per u64 by <see cref="XnorGemmF32.Pack"/>, α and the column
/// sums Σₖ s per output column, the input binarised per call into arena scratch; XNOR + popcount. One call per row.
/// </summary>
internal sealed class XnorGemmLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.BinaryXnor;

    public IReadOnlyList<string> Calls => [PlanCalls.XnorGemv];

    public string Notes => $"as int8 {opType}; weights ±α as 1 bit, the input binarised per call (two levels around its mean), XNOR + popcount; one call per row, at most {DynamicGemmLowerer.MaxRows} rows";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (SignLowering.Resolve(node, ctx, 1, out var f, out var w) is { } reason) return reason;
        var packed = new byte[XnorGemmF32.PackedLength(f.K, f.N)];
        XnorGemmF32.Pack(w.Values, f.TransB, f.K, f.N, packed);
        var sums = new int[f.N];
        XnorGemmF32.ColumnSums(w.Values, f.TransB, f.K, f.N, sums);
        var packedArg = ctx.WeightsU8(packed);
        var alpha = ctx.Weights(w.Scales.Select(s => s * f.Alpha).ToArray());
        var sumsArg = ctx.WeightsI32(sums);
        LoweredArg bias = f.Bias is null ? PlanArg.Empty : ctx.Weights(f.Bias);
        var scratch = ctx.ScratchBytes(XnorGemmF32.ScratchLength(f.K));
        for (int r = 0; r < f.M; r++)
            ctx.Emit(node, PlanCalls.XnorGemv, $"{opType} {f.K}→{f.N} fully binary (input binarised, XNOR + popcount) f32→f32{f.BiasNote}{SignLowering.Row(r, f.M)}",
                ctx.Read(f.A, r * f.K, f.K), packedArg, alpha, sumsArg, bias, ctx.Write(f.Y, r * f.N, f.N), scratch,
                PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        return null;
    }
}

/// <summary>What the ternary/binary lowerers share.</summary>
internal static class SignLowering
{
    /// <summary>The linear form and the passes' weight of the given bit width, or why not.</summary>
    public static string? Resolve(Node node, LoweringContext ctx, int bits, out LinearForm f, out QuantizedWeight w)
    {
        f = null!;
        w = null!;
        if (LinearForm.Resolve(node, ctx, out string? reason) is not { } form) return reason;
        if (form.M > DynamicGemmLowerer.MaxRows) return $"{form.M} rows (at most {DynamicGemmLowerer.MaxRows} run as {bits}-bit)";
        if (ctx.Quantization?.Weights.GetValueOrDefault(form.B) is not { } weight || weight.Bits != bits)
            return $"the quantisation result has no {bits}-bit weight '{form.B}'";
        if (weight.ChannelAxis != form.ChannelAxis || weight.Values.LongLength != (long)form.K * form.N || weight.Scales.Length != form.N)
            return $"the {bits}-bit weight '{form.B}' does not match the op's layout";
        f = form;
        w = weight;
        return null;
    }

    /// <summary>", row 2 of 4" when there is more than one row.</summary>
    public static string Row(int r, int m) => m > 1 ? $", row {r + 1} of {m}" : "";
}
