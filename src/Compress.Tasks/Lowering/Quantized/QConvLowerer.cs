using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering.Ops;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// Static int8 Conv (Jacob et al., CVPR 2018): u8 NCHW input (padding reads the input zero point) × s8 weights
/// (symmetric per output channel, packed at build time by the kernel's own <c>PackWeights</c>) → s32 → u8, with
/// bias' = round(bias/(s_x·s_w[c])) − zp_x·Σw[c], per-channel multiplier and shift, and a fused Relu/Clip as the clamp.
/// Groups = in = out channels runs <see cref="QDepthwiseConv2dU8S8"/>, anything else <see cref="QConv2dU8S8"/>; the
/// kernels' scratch (bytes) is arena memory alive for this step only. Always u8 out: an fp32 reader dequantises.
/// </summary>
internal sealed class QConvLowerer : IQuantizedOpLowerer
{
    public string OpType => "Conv";

    public NodePrecision Precision => NodePrecision.Int8;

    public IReadOnlyList<string> Calls => [PlanCalls.QConv2d, PlanCalls.QDepthwiseConv2d];

    public string Notes => "as fp32 Conv; the output calibrated; a fused activation only Relu or Clip (the requantisation clamp)";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        var (shape, win, _, depthwise) = ConvLowerer.Resolve(node, ctx);
        int m = shape.OutChannels;
        long weightLength = (long)m * (shape.InChannels / shape.Groups) * shape.KernelHeight * shape.KernelWidth;
        if (QuantizedLowering.Weight(ctx, node.Input(1), weightLength, 0, m, out string? reason) is not { } w) return reason;
        if (!ctx.CanReadU8(x)) return $"input '{x}' has no int8 parameters";
        if (ctx.ActivationParams(y) is not { } py) return $"output '{y}' has no int8 parameters";
        var act = ctx.FusedActivationOf(node);
        if (QuantizedLowering.Requant(py, act) is not { } rq) return $"the fused {Activations.Describe(act!.Value)} is not a clamp";
        float[]? biasValues = ConvLowerer.Bias(node, ctx, m);

        var xArg = ctx.ReadU8(x, out var px);
        double[] sw = QuantizedLowering.ChannelScales(w, m);
        sbyte[] packed;
        var sums = new int[m];
        int scratch;
        if (depthwise)
        {
            packed = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(shape)];
            QDepthwiseConv2dU8S8.PackWeights(w.Values, shape, packed);
            QDepthwiseConv2dU8S8.WeightSums(w.Values, shape, sums);
            scratch = QDepthwiseConv2dU8S8.ScratchLength(shape);
        }
        else
        {
            packed = new sbyte[QConv2dU8S8.PackedWeightsLength(shape)];
            QConv2dU8S8.PackWeights(w.Values, shape, packed);
            QConv2dU8S8.WeightSums(w.Values, shape, sums);
            scratch = QConv2dU8S8.ScratchLength(shape);
        }
        var (multiplier, shift) = QuantizedLowering.Multipliers(px, sw, py);
        ctx.TakeFusedActivation(node);
        ctx.Emit(node, depthwise ? PlanCalls.QDepthwiseConv2d : PlanCalls.QConv2d,
            $"{ConvLowerer.Describe(shape, depthwise)} {win.Describe()} int8 u8×s8→u8{(biasValues is null ? "" : ", bias")}{QuantizedLowering.ClampNote(act)}",
            xArg, ctx.WeightsI8(packed), ctx.WeightsI32(QuantizedLowering.FoldBias(biasValues, px, sw, sums)),
            ctx.WeightsI32(multiplier), ctx.WeightsI32(shift), ctx.WriteU8(y, py), ctx.ScratchBytes(scratch),
            StructArgs.Conv(shape), PlanArg.Int(px.ZeroPoint), QuantizedLowering.RequantArg(rq));
        return null;
    }
}
