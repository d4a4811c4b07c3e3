using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

public sealed partial class PlanInterpreter
{
    /// <summary>
    /// The dispatch entries of the sub-8-bit kernels (docs/low-bit.md): shift (u8 activations, 4-bit codes as <c>ru8</c>
    /// weights), weight-only ternary and binary, fully binary. Same signature language as the other tables.
    /// </summary>
    static IEnumerable<KeyValuePair<string, Entry[]>> LowBitEntries => new Dictionary<string, Entry[]>
    {
        [PlanCalls.ShiftGemv] = [new("ru8 ru8 ri32 ri32 ri32 wu8 int int Requant",
            f => ShiftGemmU8.Gemv(f.RU8(0), f.RU8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.Int(6), f.Int(7), f.Value<Requant>(8)))],
        [PlanCalls.ShiftGemm] = [new("ru8 ru8 ri32 ri32 ri32 wu8 int int int Requant",
            f => ShiftGemmU8.Gemm(f.RU8(0), f.RU8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.Int(6), f.Int(7), f.Int(8), f.Value<Requant>(9)))],
        [PlanCalls.ShiftGemvToF32] = [new("ru8 ru8 ri32 r w int int FusedActivation",
            f => ShiftGemmU8.GemvToF32(f.RU8(0), f.RU8(1), f.RI32(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Value<FusedActivation>(7)))],
        [PlanCalls.ShiftGemmToF32] = [new("ru8 ru8 ri32 r w int int int FusedActivation",
            f => ShiftGemmU8.GemmToF32(f.RU8(0), f.RU8(1), f.RI32(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Int(7), f.Value<FusedActivation>(8)))],
        [PlanCalls.ShiftConv2d] = [new("ru8 ru8 ri32 ri32 ri32 wu8 wu8 Conv2dShape int Requant",
            f => ShiftConv2dU8.Run(f.RU8(0), f.RU8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.WU8(6), f.Value<Conv2dShape>(7), f.Int(8), f.Value<Requant>(9)))],
        [PlanCalls.ShiftDepthwiseConv2d] = [new("ru8 ru8 ri32 ri32 ri32 wu8 wu8 Conv2dShape int Requant",
            f => ShiftConv2dU8.RunDepthwise(f.RU8(0), f.RU8(1), f.RI32(2), f.RI32(3), f.RI32(4), f.WU8(5), f.WU8(6), f.Value<Conv2dShape>(7), f.Int(8), f.Value<Requant>(9)))],
        [PlanCalls.ShiftGemvRecord] = [new("ru8 ru8 wu8 wu8 int int Requant int int int bool",
            f => ShiftGemmU8.GemvRecord(f.RU8(0), f.RU8(1), f.WU8(2), f.WU8(3), f.Int(4), f.Int(5), f.Value<Requant>(6), f.Int(7), f.Int(8), f.Int(9), f.Bool(10)))],
        [PlanCalls.ShiftGemvToF32Record] = [new("ru8 ru8 wu8 w int int FusedActivation float int bool",
            f => ShiftGemmU8.GemvToF32Record(f.RU8(0), f.RU8(1), f.WU8(2), f.W(3), f.Int(4), f.Int(5), f.Value<FusedActivation>(6), f.Float(7), f.Int(8), f.Bool(9)))],
        [PlanCalls.ShiftConv2dRecord] = [new("ru8 ru8 wu8 wu8 wu8 Conv2dShape int Requant int int int",
            f => ShiftConv2dU8.RunRecord(f.RU8(0), f.RU8(1), f.WU8(2), f.WU8(3), f.WU8(4), f.Value<Conv2dShape>(5), f.Int(6), f.Value<Requant>(7), f.Int(8), f.Int(9), f.Int(10)))],
        [PlanCalls.ShiftDepthwiseConv2dRecord] = [new("ru8 ru8 wu8 wu8 wu8 Conv2dShape int Requant int int int",
            f => ShiftConv2dU8.RunDepthwiseRecord(f.RU8(0), f.RU8(1), f.WU8(2), f.WU8(3), f.WU8(4), f.Value<Conv2dShape>(5), f.Int(6), f.Value<Requant>(7), f.Int(8), f.Int(9), f.Int(10)))],
        [PlanCalls.TernaryGemv] = [new("r ru8 r r r w w int int FusedActivation",
            f => TernaryGemmF32.Gemv(f.R(0), f.RU8(1), f.R(2), f.R(3), f.R(4), f.W(5), f.W(6), f.Int(7), f.Int(8), f.Value<FusedActivation>(9)))],
        [PlanCalls.BinaryGemv] = [new("r ru8 r r w w int int FusedActivation",
            f => BinaryGemmF32.Gemv(f.R(0), f.RU8(1), f.R(2), f.R(3), f.W(4), f.W(5), f.Int(6), f.Int(7), f.Value<FusedActivation>(8)))],
        [PlanCalls.XnorGemv] = [new("r ru8 r ri32 r w wu8 int int FusedActivation",
            f => XnorGemmF32.Gemv(f.R(0), f.RU8(1), f.R(2), f.RI32(3), f.R(4), f.W(5), f.WU8(6), f.Int(7), f.Int(8), f.Value<FusedActivation>(9)))],
    };
}
