using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering.Quantized;

/// <summary>
/// Dynamic int8 Gemm/MatMul (<c>Quantize="Int8Dynamic"</c>, ONNX Runtime's MatMulInteger idea): s8 weights per output
/// channel packed at build time, the fp32 input quantised per call over its own range inside
/// <c>QGemmU8S8.GemvDynamic</c> (scratch: k bytes of arena), the s32 result dequantised with the input's and the
/// weights' scales, bias and activation in fp32. Activations stay fp32 between nodes; several rows run one call each.
/// </summary>
internal sealed class DynamicGemmLowerer(string opType) : IQuantizedOpLowerer
{
    /// <summary>Rows above this fall back to fp32 (one call per row: the plan would grow with m).</summary>
    public const int MaxRows = 64;

    public string OpType => opType;

    public NodePrecision Precision => NodePrecision.Int8Dynamic;

    public IReadOnlyList<string> Calls => [PlanCalls.QGemvDynamic];

    public string Notes => $"as int8 {opType}; fp32 in and out; one call per row, at most {MaxRows} rows";

    public string? TryLower(Node node, LoweringContext ctx)
    {
        if (LinearForm.Resolve(node, ctx, out string? reason) is not { } f) return reason;
        if (f.M > MaxRows) return $"{f.M} rows (at most {MaxRows} run dynamically)";
        if (QuantizedLowering.Weight(ctx, f.B, (long)f.K * f.N, f.ChannelAxis, f.N, out reason) is not { } w) return reason;

        var packed = new sbyte[QGemmU8S8.PackedLength(f.K, f.N)];
        QGemmU8S8.PackB(w.Values, f.TransB, f.K, f.N, packed);
        var sums = new int[f.N];
        QGemmU8S8.ColumnSums(w.Values, f.TransB, f.K, f.N, sums);
        var packedArg = ctx.WeightsI8(packed);
        var sumsArg = ctx.WeightsI32(sums);
        var scales = ctx.Weights(QuantizedLowering.ChannelScales(w, f.N, f.Alpha).Select(s => (float)s).ToArray());
        LoweredArg bias = f.Bias is null ? PlanArg.Empty : ctx.Weights(f.Bias);
        var scratch = ctx.ScratchBytes(f.K);
        for (int r = 0; r < f.M; r++)
        {
            string comment = $"{opType} {f.K}→{f.N} int8 dynamic (x quantised per call) u8×s8→f32{f.BiasNote}" + (f.M > 1 ? $", row {r + 1} of {f.M}" : "");
            ctx.Emit(node, PlanCalls.QGemvDynamic, comment, ctx.Read(f.A, r * f.K, f.K), scratch, packedArg, sumsArg, scales, bias,
                ctx.Write(f.Y, r * f.N, f.N), PlanArg.Int(f.K), PlanArg.Int(f.N), ctx.FusedActivation(node));
        }
        return null;
    }
}
