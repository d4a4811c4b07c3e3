using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Pow: Z = X^Y with numpy broadcasting on <c>BinaryF32.Run</c> (<see cref="BinaryOp.Pow"/>). A constant exponent
/// of any numeric type is stored as float32 (exact for the integers models use); the constant scalar exponent 2 becomes
/// X·X (a vectorised Mul, the same correctly rounded value as pow(x, 2)).
/// </summary>
internal sealed class PowLowerer : IOpLowerer
{
    public string OpType => "Pow";

    public IReadOnlyList<string> Calls => [PlanCalls.Binary];

    public string Notes => "numpy broadcasting (at most 4 dims after collapsing); a constant exponent of any numeric type; Pow(x, 2) runs as x·x";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Input(1), z = node.Output0;
        long[] xDims = ctx.Dims(x), yDims = ctx.Dims(y), zDims = ctx.Dims(z);
        LoweredArg exponent;
        if (ctx.Constant(y) is { } constant)
        {
            float[] values = constant.Type == DataType.Float ? constant.Floats : TensorData.ToDoubles(constant).Select(v => (float)v).ToArray();
            if (values is [2f] && zDims.SequenceEqual(xDims))
            {
                ctx.Emit(node, PlanCalls.Binary, $"Pow {LoweringContext.Format(xDims)} ^ 2 as x·x",
                    PlanArg.Enum(BinaryOp.Mul), ctx.Read(x), ctx.Read(x), ctx.Write(z),
                    StructArgs.Broadcast(Broadcast4.Create(xDims, xDims, xDims)), ctx.FusedActivation(node));
                return;
            }
            exponent = ctx.Weights(values);
        }
        else
        {
            var type = ctx.Graph.Value(y)?.Type ?? DataType.Undefined;
            if (type != DataType.Float) throw ctx.Unsupported(node, $"its exponent ('{y}') is {type} computed at run time; only float32 is supported");
            exponent = ctx.Read(y);
        }
        Broadcast4 b4;
        try
        {
            b4 = Broadcast4.Create(zDims, xDims, yDims);
        }
        catch (ArgumentException e)
        {
            throw ctx.Unsupported(node, $"the broadcast {LoweringContext.Format(xDims)} ^ {LoweringContext.Format(yDims)} → {LoweringContext.Format(zDims)} cannot run: {e.Message}");
        }
        ctx.Emit(node, PlanCalls.Binary, $"Pow {LoweringContext.Format(xDims)} ^ {(ctx.IsConstant(y) ? "const " : "")}{LoweringContext.Format(yDims)}",
            PlanArg.Enum(BinaryOp.Pow), ctx.Read(x), exponent, ctx.Write(z), StructArgs.Broadcast(b4), ctx.FusedActivation(node));
    }
}
