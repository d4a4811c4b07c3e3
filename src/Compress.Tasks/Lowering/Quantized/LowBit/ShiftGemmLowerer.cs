using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized.LowBit;

/// <summary>
/// Shift Gemm/MatMul (DeepShift, post-training; docs/low-bit.md): the power-of-two weights ±2^p (s8 values of the
/// passes' <see cref="QuantizedWeight"/>, scale per output channel) packed as 4-bit codes by <see cref="ShiftGemmU8.Pack"/>,
/// u8 activations and int32 bias exactly as static int8 (<see cref="QGemmLowerer"/>): u8 out when an int8 node reads
/// the output, else f32. Half the weight bytes of int8; the kernel decodes the codes next to the dot products.
/// </summary>
internal sealed class ShiftGemmLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Shift;

    public IReadOnlyList<string> Calls => [PlanCalls.ShiftGemvRecord, PlanCalls.ShiftGemvToF32Record, PlanCalls.ShiftGemv, PlanCalls.ShiftGemm, PlanCalls.ShiftGemvToF32, PlanCalls.ShiftGemmToF32];

    public string Notes => "as int8 " + opType + "; weights 0 or ±2^p·s (p ≤ 6) as 4-bit codes; u8 out when an int8 node reads it, else f32; one row with scale codes: a compact record (codes, int16/int32 bias, a scale code byte per column) prepared on the first run";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (LinearForm.Resolve(node, ctx, out string? reason) is not { } f) return reason;
        if (QuantizedLowering.Weight(ctx, f.B, (long)f.K * f.N, f.ChannelAxis, f.N, out reason) is not { } w) return reason;
        if (w.Values.Any(v => !ShiftGemmU8.IsRepresentable(v))) return $"the weight '{f.B}' has values that are not powers of two";
        if (!ctx.CanReadU8(f.A)) return $"input '{f.A}' has no int8 parameters";
        var act = ctx.FusedActivationOf(node);
        bool u8Out = ctx.PrefersU8Output(f.Y) && QuantizedLowering.Requant(ctx.ActivationParams(f.Y)!, act) is not null;

        var x = ctx.ReadU8(f.A, out var px);
        double[] sw = QuantizedLowering.ChannelScales(w, f.N, f.Alpha);
        var sums = new int[f.N];
        QGemmU8S8.ColumnSums(w.Values, f.TransB, f.K, f.N, sums);
        int[] folded = QuantizedLowering.FoldBias(f.Bias, px, sw, sums);
        if (f.M == 1 && TryRecord(node, ctx, f, w, px, sw, folded, x, u8Out)) return null;

        var codes = new byte[ShiftGemmU8.PackedLength(f.K, f.N)];
        ShiftGemmU8.Pack(w.Values, f.TransB, f.K, f.N, codes);
        var codesArg = ctx.WeightsU8(codes);
        var bias = ctx.WeightsI32(folded);
        string what = $"{opType} {f.Shape} shift (4-bit ±2^p codes) u8×";

        if (u8Out)
        {
            var py = ctx.ActivationParams(f.Y)!;
            var rq = QuantizedLowering.Requant(py, ctx.TakeFusedActivation(node))!.Value;
            var (multiplier, shift) = QuantizedLowering.Multipliers(px, sw, py);
            string comment = $"{what}→u8{f.BiasNote}{QuantizedLowering.ClampNote(act)}";
            LoweredArg[] common = [x, codesArg, bias, ctx.WeightsI32(multiplier), ctx.WeightsI32(shift), ctx.WriteU8(f.Y, py)];
            if (f.M == 1)
                ctx.Emit(node, PlanCalls.ShiftGemv, comment, [.. common, PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq)]);
            else
                ctx.Emit(node, PlanCalls.ShiftGemm, comment, [.. common, PlanArg.Int(f.M), PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq)]);
            return null;
        }

        var scale = ctx.Weights(sw.Select(s => (float)(px.Scale * s)).ToArray());
        string toF32 = $"{what}→f32{f.BiasNote}";
        if (f.M == 1)
            ctx.Emit(node, PlanCalls.ShiftGemvToF32, toF32, x, codesArg, bias, scale, ctx.Write(f.Y),
                PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        else
            ctx.Emit(node, PlanCalls.ShiftGemmToF32, toF32, x, codesArg, bias, scale, ctx.Write(f.Y),
                PlanArg.Int(f.M), PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        return null;
    }

    /// <summary>
    /// One row: the layer as a <see cref="ShiftRecord"/> when <see cref="ShiftRecordForm"/> accepts it (scale codes whose
    /// derived multipliers, or f32 output scales, agree with int8's); false otherwise.
    /// </summary>
    bool TryRecord(Node node, LoweringContext ctx, LinearForm f, QuantizedWeight w, QuantParams px, double[] sw, int[] bias, LoweredArg x, bool u8Out)
    {
        int biasBytes = ShiftRecordForm.BiasBytes(bias);
        string what = $"{opType} {f.Shape} shift ({ShiftRecordForm.Describe(biasBytes)}; prepared on the first run) u8×";
        if (u8Out)
        {
            var py = ctx.ActivationParams(f.Y)!;
            var (multiplier, shift) = QuantizedLowering.Multipliers(px, sw, py);
            if (ShiftRecordForm.Requantisation(w, f.Alpha, px, py, multiplier, shift) is not { } r) return false;
            var act = ctx.FusedActivationOf(node);
            var rq = QuantizedLowering.Requant(py, ctx.TakeFusedActivation(node))!.Value;
            ctx.Emit(node, PlanCalls.ShiftGemvRecord, $"{what}→u8{f.BiasNote}{QuantizedLowering.ClampNote(act)}",
                x, ctx.WeightsU8Unaligned(ShiftRecordForm.Record(w.Values, bias, biasBytes, w.ScaleCodes!)),
                ctx.PersistentBytes(ShiftGemmU8.PreparedLength(f.K, f.N)), ctx.WriteU8(f.Y, py),
                PlanArg.Int(f.K), PlanArg.Int(f.N), QuantizedLowering.RequantArg(rq), PlanArg.Int(r.Multiplier), PlanArg.Int(r.Shift), PlanArg.Int(biasBytes), PlanArg.Bool(f.TransB));
            return true;
        }
        if (ShiftRecordForm.ScaleBase(w, f.Alpha, px, sw.Select(s => (float)(px.Scale * s)).ToArray()) is not { } scaleBase) return false;
        ctx.Emit(node, PlanCalls.ShiftGemvToF32Record, $"{what}→f32{f.BiasNote}",
            x, ctx.WeightsU8Unaligned(ShiftRecordForm.Record(w.Values, bias, biasBytes, w.ScaleCodes!)),
            ctx.PersistentBytes(ShiftGemmU8.PreparedLength(f.K, f.N)), ctx.Write(f.Y),
            PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node), PlanArg.Float(scaleBase), PlanArg.Int(biasBytes), PlanArg.Bool(f.TransB));
        return true;
    }
}
