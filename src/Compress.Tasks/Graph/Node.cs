using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>
/// One operator application. Inputs and outputs name values; an empty string is an omitted optional input
/// (ONNX convention). Attribute lookups use the ONNX spec's names and defaults.
/// </summary>
public sealed record Node(
    string Name,
    string OpType,
    ImmutableArray<string> Inputs,
    ImmutableArray<string> Outputs,
    ImmutableDictionary<string, AttributeValue> Attributes,
    string Domain = "")
{
    public string Input(int i) => i < Inputs.Length ? Inputs[i] : "";

    public bool HasInput(int i) => i < Inputs.Length && Inputs[i].Length > 0;

    public long GetInt(string name, long fallback) => Attributes.TryGetValue(name, out var a) ? a.Int : fallback;

    public float GetFloat(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    public string GetString(string name, string fallback) => Attributes.TryGetValue(name, out var a) ? a.String ?? fallback : fallback;

    public long[]? GetInts(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints.ToArray() : null;

    public float[]? GetFloats(string name) => Attributes.TryGetValue(name, out var a) ? a.Floats.ToArray() : null;

    /// <summary>A human-readable label for errors and logs: the node's name, or its op and first output when unnamed.</summary>
    public string Label => Name.Length > 0 ? Name : $"{OpType}→{Output0}";

    public string Output0 => Outputs.Length > 0 ? Outputs[0] : "";

    public static Node Create(string name, string opType, IEnumerable<string> inputs, IEnumerable<string> outputs,
        IEnumerable<KeyValuePair<string, AttributeValue>>? attributes = null) =>
        new(name, opType, inputs.ToImmutableArray(), outputs.ToImmutableArray(),
            (attributes ?? []).ToImmutableDictionary());
}
