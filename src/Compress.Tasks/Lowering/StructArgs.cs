using Compress.Runtime;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering;

/// <summary>
/// <c>new</c> plan arguments for the <c>Compress.Runtime</c> parameter structs, their fields in positional
/// constructor order (what the generator emits as <c>new global::Compress.Runtime.T(…)</c>).
/// </summary>
internal static class StructArgs
{
    public static NewArg Activation(FusedActivation a) =>
        PlanArg.New(PlanCalls.Structs.FusedActivation, PlanArg.Enum(a.Kind), PlanArg.Float(a.Alpha), PlanArg.Float(a.Beta));

    public static NewArg Conv(in Conv2dShape s) => Ints(PlanCalls.Structs.Conv2dShape,
        s.Batch, s.InChannels, s.InHeight, s.InWidth, s.OutChannels, s.OutHeight, s.OutWidth, s.KernelHeight, s.KernelWidth,
        s.StrideHeight, s.StrideWidth, s.PadTop, s.PadLeft, s.DilationHeight, s.DilationWidth, s.Groups);

    public static NewArg Pool(in Pool2dShape s) => Ints(PlanCalls.Structs.Pool2dShape,
        s.Batch, s.Channels, s.InHeight, s.InWidth, s.OutHeight, s.OutWidth, s.KernelHeight, s.KernelWidth,
        s.StrideHeight, s.StrideWidth, s.PadTop, s.PadLeft, s.DilationHeight, s.DilationWidth);

    public static NewArg Broadcast(in Broadcast4 b) => Ints(PlanCalls.Structs.Broadcast4,
        b.D0, b.D1, b.D2, b.D3, b.A0, b.A1, b.A2, b.A3, b.B0, b.B1, b.B2, b.B3);

    public static NewArg Permute(in Permute6 p) => Ints(PlanCalls.Structs.Permute6,
        p.D0, p.D1, p.D2, p.D3, p.D4, p.D5, p.S0, p.S1, p.S2, p.S3, p.S4, p.S5);

    static NewArg Ints(string type, params int[] values) => PlanArg.New(type, values.Select(v => (PlanArg)PlanArg.Int(v)).ToArray());
}
