using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>ONNX MaxPool over NCHW (1-D as height 1): pads, strides, dilations, auto_pad, ceil_mode; no Indices output.</summary>
internal sealed class MaxPoolLowerer : IOpLowerer
{
    public string OpType => "MaxPool";

    public IReadOnlyList<string> Calls => [PlanCalls.MaxPool];

    public string Notes => "1-D and 2-D; pads, strides, dilations, auto_pad, ceil_mode; the Indices output unused";

    public void Lower(Node node, LoweringContext ctx)
    {
        ctx.RequireOnlyFirstOutput(node);
        var (shape, win) = PoolShapes.Resolve(node, ctx);
        ctx.Emit(node, PlanCalls.MaxPool, $"MaxPool {win.Describe()}",
            ctx.Read(node.Input(0)), ctx.Write(node.Output0), StructArgs.Pool(shape));
    }
}

/// <summary>Pool2dShape for MaxPool/AveragePool from the node's attributes.</summary>
internal static class PoolShapes
{
    public static (Pool2dShape Shape, Window2d Window) Resolve(Node node, LoweringContext ctx)
    {
        long[] x = ctx.Dims(node.Input(0)), y = ctx.Dims(node.Output0);
        long[] kernel = node.GetInts("kernel_shape") ?? throw ctx.Unsupported(node, "kernel_shape is missing");
        var win = Window2d.Resolve(node, ctx, x, kernel, y, ceilModeAllowed: true);
        var shape = new Pool2dShape(LoweringContext.ToInt(x[0]), LoweringContext.ToInt(x[1]), win.InHeight, win.InWidth,
            win.OutHeight, win.OutWidth, win.KernelHeight, win.KernelWidth, win.StrideHeight, win.StrideWidth,
            win.PadTop, win.PadLeft, win.DilationHeight, win.DilationWidth);
        return (shape, win);
    }
}
