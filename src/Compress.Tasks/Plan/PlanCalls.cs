using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Tasks.Plan;

/// <summary>
/// The <c>call</c> names a plan can contain, relative to the <c>Compress.Runtime</c> namespace (docs/runtime-kernels.md).
/// Built with <c>nameof</c> so a renamed kernel breaks the build here rather than the generated code. The lowering
/// emits only these; <see cref="Validation.PlanInterpreter"/> has an entry for each.
/// </summary>
public static class PlanCalls
{
    public const string Gemv = $"Kernels.{nameof(GemmF32)}.{nameof(GemmF32.Gemv)}";
    public const string Gemm = $"Kernels.{nameof(GemmF32)}.{nameof(GemmF32.Gemm)}";
    public const string Conv2d = $"Kernels.{nameof(Conv2dF32)}.{nameof(Conv2dF32.Run)}";
    public const string DepthwiseConv2d = $"Kernels.{nameof(DepthwiseConv2dF32)}.{nameof(DepthwiseConv2dF32.Run)}";
    public const string WinogradConv2d = $"Kernels.{nameof(WinogradConv2dF32)}.{nameof(WinogradConv2dF32.Run)}";
    public const string SparseGemv = $"Kernels.{nameof(SparseGemmF32)}.{nameof(SparseGemmF32.Gemv)}";
    public const string SparseGemm = $"Kernels.{nameof(SparseGemmF32)}.{nameof(SparseGemmF32.Gemm)}";
    public const string NmGemv = $"Kernels.{nameof(NmGemmF32)}.{nameof(NmGemmF32.Gemv)}";
    public const string NmGemm = $"Kernels.{nameof(NmGemmF32)}.{nameof(NmGemmF32.Gemm)}";
    public const string BlockSparseGemv = $"Kernels.{nameof(BlockSparseGemmF32)}.{nameof(BlockSparseGemmF32.Gemv)}";
    public const string BlockSparseGemm = $"Kernels.{nameof(BlockSparseGemmF32)}.{nameof(BlockSparseGemmF32.Gemm)}";

    /// <summary>The fp32 sparse products a pruned Gemm/MatMul may run (docs/runtime-kernels-sparse.md).</summary>
    public static IReadOnlyList<string> SparseLinear { get; } = [SparseGemv, SparseGemm, NmGemv, NmGemm, BlockSparseGemv, BlockSparseGemm];
    public const string MaxPool = $"Kernels.{nameof(PoolF32)}.{nameof(PoolF32.Max)}";
    public const string AveragePool = $"Kernels.{nameof(PoolF32)}.{nameof(PoolF32.Average)}";
    public const string GlobalAveragePool = $"Kernels.{nameof(PoolF32)}.{nameof(PoolF32.GlobalAverage)}";
    public const string Binary = $"Kernels.{nameof(BinaryF32)}.{nameof(BinaryF32.Run)}";
    public const string Activation = $"Kernels.{nameof(ActivationF32)}.{nameof(ActivationF32.Apply)}";
    public const string Softmax = $"Kernels.{nameof(SoftmaxF32)}.{nameof(SoftmaxF32.Run)}";
    public const string ChannelAffine = $"Kernels.{nameof(ChannelAffineF32)}.{nameof(ChannelAffineF32.Run)}";
    public const string CopyRows = $"Kernels.{nameof(CopyF32)}.{nameof(CopyF32.Rows)}";
    public const string Permute = $"Kernels.{nameof(CopyF32)}.{nameof(CopyF32.Permute)}";
    public const string Unary = $"Kernels.{nameof(UnaryF32)}.{nameof(UnaryF32.Run)}";
    public const string Where = $"Kernels.{nameof(WhereF32)}.{nameof(WhereF32.Run)}";
    public const string Reduce = $"Kernels.{nameof(ReduceF32)}.{nameof(ReduceF32.Run)}";
    public const string GatherAxis = $"Kernels.{nameof(GatherF32)}.{nameof(GatherF32.Axis)}";
    public const string ConvTranspose2d = $"Kernels.{nameof(ConvTranspose2dF32)}.{nameof(ConvTranspose2dF32.Run)}";
    public const string ResizeLinear = $"Kernels.{nameof(ResizeF32)}.{nameof(ResizeF32.LinearAxis)}";
    public const string LayerNorm = $"Kernels.{nameof(LayerNormF32)}.{nameof(LayerNormF32.Run)}";
    public const string BatchedMatMul = $"Kernels.{nameof(BatchedMatMulF32)}.{nameof(BatchedMatMulF32.Run)}";

