using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>Model-level facts carried through for provenance and for writing the model back.</summary>
public sealed record ModelInfo(
    long IrVersion,
    ImmutableDictionary<string, long> Opsets,
    string ProducerName,
    string ProducerVersion,
    ImmutableDictionary<string, string> Metadata)
{
    /// <summary>The opset of the default (<c>ai.onnx</c>) domain; attribute forms depend on it.</summary>
    public long DefaultOpset => Opsets.TryGetValue("", out var v) ? v : Opsets.TryGetValue("ai.onnx", out var w) ? w : 0;
}
