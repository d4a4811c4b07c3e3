using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering.Ops;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// MaxPool, GlobalMaxPool and GlobalAveragePool on a u8 input with <see cref="PoolU8"/>: the output keeps the input's
/// scale and zero point (max commutes with the monotonic dequantisation; the mean is rounded to the nearest step), so
/// no requantisation and no extra parameters. Runs only when the input already is u8 (an int8 producer or alias).
/// </summary>
internal sealed class QPoolLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Int8;

    public IReadOnlyList<string> Calls => opType == "GlobalAveragePool" ? [PlanCalls.GlobalAveragePoolU8] : [PlanCalls.MaxPoolU8];

    public string Notes => "on u8 when the input is u8 (scale and zero point unchanged); as fp32 otherwise";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        if (!ctx.HasU8(x)) return $"input '{x}' is not u8";
        if (ctx.HasF32(x) && !ctx.U8Demand.Contains(y)) return $"input '{x}' is also f32 and no int8 node reads the output";
        if (ctx.FusedActivationOf(node) is { Kind: not Runtime.ActivationKind.None } a) return $"a fused {Activations.Describe(a)}";
        switch (opType)
        {
            case "MaxPool":
            {
                ctx.RequireOnlyFirstOutput(node);
                var (shape, win) = PoolShapes.Resolve(node, ctx);
                var xArg = ctx.ReadU8(x, out var p);
                ctx.Emit(node, PlanCalls.MaxPoolU8, $"MaxPool {win.Describe()} on u8", xArg, ctx.WriteU8(y, p), StructArgs.Pool(shape));
                break;
            }
            case "GlobalMaxPool":
            {
                var (shape, what) = GlobalMaxPoolLowerer.Resolve(node, ctx);
                var xArg = ctx.ReadU8(x, out var p);
                ctx.Emit(node, PlanCalls.MaxPoolU8, what + " on u8", xArg, ctx.WriteU8(y, p), StructArgs.Pool(shape));
                break;
            }
            default:
            {
                var (planes, planeSize, what) = GlobalAveragePoolLowerer.Resolve(node, ctx);
                var xArg = ctx.ReadU8(x, out var p);
                ctx.Emit(node, PlanCalls.GlobalAveragePoolU8, what + " on u8", xArg, ctx.WriteU8(y, p), PlanArg.Int(planes), PlanArg.Int(planeSize));
                break;
            }
        }
        return null;
    }
}
