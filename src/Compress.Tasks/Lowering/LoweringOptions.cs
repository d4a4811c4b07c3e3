namespace Compress.Tasks.Lowering;

/// <summary>
/// What the lowering needs besides the graph: the generated class's name, the weights resource name and the
/// provenance echoed into the plan. Provenance left null is taken from the graph's <see cref="Graph.ModelInfo"/>.
/// </summary>
public sealed record LoweringOptions
{
    /// <summary>Simple name of the generated class (a valid C# identifier).</summary>
    public required string ClassName { get; init; }

    /// <summary>Namespace of the generated class; empty for the global namespace.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Manifest resource name of the weights; null gives <c>&lt;Namespace&gt;.&lt;ClassName&gt;.weights</c>.</summary>
    public string? WeightsResourceName { get; init; }

    /// <summary>File name of the source model (no directory).</summary>
    public string SourceFile { get; init; } = "";

    /// <summary>Lower-case hex SHA-256 of the source model file.</summary>
    public string SourceSha256 { get; init; } = "";

    /// <summary>The model's producer, e.g. <c>"pytorch 1.13.0"</c>; null takes it from the graph.</summary>
    public string? SourceProducer { get; init; }

    /// <summary>The model's IR version; null takes it from the graph.</summary>
    public long? SourceIrVersion { get; init; }

    /// <summary>The model's opsets, e.g. <c>"ai.onnx:13"</c>; null takes them from the graph.</summary>
    public string? SourceOpsets { get; init; }

    /// <summary>The tool written into the plan's <c>producer</c>; null gives <c>"Compress.Tasks &lt;version&gt;"</c>.</summary>
    public string? Producer { get; init; }

    /// <summary>Namespace-qualified class name.</summary>
    public string FullClassName => Namespace.Length == 0 ? ClassName : $"{Namespace}.{ClassName}";

    /// <summary>Splits a dotted name (<c>"Digits.Classifier"</c>) into <see cref="Namespace"/> and <see cref="ClassName"/>.</summary>
    public static LoweringOptions ForClass(string fullClassName)
    {
        int dot = fullClassName.LastIndexOf('.');
        return new LoweringOptions
        {
            ClassName = fullClassName[(dot + 1)..],
            Namespace = dot < 0 ? "" : fullClassName[..dot],
        };
    }
}
