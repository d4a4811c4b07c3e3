namespace Compress.Tasks.Plan;

/// <summary>
/// The plan (docs/plan-format.md): the only contract between the build task and the source generator. One
/// <c>Run</c> call of the generated class is <see cref="Steps"/> executed in order over the model's inputs, outputs,
/// one activation arena of <see cref="ArenaFloats"/> floats and the weights blob.
/// Written by <see cref="PlanJsonWriter"/>, read back by <see cref="PlanJsonReader"/>; records compare by value.
/// </summary>
public sealed record ModelPlan
{
    /// <summary>The <c>format</c> field's fixed value.</summary>
    public const string FormatName = "compress-plan";

    /// <summary>The version this code writes and reads; bumped on any incompatible change.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>Tool and version that wrote the plan, e.g. <c>"Compress.Tasks 0.1.0"</c>.</summary>
    public required string Producer { get; init; }

    public required PlanSource Source { get; init; }

    /// <summary>Namespace of the generated class; may be empty.</summary>
    public required string Namespace { get; init; }

    /// <summary>Simple name of the generated class.</summary>
    public required string ClassName { get; init; }

    /// <summary>One line for the generated class's XML doc.</summary>
    public required string Summary { get; init; }

    public required PlanWeights Weights { get; init; }

    /// <summary>Size of the per-instance activation/scratch buffer, in floats.</summary>
    public required int ArenaFloats { get; init; }

    /// <summary>True when dim 0 of every input and output is symbolic (the generator then emits a batched Run).</summary>
    public required bool BatchDynamic { get; init; }

    public required EquatableArray<PlanTensor> Inputs { get; init; }

    public required EquatableArray<PlanTensor> Outputs { get; init; }

    public required EquatableArray<PlanStep> Steps { get; init; }

    /// <summary>Size and work of the compiled model (optional in the file; the generator emits constants from it).</summary>
    public PlanStats? Stats { get; init; }

    /// <summary>
    /// What runs the model (<c>backend</c>, written only when not <see cref="PlanBackend.Kernels"/>). For
    /// <see cref="PlanBackend.OnnxRuntime"/> the weights blob is the ONNX model itself and there are no steps.
    /// </summary>
    public PlanBackend Backend { get; init; } = PlanBackend.Kernels;

    /// <summary>With <see cref="PlanBackend.OnnxRuntime"/>: the ONNX Runtime version the build ran the model with (<c>onnxRuntimeVersion</c>).</summary>
    public string? OnnxRuntimeVersion { get; init; }
}

/// <summary>The plan's <c>backend</c>: Compress.Runtime kernel calls (the steps), or ONNX Runtime on the embedded model.</summary>
public enum PlanBackend
{
    Kernels,
    OnnxRuntime,
}

/// <summary>The <c>stats</c> object: what the model costs per batch-1 inference.</summary>
/// <param name="Macs">Multiply-accumulates of the Conv/Gemm/MatMul layers counting only non-zero weights.</param>
/// <param name="DenseMacs">The same counting every stored weight.</param>
/// <param name="Parameters">Weight elements of those layers.</param>
/// <param name="NonZeroParameters">Their non-zero weight elements.</param>
public sealed record PlanStats(long Macs, long DenseMacs, long Parameters, long NonZeroParameters);

/// <summary>Provenance of the plan: the model file it was built from, echoed into the generated file's header.</summary>
/// <param name="File">File name of the ONNX model (no directory).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the model file.</param>
/// <param name="Producer">The model's producer name and version, e.g. <c>"pytorch 1.13.0"</c>.</param>
/// <param name="IrVersion">The model's ONNX IR version.</param>
/// <param name="Opsets">Imported opsets, e.g. <c>"ai.onnx:13"</c>.</param>
public sealed record PlanSource(string File, string Sha256, string Producer, long IrVersion, string Opsets);

/// <summary>The weights blob: embedded under manifest resource name <paramref name="Resource"/>.</summary>
public sealed record PlanWeights(string Resource, int Bytes, string Sha256);

/// <summary>A model input or output as seen by one <c>Run</c> call (dim 0 is 1 when the batch is dynamic).</summary>
/// <param name="Name">The ONNX value name.</param>
/// <param name="Identifier">A valid, plan-unique C# identifier derived from <paramref name="Name"/>.</param>
public sealed record PlanTensor(string Name, string Identifier, EquatableArray<long> Shape, int Length);

/// <summary>One static call into <c>Compress.Runtime</c>.</summary>
/// <param name="Node">The ONNX node it implements (its name, or its label when unnamed).</param>
/// <param name="Op">The node's ONNX op type.</param>
/// <param name="Comment">What the call does, for people ("Conv 16→32 3×3 pad 1 + Relu").</param>
/// <param name="Call">Method name relative to the <c>Compress.Runtime</c> namespace (<c>"Kernels.GemmF32.Gemv"</c>).</param>
/// <param name="Args">The call's arguments in order.</param>
public sealed record PlanStep(string Node, string Op, string Comment, string Call, EquatableArray<PlanArg> Args);
