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
    public const string MaxPool = $"Kernels.{nameof(PoolF32)}.{nameof(PoolF32.Max)}";
    public const string AveragePool = $"Kernels.{nameof(PoolF32)}.{nameof(PoolF32.Average)}";
    public const string GlobalAveragePool = $"Kernels.{nameof(PoolF32)}.{nameof(PoolF32.GlobalAverage)}";
    public const string Binary = $"Kernels.{nameof(BinaryF32)}.{nameof(BinaryF32.Run)}";
    public const string Activation = $"Kernels.{nameof(ActivationF32)}.{nameof(ActivationF32.Apply)}";
    public const string Softmax = $"Kernels.{nameof(SoftmaxF32)}.{nameof(SoftmaxF32.Run)}";
    public const string ChannelAffine = $"Kernels.{nameof(ChannelAffineF32)}.{nameof(ChannelAffineF32.Run)}";
    public const string CopyRows = $"Kernels.{nameof(CopyF32)}.{nameof(CopyF32.Rows)}";
    public const string Permute = $"Kernels.{nameof(CopyF32)}.{nameof(CopyF32.Permute)}";

    /// <summary>Every call name above.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Gemv, Gemm, Conv2d, DepthwiseConv2d, MaxPool, AveragePool, GlobalAveragePool, Binary, Activation, Softmax, ChannelAffine, CopyRows, Permute];

    /// <summary>Names of the <c>new</c> struct types a plan can build.</summary>
    public static class Structs
    {
        public const string FusedActivation = nameof(global::Compress.Runtime.FusedActivation);
        public const string Conv2dShape = nameof(global::Compress.Runtime.Conv2dShape);
        public const string Pool2dShape = nameof(global::Compress.Runtime.Pool2dShape);
        public const string Broadcast4 = nameof(global::Compress.Runtime.Broadcast4);
        public const string Permute6 = nameof(global::Compress.Runtime.Permute6);
    }
}
