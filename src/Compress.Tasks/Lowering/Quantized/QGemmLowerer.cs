using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// Static int8 Gemm/MatMul (Jacob et al., CVPR 2018): u8 activations × s8 weights (symmetric per output channel, packed
/// at build time with <see cref="QGemmU8S8.PackB"/>) → s32, bias' = round(bias/(s_x·s_w[c])) − zp_x·Σₖ B[k,c] in int32.
/// The output is u8 (<c>QGemmU8S8.Gemv/Gemm</c>, requantised with per-channel multiplier and shift, a fused Relu/Clip as
/// the clamp) when an int8 node reads it, else f32 straight from the accumulator (<c>GemvToF32/GemmToF32</c>, any
/// fused activation) — the last layer, or one feeding an fp32 op, so no dequantise step follows.
/// </summary>
internal sealed class QGemmLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Int8;

    public IReadOnlyList<string> Calls => [PlanCalls.QGemv, PlanCalls.QGemm, PlanCalls.QGemvToF32, PlanCalls.QGemmToF32,
        PlanCalls.SparseQGemv, PlanCalls.SparseQGemm, PlanCalls.SparseQGemvToF32, PlanCalls.SparseQGemmToF32];

    public string Notes => opType == "Gemm"
        ? "B constant, C a constant per-column bias, transA 0, alpha > 0; u8 out when an int8 node reads it, else f32; pruned B (≤ 20% non-zero 1×4 blocks) runs the sparse kernel"
        : "B a constant matrix; A's leading dims are rows; u8 out when an int8 node reads it, else f32; pruned B (≤ 20% non-zero 1×4 blocks) runs the sparse kernel";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (LinearForm.Resolve(node, ctx, out string? reason) is not { } f) return reason;
        if (QuantizedLowering.Weight(ctx, f.B, (long)f.K * f.N, f.ChannelAxis, f.N, out reason) is not { } w) return reason;
        if (!ctx.CanReadU8(f.A)) return $"input '{f.A}' has no int8 parameters";
        var act = ctx.FusedActivationOf(node);
        bool u8Out = ctx.PrefersU8Output(f.Y) && QuantizedLowering.Requant(ctx.ActivationParams(f.Y)!, act) is not null;

        var x = ctx.ReadU8(f.A, out var px);
        double[] sw = QuantizedLowering.ChannelScales(w, f.N, f.Alpha);
        var sums = new int[f.N];
        QGemmU8S8.ColumnSums(w.Values, f.TransB, f.K, f.N, sums);
        // Pruned weights: the block-sparse kernel when few 1×4 blocks (4 consecutive k of a column) hold a non-zero.
        var sparseLengths = SparseQGemmU8S8.PackedLengths(w.Values, f.TransB, f.K, f.N);
        double blockDensity = SparseQGemmU8S8.BlockDensity(w.Values, f.TransB, f.K, f.N);
        bool sparse = blockDensity <= SparseFormats.BreakEvenBlockDensityS8
            && sparseLengths.Bytes(1) < QGemmU8S8.PackedLength(f.K, f.N);
        LoweredArg packedArg, indices = PlanArg.Empty, rows = PlanArg.Empty;
        string sparseNote = "";
        if (sparse)
        {
            var values = new sbyte[sparseLengths.Values];
            var idx = new ushort[sparseLengths.Indices];
            var offsets = new int[sparseLengths.Rows];
            SparseQGemmU8S8.Pack(w.Values, f.TransB, f.K, f.N, values, idx, offsets);
            (packedArg, indices, rows) = (ctx.WeightsI8(values), ctx.WeightsU16(idx), ctx.WeightsI32(offsets));
            sparseNote = $", sparse 1×4 blocks {blockDensity:P0} non-zero";
        }
        else
        {
            var packed = new sbyte[QGemmU8S8.PackedLength(f.K, f.N)];
            QGemmU8S8.PackB(w.Values, f.TransB, f.K, f.N, packed);
            packedArg = ctx.WeightsI8(packed);
        }
        var bias = ctx.WeightsI32(QuantizedLowering.FoldBias(f.Bias, px, sw, sums));

        if (u8Out)
        {
            var py = ctx.ActivationParams(f.Y)!;
            var rq = QuantizedLowering.Requant(py, ctx.TakeFusedActivation(node))!.Value;
            var (multiplier, shift) = QuantizedLowering.Multipliers(px, sw, py);
            string comment = $"{opType} {f.Shape} int8 u8×s8→u8{f.BiasNote}{QuantizedLowering.ClampNote(act)}{sparseNote}";
            LoweredArg[] common = sparse
                ? [x, packedArg, indices, rows, bias, ctx.WeightsI32(multiplier), ctx.WeightsI32(shift), ctx.WriteU8(f.Y, py)]
                : [x, packedArg, bias, ctx.WeightsI32(multiplier), ctx.WeightsI32(shift), ctx.WriteU8(f.Y, py)];
            if (sparse)
                ctx.Emit(node, f.M == 1 ? PlanCalls.SparseQGemv : PlanCalls.SparseQGemm, comment,
                    f.M == 1 ? [.. common, PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq)]
                             : [.. common, PlanArg.Int(f.M), PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq)]);
            else if (f.M == 1)
                ctx.Emit(node, PlanCalls.QGemv, comment, [.. common, PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq)]);
            else
                ctx.Emit(node, PlanCalls.QGemm, comment, [.. common, PlanArg.Int(f.M), PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq)]);
            return null;
        }

        var scale = ctx.Weights(sw.Select(s => (float)(px.Scale * s)).ToArray());
        string toF32 = $"{opType} {f.Shape} int8 u8×s8→f32{f.BiasNote}{sparseNote}";
        if (sparse && f.M == 1)
            ctx.Emit(node, PlanCalls.SparseQGemvToF32, toF32, x, packedArg, indices, rows, bias, scale, ctx.Write(f.Y),
                PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        else if (sparse)
            ctx.Emit(node, PlanCalls.SparseQGemmToF32, toF32, x, packedArg, indices, rows, bias, scale, ctx.Write(f.Y),
                PlanArg.Int(f.M), PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        else if (f.M == 1)
            ctx.Emit(node, PlanCalls.QGemvToF32, toF32, x, packedArg, bias, scale, ctx.Write(f.Y),
                PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        else
            ctx.Emit(node, PlanCalls.QGemmToF32, toF32, x, packedArg, bias, scale, ctx.Write(f.Y),
                PlanArg.Int(f.M), PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        return null;
    }
}
