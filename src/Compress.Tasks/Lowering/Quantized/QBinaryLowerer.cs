using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// Add, Sub and Mul in the quantised domain (<c>QBinaryU8.Run</c>): both operands u8 with their own scale and zero
/// point, the output requantised to its calibrated parameters, a fused Relu/Clip as the clamp. A constant operand is
/// quantised at build time over its own range and read from the weights as u8.
/// </summary>
internal sealed class QBinaryLowerer(string opType, BinaryOp op) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Int8;

    public IReadOnlyList<string> Calls => [PlanCalls.QBinary];

    public string Notes => "two inputs with numpy broadcasting; the output calibrated; a fused activation only Relu or Clip";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        var inputs = node.Inputs.Where(i => i.Length > 0).ToArray();
        string y = node.Output0;
        if (inputs.Length != 2) return $"{inputs.Length} inputs";
        foreach (string v in inputs)
        {
            if (ctx.IsConstant(v)) { if (ctx.Constant(v)!.Type != DataType.Float) return $"constant '{v}' is not float32"; }
            else if (!ctx.CanReadU8(v)) return $"input '{v}' has no int8 parameters";
        }
        if (ctx.ActivationParams(y) is not { } py) return $"output '{y}' has no int8 parameters";
        var act = ctx.FusedActivationOf(node);
        if (QuantizedLowering.Requant(py, act) is not { } rq) return $"the fused {Activations.Describe(act!.Value)} is not a clamp";
        long[] aDims = ctx.Dims(inputs[0]), bDims = ctx.Dims(inputs[1]), yDims = ctx.Dims(y);
        Broadcast4 b4;
        try
        {
            b4 = Broadcast4.Create(yDims, aDims, bDims);
        }
        catch (ArgumentException)
        {
            return "the broadcast has no kernel";
        }

        (LoweredArg Arg, QuantParams Params) Operand(string v)
        {
            if (!ctx.IsConstant(v)) return (ctx.ReadU8(v, out var p), p);
            var (values, cp) = QuantizedLowering.QuantizeConstant(ctx.Constant(v)!.Floats);
            return (ctx.WeightsU8(values), cp);
        }
        var (a, pa) = Operand(inputs[0]);
        var (b, pb) = Operand(inputs[1]);
        ctx.TakeFusedActivation(node);
        string Describe(string v, long[] d) => (ctx.IsConstant(v) ? "const " : "") + LoweringContext.Format(d);
        ctx.Emit(node, PlanCalls.QBinary, $"{opType} {Describe(inputs[0], aDims)}, {Describe(inputs[1], bDims)} int8 u8→u8{QuantizedLowering.ClampNote(act)}",
            PlanArg.Enum(op), a, b, ctx.WriteU8(y, py), StructArgs.Broadcast(b4),
            PlanArg.Float(pa.Scale), PlanArg.Int(pa.ZeroPoint), PlanArg.Float(pb.Scale), PlanArg.Int(pb.ZeroPoint),
            PlanArg.Float(py.Scale), PlanArg.Int(py.ZeroPoint), PlanArg.Int(rq.Min), PlanArg.Int(rq.Max));
        return null;
    }
}
