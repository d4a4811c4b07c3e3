using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering.Ops;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized.LowBit;

/// <summary>
/// Shift Conv (DeepShift, post-training): as <see cref="QConvLowerer"/> — u8 in and out, int32 bias, per-channel
/// requantisation — run by the int8 convolution (so the multiplications are the int8 kernel's; docs/low-bit.md says
/// why). Stored as a <see cref="ShiftRecord"/> (4-bit codes in ONNX order, int16 or int32 bias, one multiplier per
/// layer and a scale code byte per channel) prepared into the int8 layout on the instance's first run when
/// <see cref="ShiftRecordForm"/> accepts the layer; otherwise as 4-bit codes of the int8 kernels' packed layout with
/// int32 parameters, expanded into the step's scratch on each call.
/// </summary>
internal sealed class ShiftConvLowerer : IQuantizedOpLowerer
{
    public string OpType => "Conv";

    public NodePrecision Precision => NodePrecision.Shift;

    public IReadOnlyList<string> Calls => [PlanCalls.ShiftConv2dRecord, PlanCalls.ShiftDepthwiseConv2dRecord, PlanCalls.ShiftConv2d, PlanCalls.ShiftDepthwiseConv2d];

    public string Notes => "as int8 Conv; weights 0 or ±2^p·s (p ≤ 6) as 4-bit codes; with power-of-two channel scales a compact record (codes, int16/int32 bias, a scale code byte per channel) prepared on the first run, else codes expanded per call";

    public string? TryLower(Node node, LoweringContext ctx) =>
        QConvLowerer.Lower(node, ctx,
            check: w => w.Values.Any(v => !ShiftGemmU8.IsRepresentable(v)) ? $"the weight '{node.Input(1)}' has values that are not powers of two" : null,
            PlanCalls.ShiftConv2d, PlanCalls.ShiftDepthwiseConv2d, "shift (4-bit ±2^p codes → int8 kernel) u8→u8", (w, shape, depthwise, ctx) =>
            {
                if (depthwise)
                {
                    var dw = new byte[ShiftConv2dU8.DepthwisePackedWeightsLength(shape)];
                    ShiftConv2dU8.PackDepthwiseWeights(w.Values, shape, dw);
                    return (ctx.WeightsU8(dw), ShiftConv2dU8.DepthwiseScratchLength(shape));
                }
                var codes = new byte[ShiftConv2dU8.PackedWeightsLength(shape)];
                ShiftConv2dU8.PackWeights(w.Values, shape, codes);
                return (ctx.WeightsU8(codes), ShiftConv2dU8.ScratchLength(shape));
            },
            record: (w, shape, depthwise, bias, multiplier, shift, px, py, ctx) =>
            {
                if (ShiftRecordForm.Requantisation(w, 1, px, py, multiplier, shift) is not { } r) return null;
                int biasBytes = ShiftRecordForm.BiasBytes(bias);
                return new QConvLowerer.RecordStep(depthwise ? PlanCalls.ShiftDepthwiseConv2dRecord : PlanCalls.ShiftConv2dRecord,
                    $"shift ({ShiftRecordForm.Describe(biasBytes)}, a scale code per channel; prepared on the first run for the int8 kernel) u8→u8",
                    ctx.WeightsU8Unaligned(ShiftRecordForm.Record(w.Values, bias, biasBytes, w.ScaleCodes!)),
                    ctx.PersistentBytes(ShiftConv2dU8.PreparedLength(shape, depthwise)),
                    depthwise ? QDepthwiseConv2dU8S8.ScratchLength(shape) : QConv2dU8S8.ScratchLength(shape), r.Multiplier, r.Shift, biasBytes);
            });
}
