using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Where: output = condition ? X : Y with numpy broadcasting. The condition must be a constant (float models
/// carry masks as initializers; there is no kernel computing a Bool tensor): it is broadcast to the output shape at
/// build time and stored as one byte per element; X and Y broadcast at run time through <see cref="Broadcast4"/>.
/// </summary>
internal sealed class WhereLowerer : IOpLowerer
{
    public string OpType => "Where";

    public IReadOnlyList<string> Calls => [PlanCalls.Where];

    public IReadOnlyList<OpInput> ConstantInputs => [new(0, "condition")];

    public string Notes => "condition constant (stored broadcast to the output, one byte per element); X and Y numpy-broadcast (at most 4 dims after collapsing)";

    public void Lower(Node node, LoweringContext ctx)
    {
        string c = node.Input(0), x = node.Input(1), y = node.Input(2), output = node.Output0;
        var condition = ctx.Constant(c) ?? throw ctx.Unsupported(node,
            $"its condition ('{c}') is computed at run time; only a constant (an initializer) is supported there");
        long[] outDims = ctx.Dims(output), xDims = ctx.Dims(x), yDims = ctx.Dims(y);
        double[] values = TensorData.ToDoubles(condition);
        long[] source = TensorData.BroadcastIndices(condition.Dims, outDims);
        var mask = new byte[source.Length];
        for (int i = 0; i < mask.Length; i++) mask[i] = values[source[i]] != 0 ? (byte)1 : (byte)0;
        Broadcast4 xy;
        try
        {
            xy = Broadcast4.Create(outDims, xDims, yDims);
        }
        catch (ArgumentException e)
        {
            throw ctx.Unsupported(node, $"X {LoweringContext.Format(xDims)} and Y {LoweringContext.Format(yDims)} → {LoweringContext.Format(outDims)} cannot run: {e.Message}");
        }
        ctx.Emit(node, PlanCalls.Where, $"Where const {LoweringContext.Format(condition.Dims.ToArray())} ? {LoweringContext.Format(xDims)} : {LoweringContext.Format(yDims)}",
            ctx.WeightsU8(mask), ctx.Read(x), ctx.Read(y), ctx.Write(output), StructArgs.Broadcast(xy));
    }
}
