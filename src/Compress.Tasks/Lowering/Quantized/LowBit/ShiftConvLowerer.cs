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
            });
}
