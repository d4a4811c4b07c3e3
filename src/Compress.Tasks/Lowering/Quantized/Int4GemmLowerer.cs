using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// Weight-only int4 Gemm/MatMul (<c>Quantize="Int4"</c>, the MatMulNBits idea): the weights as 4-bit codes with one
/// fp32 scale per output column per block of k (the passes' <see cref="QuantizedWeight.BlockSize"/>), packed at build
/// time by <see cref="GemmF32I4.Pack"/> from the dequantised weights (which reproduces the passes' codes exactly);
/// activations, bias and activation fp32. Several rows run one <c>GemmF32I4.Gemv</c> each.
/// </summary>
internal sealed class Int4GemmLowerer(string opType) : IQuantizedOpLowerer
{
    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Int4;

    public IReadOnlyList<string> Calls => [PlanCalls.GemvI4];

    public string Notes => $"as int8 {opType}; fp32 activations; one call per row, at most {DynamicGemmLowerer.MaxRows} rows";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (LinearForm.Resolve(node, ctx, out string? reason) is not { } f) return reason;
        if (f.M > DynamicGemmLowerer.MaxRows) return $"{f.M} rows (at most {DynamicGemmLowerer.MaxRows} run as int4)";
        if (ctx.Quantization?.Weights.GetValueOrDefault(f.B) is not { Bits: 4, BlockSize: > 0 } w)
            return $"the quantisation result has no int4 weight '{f.B}'";
        if (w.ChannelAxis != f.ChannelAxis || w.Values.LongLength != (long)f.K * f.N)
            return $"the int4 weight '{f.B}' does not match the op's layout";

        float[] real = w.Dequantize();
        if (f.Alpha != 1f) for (int i = 0; i < real.Length; i++) real[i] *= f.Alpha;
        var nibbles = new byte[GemmF32I4.PackedLength(f.K, f.N, w.BlockSize)];
        var scales = new float[GemmF32I4.ScalesLength(f.K, f.N, w.BlockSize)];
        GemmF32I4.Pack(real, f.TransB, f.K, f.N, w.BlockSize, nibbles, scales);
        var nibblesArg = ctx.WeightsU8(nibbles);
        var scalesArg = ctx.Weights(scales);
        LoweredArg bias = f.Bias is null ? PlanArg.Empty : ctx.Weights(f.Bias);
        for (int r = 0; r < f.M; r++)
        {
            string comment = $"{opType} {f.K}→{f.N} int4 weights (blocks of {w.BlockSize}) ×f32→f32{f.BiasNote}" + (f.M > 1 ? $", row {r + 1} of {f.M}" : "");
            ctx.Emit(node, PlanCalls.GemvI4, comment, ctx.Read(f.A, r * f.K, f.K), nibblesArg, scalesArg, bias,
                ctx.Write(f.Y, r * f.N, f.N), PlanArg.Int(f.K), PlanArg.Int(f.N), PlanArg.Int(w.BlockSize), ctx.FusedActivation(node));
        }
        return null;
    }
}