    /// <summary>Every fp32 call name above (what an fp32 plan can contain).</summary>
    public static IReadOnlyList<string> All { get; } =
        [Gemv, Gemm, Conv2d, DepthwiseConv2d, WinogradConv2d, MaxPool, AveragePool, GlobalAveragePool, Binary, Activation, Softmax, ChannelAffine, CopyRows, Permute, Unary, Where, Reduce, GatherAxis, ResizeLinear, ConvTranspose2d, LayerNorm, BatchedMatMul, SparseGemv, SparseGemm, NmGemv, NmGemm, BlockSparseGemv, BlockSparseGemm];

    // ───────────── quantised kernels (docs/runtime-kernels-int8.md) ─────────────

    /// <summary>f32 → u8 where an fp32 value enters an int8 region: y = clamp(round(x/scale) + zp, 0, 255).</summary>
    public const string Quantize = $"Kernels.{nameof(QuantizeF32)}.{nameof(QuantizeF32.Run)}";
    /// <summary>u8 → f32 where an int8 value feeds an fp32 node or a graph output: y = scale·(x − zp).</summary>
    public const string Dequantize = $"Kernels.{nameof(DequantizeU8)}.{nameof(DequantizeU8.Run)}";
    public const string QGemv = $"Kernels.{nameof(QGemmU8S8)}.{nameof(QGemmU8S8.Gemv)}";
    public const string QGemm = $"Kernels.{nameof(QGemmU8S8)}.{nameof(QGemmU8S8.Gemm)}";
    public const string QGemvToF32 = $"Kernels.{nameof(QGemmU8S8)}.{nameof(QGemmU8S8.GemvToF32)}";
    public const string QGemmToF32 = $"Kernels.{nameof(QGemmU8S8)}.{nameof(QGemmU8S8.GemmToF32)}";
    public const string SparseQGemv = $"Kernels.{nameof(SparseQGemmU8S8)}.{nameof(SparseQGemmU8S8.Gemv)}";
    public const string SparseQGemm = $"Kernels.{nameof(SparseQGemmU8S8)}.{nameof(SparseQGemmU8S8.Gemm)}";
    public const string SparseQGemvToF32 = $"Kernels.{nameof(SparseQGemmU8S8)}.{nameof(SparseQGemmU8S8.GemvToF32)}";
    public const string SparseQGemmToF32 = $"Kernels.{nameof(SparseQGemmU8S8)}.{nameof(SparseQGemmU8S8.GemmToF32)}";
    public const string QGemvDynamic = $"Kernels.{nameof(QGemmU8S8)}.{nameof(QGemmU8S8.GemvDynamic)}";
    public const string QConv2d = $"Kernels.{nameof(QConv2dU8S8)}.{nameof(QConv2dU8S8.Run)}";
    public const string QDepthwiseConv2d = $"Kernels.{nameof(QDepthwiseConv2dU8S8)}.{nameof(QDepthwiseConv2dU8S8.Run)}";
    public const string MaxPoolU8 = $"Kernels.{nameof(PoolU8)}.{nameof(PoolU8.Max)}";
    public const string GlobalAveragePoolU8 = $"Kernels.{nameof(PoolU8)}.{nameof(PoolU8.GlobalAverage)}";
    public const string QBinary = $"Kernels.{nameof(QBinaryU8)}.{nameof(QBinaryU8.Run)}";
    public const string GemvI4 = $"Kernels.{nameof(GemmF32I4)}.{nameof(GemmF32I4.Gemv)}";

