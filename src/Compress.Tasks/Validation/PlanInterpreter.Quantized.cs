using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

public sealed partial class PlanInterpreter
{
    /// <summary>
    /// The dispatch entries of the int8/int4 kernels (docs/runtime-kernels-int8.md), in the same signature language as
    /// the fp32 table; typed spans (<c>ru8</c>, <c>wu8</c>, <c>ri8</c>, <c>ri32</c>) are views of the float arena and
    /// of the weights blob, exactly as the generated code slices <c>arenaU8</c> and <c>weightsI8</c>.
    /// A property, not a field, so the fp32 table's initialiser can read it whatever the order of static initialisation.
    /// </summary>
    static IEnumerable<KeyValuePair<string, Entry[]>> QuantizedEntries => new Dictionary<string, Entry[]>
    {
        [PlanCalls.Quantize] = [new("r wu8 float int",
            f => QuantizeF32.Run(f.R(0), f.WU8(1), f.Float(2), f.Int(3)))],
        [PlanCalls.Dequantize] = [new("ru8 w float int",
            f => DequantizeU8.Run(f.RU8(0), f.W(1), f.Float(2), f.Int(3)))],
        [PlanCalls.QGemv] = [new("ru8 ri8 ri32 ri32 ri32 wu8 int int Requant",
            f => QGemmU8S8.Gemv(f.RU8(0), f.RI8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.Int(6), f.Int(7), f.Value<Requant>(8)))],
        [PlanCalls.QGemm] = [new("ru8 ri8 ri32 ri32 ri32 wu8 int int int Requant",
            f => QGemmU8S8.Gemm(f.RU8(0), f.RI8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.Int(6), f.Int(7), f.Int(8), f.Value<Requant>(9)))],
        [PlanCalls.QGemvToF32] = [new("ru8 ri8 ri32 r w int int FusedActivation",
            f => QGemmU8S8.GemvToF32(f.RU8(0), f.RI8(1), f.RI32(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Value<FusedActivation>(7)))],
        [PlanCalls.QGemmToF32] = [new("ru8 ri8 ri32 r w int int int FusedActivation",
            f => QGemmU8S8.GemmToF32(f.RU8(0), f.RI8(1), f.RI32(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Int(7), f.Value<FusedActivation>(8)))],
        [PlanCalls.SparseQGemv] = [new("ru8 ri8 ru16 ri32 ri32 ri32 ri32 wu8 int int Requant",
            f => SparseQGemmU8S8.Gemv(f.RU8(0), f.RI8(1), f.RU16(2), f.RI32(3), f.RI32(4), f.RI32(5), f.RI32(6), f.WU8(7), f.Int(8), f.Int(9), f.Value<Requant>(10)))],
        [PlanCalls.SparseQGemm] = [new("ru8 ri8 ru16 ri32 ri32 ri32 ri32 wu8 int int int Requant",
            f => SparseQGemmU8S8.Gemm(f.RU8(0), f.RI8(1), f.RU16(2), f.RI32(3), f.RI32(4), f.RI32(5), f.RI32(6), f.WU8(7), f.Int(8), f.Int(9), f.Int(10), f.Value<Requant>(11)))],
        [PlanCalls.SparseQGemvToF32] = [new("ru8 ri8 ru16 ri32 ri32 r w int int FusedActivation",
            f => SparseQGemmU8S8.GemvToF32(f.RU8(0), f.RI8(1), f.RU16(2), f.RI32(3), f.RI32(4), f.R(5), f.W(6), f.Int(7), f.Int(8), f.Value<FusedActivation>(9)))],
        [PlanCalls.SparseQGemmToF32] = [new("ru8 ri8 ru16 ri32 ri32 r w int int int FusedActivation",
            f => SparseQGemmU8S8.GemmToF32(f.RU8(0), f.RI8(1), f.RU16(2), f.RI32(3), f.RI32(4), f.R(5), f.W(6), f.Int(7), f.Int(8), f.Int(9), f.Value<FusedActivation>(10)))],
        [PlanCalls.QGemvDynamic] = [new("r wu8 ri8 ri32 r r w int int FusedActivation",
            f => QGemmU8S8.GemvDynamic(f.R(0), f.WU8(1), f.RI8(2), f.RI32(3), f.R(4), f.R(5), f.W(6), f.Int(7), f.Int(8), f.Value<FusedActivation>(9)))],
        [PlanCalls.QConv2d] = [new("ru8 ri8 ri32 ri32 ri32 wu8 wu8 Conv2dShape int Requant",
            f => QConv2dU8S8.Run(f.RU8(0), f.RI8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.WU8(6), f.Value<Conv2dShape>(7), f.Int(8), f.Value<Requant>(9)))],
        [PlanCalls.QDepthwiseConv2d] = [new("ru8 ri8 ri32 ri32 ri32 wu8 wu8 Conv2dShape int Requant",
            f => QDepthwiseConv2dU8S8.Run(f.RU8(0), f.RI8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.WU8(6), f.Value<Conv2dShape>(7), f.Int(8), f.Value<Requant>(9)))],
        [PlanCalls.MaxPoolU8] = [new("ru8 wu8 Pool2dShape",
            f => PoolU8.Max(f.RU8(0), f.WU8(1), f.Value<Pool2dShape>(2)))],
        [PlanCalls.GlobalAveragePoolU8] = [new("ru8 wu8 int int",
            f => PoolU8.GlobalAverage(f.RU8(0), f.WU8(1), f.Int(2), f.Int(3)))],
        [PlanCalls.QBinary] = [new("BinaryOp ru8 ru8 wu8 Broadcast4 float int float int float int int int",
            f => QBinaryU8.Run(f.Value<BinaryOp>(0), f.RU8(1), f.RU8(2), f.WU8(3), f.Value<Broadcast4>(4),
                f.Float(5), f.Int(6), f.Float(7), f.Int(8), f.Float(9), f.Int(10), f.Int(11), f.Int(12)))],
        [PlanCalls.GemvI4] = [new("r ru8 r r w int int int FusedActivation",
            f => GemmF32I4.Gemv(f.R(0), f.RU8(1), f.R(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Int(7), f.Value<FusedActivation>(8)))],
    };
}
