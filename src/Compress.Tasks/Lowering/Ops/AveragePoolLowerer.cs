using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>ONNX AveragePool over NCHW (1-D as height 1): pads, strides, dilations, auto_pad, ceil_mode, count_include_pad.</summary>
internal sealed class AveragePoolLowerer : IOpLowerer
{
    public string OpType => "AveragePool";

    public IReadOnlyList<string> Calls => [PlanCalls.AveragePool];

    public string Notes => "1-D and 2-D; pads, strides, dilations, auto_pad, ceil_mode, count_include_pad";

    public void Lower(Node node, LoweringContext ctx)
    {
        var (shape, win) = PoolShapes.Resolve(node, ctx);
        bool includePad = node.GetInt("count_include_pad", 0) != 0;
        if (!includePad)
        {
            ctx.Emit(node, PlanCalls.AveragePool, $"AveragePool {win.Describe()}",
                ctx.Read(node.Input(0)), ctx.Write(node.Output0), StructArgs.Pool(shape), PlanArg.Bool(false));
            return;
        }
        // Counting pads, the divisor depends on the declared bottom/right pads (a ceil_mode window can overhang them),
        // so they are passed explicitly.
        ctx.Emit(node, PlanCalls.AveragePool, $"AveragePool {win.Describe()} counting pads",
            ctx.Read(node.Input(0)), ctx.Write(node.Output0), StructArgs.Pool(shape), PlanArg.Bool(true),
            PlanArg.Int(win.PadBottom), PlanArg.Int(win.PadRight));
    }
}