    /// <summary>Every int8/int4 and sub-8-bit call name (what a quantised plan can contain besides <see cref="All"/>).</summary>
    public static IReadOnlyList<string> Quantized { get; } =
        [Quantize, Dequantize, QGemv, QGemm, QGemvToF32, QGemmToF32, SparseQGemv, SparseQGemm, SparseQGemvToF32, SparseQGemmToF32, QGemvDynamic, QConv2d, QDepthwiseConv2d, MaxPoolU8, GlobalAveragePoolU8, QBinary, GemvI4,
         ShiftGemv, ShiftGemm, ShiftGemvToF32, ShiftGemmToF32, ShiftConv2d, ShiftDepthwiseConv2d,
         ShiftGemvRecord, ShiftGemvToF32Record, ShiftConv2dRecord, ShiftDepthwiseConv2dRecord, TernaryGemv, BinaryGemv, XnorGemv];

    // ───────────── sub-8-bit kernels (docs/low-bit.md) ─────────────

    public const string ShiftGemv = $"Kernels.{nameof(ShiftGemmU8)}.{nameof(ShiftGemmU8.Gemv)}";
    public const string ShiftGemm = $"Kernels.{nameof(ShiftGemmU8)}.{nameof(ShiftGemmU8.Gemm)}";
    public const string ShiftGemvToF32 = $"Kernels.{nameof(ShiftGemmU8)}.{nameof(ShiftGemmU8.GemvToF32)}";
    public const string ShiftGemmToF32 = $"Kernels.{nameof(ShiftGemmU8)}.{nameof(ShiftGemmU8.GemmToF32)}";
    public const string ShiftConv2d = $"Kernels.{nameof(ShiftConv2dU8)}.{nameof(ShiftConv2dU8.Run)}";
    public const string ShiftDepthwiseConv2d = $"Kernels.{nameof(ShiftConv2dU8)}.{nameof(ShiftConv2dU8.RunDepthwise)}";
    public const string ShiftGemvRecord = $"Kernels.{nameof(ShiftGemmU8)}.{nameof(ShiftGemmU8.GemvRecord)}";
    public const string ShiftGemvToF32Record = $"Kernels.{nameof(ShiftGemmU8)}.{nameof(ShiftGemmU8.GemvToF32Record)}";
    public const string ShiftConv2dRecord = $"Kernels.{nameof(ShiftConv2dU8)}.{nameof(ShiftConv2dU8.RunRecord)}";
    public const string ShiftDepthwiseConv2dRecord = $"Kernels.{nameof(ShiftConv2dU8)}.{nameof(ShiftConv2dU8.RunDepthwiseRecord)}";
    public const string TernaryGemv = $"Kernels.{nameof(TernaryGemmF32)}.{nameof(TernaryGemmF32.Gemv)}";
    public const string BinaryGemv = $"Kernels.{nameof(BinaryGemmF32)}.{nameof(BinaryGemmF32.Gemv)}";
    public const string XnorGemv = $"Kernels.{nameof(XnorGemmF32)}.{nameof(XnorGemmF32.Gemv)}";

    /// <summary>Every sub-8-bit call name above (shift, ternary, binary, fully binary).</summary>
    public static IReadOnlyList<string> LowBit { get; } =
        [ShiftGemv, ShiftGemm, ShiftGemvToF32, ShiftGemmToF32, ShiftConv2d, ShiftDepthwiseConv2d,
         ShiftGemvRecord, ShiftGemvToF32Record, ShiftConv2dRecord, ShiftDepthwiseConv2dRecord, TernaryGemv, BinaryGemv, XnorGemv];

    /// <summary>Names of the <c>new</c> struct types a plan can build.</summary>
    public static class Structs
    {
        public const string FusedActivation = nameof(global::Compress.Runtime.FusedActivation);
        public const string Conv2dShape = nameof(global::Compress.Runtime.Conv2dShape);
        public const string Pool2dShape = nameof(global::Compress.Runtime.Pool2dShape);
        public const string Broadcast4 = nameof(global::Compress.Runtime.Broadcast4);
        public const string Permute6 = nameof(global::Compress.Runtime.Permute6);
        public const string Requant = nameof(global::Compress.Runtime.Requant);
    }
}
