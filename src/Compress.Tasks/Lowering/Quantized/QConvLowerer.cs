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

    public string? TryLower(Node node, LoweringContext ctx) =>
        Lower(node, ctx, check: null, PlanCalls.QConv2d, PlanCalls.QDepthwiseConv2d, "int8 u8×s8→u8", (w, shape, depthwise, ctx) =>
        {
            if (depthwise)
            {
                var dw = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(shape)];
                QDepthwiseConv2dU8S8.PackWeights(w.Values, shape, dw);
                return (ctx.WeightsI8(dw), QDepthwiseConv2dU8S8.ScratchLength(shape));
            }
            var packed = new sbyte[QConv2dU8S8.PackedWeightsLength(shape)];
            QConv2dU8S8.PackWeights(w.Values, shape, packed);
            return (ctx.WeightsI8(packed), QConv2dU8S8.ScratchLength(shape));
        });

    /// <summary>The weights as the kernel stores them (packed s8, or shift codes) and the kernel's scratch bytes.</summary>
    internal delegate (LoweredArg Weights, int ScratchBytes) WeightEncoder(QuantizedWeight w, Runtime.Conv2dShape shape, bool depthwise, LoweringContext ctx);

    /// <summary>
    /// The requantising u8 → u8 convolution step shared by int8 and shift weights: checks the node can run quantised
    /// (<paramref name="check"/> adds the encoding's own condition), folds the bias with the input zero point, and
    /// emits <paramref name="call"/> (or <paramref name="depthwiseCall"/>) with the weights <paramref name="encode"/> stores.
    /// Returns why the node stays fp32, or null when it was lowered.
    /// </summary>
    /// <summary>A compact storage form's step: call, comment, stored record, prepared arena bytes, kernel scratch, layer multiplier, bias width.</summary>
    internal sealed record RecordStep(string Call, string Note, LoweredArg Record, LoweredArg Prepared, int ScratchBytes, int Multiplier, int Shift, int BiasBytes);

    /// <summary>The compact form of a layer (folded bias, per-channel multiplier and shift given), or null when it does not apply.</summary>
    internal delegate RecordStep? RecordEncoder(QuantizedWeight w, Runtime.Conv2dShape shape, bool depthwise, int[] bias, int[] multiplier, int[] shift,
        QuantParams x, QuantParams y, LoweringContext ctx);

    internal static string? Lower(Node node, LoweringContext ctx, Func<QuantizedWeight, string?>? check, string call, string depthwiseCall,
        string kernelNote, WeightEncoder encode, RecordEncoder? record = null)
    {
        string x = node.Input(0), y = node.Output0;
        var (shape, win, _, depthwise) = ConvLowerer.Resolve(node, ctx);
        int m = shape.OutChannels;
        long weightLength = (long)m * (shape.InChannels / shape.Groups) * shape.KernelHeight * shape.KernelWidth;
        if (QuantizedLowering.Weight(ctx, node.Input(1), weightLength, 0, m, out string? reason) is not { } w) return reason;
        if (check?.Invoke(w) is { } unsuitable) return unsuitable;
        if (!ctx.CanReadU8(x)) return $"input '{x}' has no int8 parameters";
        if (ctx.ActivationParams(y) is not { } py) return $"output '{y}' has no int8 parameters";
        var act = ctx.FusedActivationOf(node);
        if (QuantizedLowering.Requant(py, act) is not { } rq) return $"the fused {Activations.Describe(act!.Value)} is not a clamp";
        float[]? biasValues = ConvLowerer.Bias(node, ctx, m);

        var xArg = ctx.ReadU8(x, out var px);
        double[] sw = QuantizedLowering.ChannelScales(w, m);
        var sums = new int[m];
        if (depthwise) QDepthwiseConv2dU8S8.WeightSums(w.Values, shape, sums);
        else QConv2dU8S8.WeightSums(w.Values, shape, sums);
        var (multiplier, shift) = QuantizedLowering.Multipliers(px, sw, py);
        var bias = QuantizedLowering.FoldBias(biasValues, px, sw, sums);
        if (record?.Invoke(w, shape, depthwise, bias, multiplier, shift, px, py, ctx) is { } r)
        {
            ctx.TakeFusedActivation(node);
            ctx.Emit(node, r.Call,
                $"{ConvLowerer.Describe(shape, depthwise)} {win.Describe()} {r.Note}{(biasValues is null ? "" : ", bias")}{QuantizedLowering.ClampNote(act)}",
                xArg, r.Record, r.Prepared, ctx.WriteU8(y, py), ctx.ScratchBytes(r.ScratchBytes),
                StructArgs.Conv(shape), PlanArg.Int(px.ZeroPoint), QuantizedLowering.RequantArg(rq), PlanArg.Int(r.Multiplier), PlanArg.Int(r.Shift), PlanArg.Int(r.BiasBytes));
            return null;
        }
        var (weights, scratch) = encode(w, shape, depthwise, ctx);
        ctx.TakeFusedActivation(node);
        ctx.Emit(node, depthwise ? depthwiseCall : call,
            $"{ConvLowerer.Describe(shape, depthwise)} {win.Describe()} {kernelNote}{(biasValues is null ? "" : ", bias")}{QuantizedLowering.ClampNote(act)}",
            xArg, weights, ctx.WeightsI32(bias),
            ctx.WeightsI32(multiplier), ctx.WeightsI32(shift), ctx.WriteU8(y, py), ctx.ScratchBytes(scratch),
            StructArgs.Conv(shape), PlanArg.Int(px.ZeroPoint), QuantizedLowering.RequantArg(rq));
        return null;
    }
}
