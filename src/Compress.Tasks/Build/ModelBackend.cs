using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Build;

/// <summary>
/// What runs a compiled model (<c>Backend</c> metadata; docs/onnxruntime-backend.md): Compress's own kernels, or ONNX
/// Runtime on the exported model behind the same generated class.
/// </summary>
public enum ModelBackend
{
    /// <summary>Kernels when every op lowers to one; otherwise ONNX Runtime, with warning CMP033 naming the ops.</summary>
    Auto,

    /// <summary>Kernels only: an op no kernel runs is error CMP004.</summary>
    Kernels,

    /// <summary>ONNX Runtime, whatever the ops (the project must reference Microsoft.ML.OnnxRuntime).</summary>
    OnnxRuntime,
}

/// <summary>Parsing of the <c>Backend</c> metadata.</summary>
public static class ModelBackends
{
    /// <summary>The accepted values, as written in the README.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetNames<ModelBackend>();

    /// <summary>The backend <paramref name="value"/> names (case-insensitive); empty is <see cref="ModelBackend.Auto"/>.</summary>
    /// <exception cref="CompressException">CMP006 for any other value.</exception>
    public static ModelBackend Parse(string? value, string modelPath)
    {
        if (string.IsNullOrWhiteSpace(value)) return ModelBackend.Auto;
        // By name only (Enum.TryParse would also take "1").
        if (Names.FirstOrDefault(n => n.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name)
            return Enum.Parse<ModelBackend>(name);
        throw new CompressException(ErrorCodes.BadMetadata,
            $"Backend=\"{value}\" is not valid; expected one of {string.Join(", ", Names)}.", modelPath);
    }
}
