using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>ONNX GlobalAveragePool: the mean of each N·C plane over all spatial dims.</summary>
internal sealed class GlobalAveragePoolLowerer : IOpLowerer
{
    public string OpType => "GlobalAveragePool";

    public IReadOnlyList<string> Calls => [PlanCalls.GlobalAveragePool];

    public string Notes => "any number of spatial dims";

    public void Lower(Node node, LoweringContext ctx)
    {
        var (planes, planeSize, what) = Resolve(node, ctx);
        ctx.Emit(node, PlanCalls.GlobalAveragePool, what,
            ctx.Read(node.Input(0)), ctx.Write(node.Output0), PlanArg.Int(planes), PlanArg.Int(planeSize));
    }

    /// <summary>Planes (N·C), elements per plane, and "GlobalAveragePool 8 channels of 16".</summary>
    internal static (int Planes, int PlaneSize, string Description) Resolve(Node node, LoweringContext ctx)
    {
        long[] x = ctx.Dims(node.Input(0));
        if (x.Length < 2) throw ctx.Unsupported(node, $"X must be [N, C, …], it is {LoweringContext.Format(x)}");
        int planes = LoweringContext.ToInt(x[0] * x[1]);
        int planeSize = LoweringContext.ToInt(x[2..].Aggregate(1L, (p, d) => p * d));
        return (planes, planeSize, $"GlobalAveragePool {x[1]} channels of {planeSize}");
    }
}
