using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering.Ops;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized.LowBit;

/// <summary>
/// Shift Conv (DeepShift, post-training): as <see cref="QConvLowerer"/> — u8 in and out, int32 bias, per-channel
/// requantisation — with the weights stored as 4-bit power-of-two codes of the int8 kernels' packed layout
/// (<see cref="ShiftConv2dU8"/>), expanded into the step's scratch on each call and run by the int8 convolution
/// (so the multiplications are the int8 kernel's; docs/low-bit.md says why).
/// </summary>
internal sealed class ShiftConvLowerer : IQuantizedOpLowerer
{
    public string OpType => "Conv";

    public NodePrecision Precision => NodePrecision.Shift;

    public IReadOnlyList<string> Calls => [PlanCalls.ShiftConv2d, PlanCalls.ShiftDepthwiseConv2d];

    public string Notes => "as int8 Conv; weights 0 or ±2^p·s (p ≤ 6) as 4-bit codes, expanded per call into scratch for the int8 kernel";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        var (shape, win, _, depthwise) = ConvLowerer.Resolve(node, ctx);
        int m = shape.OutChannels;
        long weightLength = (long)m * (shape.InChannels / shape.Groups) * shape.KernelHeight * shape.KernelWidth;
        if (QuantizedLowering.Weight(ctx, node.Input(1), weightLength, 0, m, out string? reason) is not { } w) return reason;
        if (w.Values.Any(v => !ShiftGemmU8.IsRepresentable(v))) return $"the weight '{node.Input(1)}' has values that are not powers of two";
        if (!ctx.CanReadU8(x)) return $"input '{x}' has no int8 parameters";
        if (ctx.ActivationParams(y) is not { } py) return $"output '{y}' has no int8 parameters";
        var act = ctx.FusedActivationOf(node);
        if (QuantizedLowering.Requant(py, act) is not { } rq) return $"the fused {Activations.Describe(act!.Value)} is not a clamp";
        float[]? biasValues = ConvLowerer.Bias(node, ctx, m);

        var xArg = ctx.ReadU8(x, out var px);
        double[] sw = QuantizedLowering.ChannelScales(w, m);
        var sums = new int[m];
        byte[] codes;
        int scratch;
        if (depthwise)
        {
            codes = new byte[ShiftConv2dU8.DepthwisePackedWeightsLength(shape)];
            ShiftConv2dU8.PackDepthwiseWeights(w.Values, shape, codes);
            QDepthwiseConv2dU8S8.WeightSums(w.Values, shape, sums);
            scratch = ShiftConv2dU8.DepthwiseScratchLength(shape);
        }
        else
        {
            codes = new byte[ShiftConv2dU8.PackedWeightsLength(shape)];
            ShiftConv2dU8.PackWeights(w.Values, shape, codes);
            QConv2dU8S8.WeightSums(w.Values, shape, sums);
            scratch = ShiftConv2dU8.ScratchLength(shape);
        }
        var (multiplier, shift) = QuantizedLowering.Multipliers(px, sw, py);
        ctx.TakeFusedActivation(node);
        ctx.Emit(node, depthwise ? PlanCalls.ShiftDepthwiseConv2d : PlanCalls.ShiftConv2d,
            $"{ConvLowerer.Describe(shape, depthwise)} {win.Describe()} shift (4-bit ±2^p codes → int8 kernel) u8→u8{(biasValues is null ? "" : ", bias")}{QuantizedLowering.ClampNote(act)}",
            xArg, ctx.WeightsU8(codes), ctx.WeightsI32(QuantizedLowering.FoldBias(biasValues, px, sw, sums)),
            ctx.WeightsI32(multiplier), ctx.WeightsI32(shift), ctx.WriteU8(y, py), ctx.ScratchBytes(scratch),
            StructArgs.Conv(shape), PlanArg.Int(px.ZeroPoint), QuantizedLowering.RequantArg(rq));
        return null;
    }
}
