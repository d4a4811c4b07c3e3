using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>ONNX GlobalMaxPool: a MaxPool whose window is the whole (1-D or 2-D) plane.</summary>
internal sealed class GlobalMaxPoolLowerer : IOpLowerer
{
    public string OpType => "GlobalMaxPool";

    public IReadOnlyList<string> Calls => [PlanCalls.MaxPool];

    public string Notes => "1-D and 2-D";

    public void Lower(Node node, LoweringContext ctx)
    {
        var (shape, what) = Resolve(node, ctx);
        ctx.Emit(node, PlanCalls.MaxPool, what, ctx.Read(node.Input(0)), ctx.Write(node.Output0), StructArgs.Pool(shape));
    }

    /// <summary>The pool as a MaxPool whose window is the plane, and "GlobalMaxPool 8 channels of 4×4".</summary>
    internal static (Pool2dShape Shape, string Description) Resolve(Node node, LoweringContext ctx)
    {
        long[] x = ctx.Dims(node.Input(0));
        if (x.Length is not (3 or 4)) throw ctx.Unsupported(node, $"only [N, C, (H,) W] inputs are supported, X is {LoweringContext.Format(x)}");
        int h = x.Length == 4 ? LoweringContext.ToInt(x[2]) : 1, w = LoweringContext.ToInt(x[^1]);
        var shape = new Pool2dShape(LoweringContext.ToInt(x[0]), LoweringContext.ToInt(x[1]), h, w, 1, 1, h, w, 1, 1, 0, 0, 1, 1);
        return (shape, $"GlobalMaxPool {x[1]} channels of {h}×{w}");
    }
}
