using Microsoft.CodeAnalysis;

namespace Compress.Generator;

/// <summary>
/// Every diagnostic the generator reports. All are errors located in the plan file: a plan is written by the build
/// task, so a bad one means a stale or hand-edited file, or mismatched package versions; CMP034 alone is about the
/// project (a missing package reference).
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Compress";

    /// <summary>CMP050: the plan is not valid JSON or breaks the plan format (missing field, bad identifier, out-of-range slice…).</summary>
    public static DiagnosticDescriptor MalformedPlan { get; } = new(
        id: "CMP050",
        title: "Compress plan is malformed",
        messageFormat: "Compress plan '{0}' is malformed: {1}. The plan is written by the Compress build task; rebuild the project to regenerate it.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The plan file does not follow docs/plan-format.md. Plans are build outputs: do not edit them; a rebuild writes a fresh one.");

    /// <summary>CMP051: the plan's <c>version</c> is not one this generator reads.</summary>
    public static DiagnosticDescriptor UnsupportedVersion { get; } = new(
        id: "CMP051",
        title: "Compress plan version is not supported",
        messageFormat: "Compress plan '{0}' has format version {1}, but this generator (Compress.Generator {2}) supports only version {3}. Use the same Compress package version for the build task and the generator, then rebuild.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The build task and the source generator ship together; a version mismatch means two different Compress packages are in use.");

    /// <summary>CMP052: two plans declare the same class.</summary>
    public static DiagnosticDescriptor DuplicateClass { get; } = new(
        id: "CMP052",
        title: "Two Compress plans declare the same class",
        messageFormat: "Compress plan '{0}' declares the class '{1}', which plan '{2}' already declares. Give each CompressModel item its own ClassName.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Each plan becomes one class; only the first plan (in path order) is generated.");

    /// <summary>CMP034: a plan runs on ONNX Runtime but the compilation has no Microsoft.ML.OnnxRuntime.</summary>
    public static DiagnosticDescriptor OnnxRuntimeNotReferenced { get; } = new(
        id: "CMP034",
        title: "A Compress model runs on ONNX Runtime, which the project does not reference",
        messageFormat: "The class '{0}' (plan '{1}') runs its model on ONNX Runtime, but the project does not reference Microsoft.ML.OnnxRuntime. Add {2} to the project file.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A model with ops Compress's kernels do not run (or with Backend=\"OnnxRuntime\") is run by ONNX Runtime behind the generated class; the package that provides it must be referenced by the project (docs/onnxruntime-backend.md).");

    /// <summary>CMP059: the generator itself failed; never expected.</summary>
    public static DiagnosticDescriptor InternalError { get; } = new(
        id: "CMP059",
        title: "Compress generator failed",
        messageFormat: "Compress.Generator failed on plan '{0}': {1}. This is a bug in Compress; please report it with the plan file.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
