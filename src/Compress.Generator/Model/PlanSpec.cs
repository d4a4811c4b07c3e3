namespace Compress.Generator.Model;

/// <summary>
/// One plan file, validated and free of Roslyn symbols: everything the emitter needs to write the class.
/// Mirrors docs/plan-format.md (version 1).
/// </summary>
internal sealed record PlanSpec
{
    /// <summary>The plan's file name (no folder, so the output does not depend on where the project lives).</summary>
    public required string PlanFileName { get; init; }

    /// <summary><c>producer</c>: the tool and version that wrote the plan.</summary>
    public required string Producer { get; init; }

    /// <summary><c>source</c>: provenance of the ONNX model.</summary>
    public required SourceSpec Source { get; init; }

    /// <summary><c>class.namespace</c>; empty for the global namespace. Dotted, each part a C# identifier.</summary>
    public required string Namespace { get; init; }

    /// <summary><c>class.name</c>: a C# identifier (keywords written with <c>@</c>).</summary>
    public required string ClassName { get; init; }

    /// <summary><c>summary</c>: one line describing the model.</summary>
    public required string Summary { get; init; }

    /// <summary><c>weights</c>: the embedded constant blob.</summary>
    public required WeightsSpec Weights { get; init; }

    /// <summary><c>arena.floats</c>: size of the per-instance activation buffer.</summary>
    public required int ArenaFloats { get; init; }

    /// <summary><c>batch.dynamic</c>: whether to emit the batched <c>Run</c> overload.</summary>
    public required bool DynamicBatch { get; init; }

    /// <summary><c>inputs</c>, in order.</summary>
    public required EquatableArray<TensorSpec> Inputs { get; init; }

    /// <summary><c>outputs</c>, in order.</summary>
    public required EquatableArray<TensorSpec> Outputs { get; init; }

    /// <summary><c>steps</c>, in execution order.</summary>
    public required EquatableArray<StepSpec> Steps { get; init; }

    /// <summary><c>stats</c> (optional): MACs and parameter counts; null when the plan has none.</summary>
    public StatsSpec? Stats { get; init; }

    /// <summary>
    /// <c>onnxRuntimeVersion</c> when <c>backend</c> is <c>"onnxruntime"</c>: the class then runs the embedded model (the weights
    /// resource) with ONNX Runtime instead of kernel calls; null for the kernels backend (the default).
    /// </summary>
    public string? OnnxRuntimeVersion { get; init; }

    /// <summary>Whether the class runs on ONNX Runtime (<c>backend</c> is <c>"onnxruntime"</c>).</summary>
    public bool UsesOnnxRuntime => OnnxRuntimeVersion is not null;
}

/// <summary>The plan's <c>stats</c>: per batch-1 inference, Conv/Gemm/MatMul layers only.</summary>
internal sealed record StatsSpec(long Macs, long DenseMacs, long Parameters, long NonZeroParameters);

/// <summary>Provenance of the ONNX model a plan was compiled from (<c>source</c>).</summary>
internal sealed record SourceSpec
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public required string Producer { get; init; }

    public required long IrVersion { get; init; }

    public required string Opsets { get; init; }
}

/// <summary>The weights blob (<c>weights</c>): manifest resource name, exact byte length and hash.</summary>
internal sealed record WeightsSpec
{
    public required string Resource { get; init; }

    public required int Bytes { get; init; }

    public required string Sha256 { get; init; }
}

/// <summary>A model input or output (one entry of <c>inputs</c> / <c>outputs</c>).</summary>
internal sealed record TensorSpec
{
    /// <summary>The ONNX name, for documentation only.</summary>
    public required string Name { get; init; }

    /// <summary>The C# parameter name (possibly <c>@</c>-escaped).</summary>
    public required string Identifier { get; init; }

    /// <summary>The name the <c>…Length</c> / <c>…Shape</c> members start with: the identifier without <c>@</c>, first letter upper-cased.</summary>
    public required string MemberStem { get; init; }

    /// <summary>Dimensions for one call (dim 0 is 1 when the batch is dynamic).</summary>
    public required EquatableArray<int> Shape { get; init; }

    /// <summary>Number of floats: the product of <see cref="Shape"/>.</summary>
    public required int Length { get; init; }
}

/// <summary>One kernel call of the schedule (one entry of <c>steps</c>).</summary>
internal sealed record StepSpec
{
    /// <summary>The ONNX node name.</summary>
    public required string Node { get; init; }

    /// <summary>The ONNX op type.</summary>
    public required string Op { get; init; }

    /// <summary>A human description written by the build task (may be empty).</summary>
    public required string Comment { get; init; }

    /// <summary>The method, relative to the <c>Compress.Runtime</c> namespace, e.g. <c>Kernels.GemmF32.Gemv</c>.</summary>
    public required string Call { get; init; }

    /// <summary>The arguments in order.</summary>
    public required EquatableArray<ArgumentSpec> Arguments { get; init; }
}
