using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>The payload kind of an <see cref="AttributeValue"/>.</summary>
/// <remarks><see cref="Opaque"/>: a kind the IR does not model (tensor/graph/sparse/type lists), kept as its serialized
/// ONNX <c>AttributeProto</c> in <see cref="AttributeValue.OpaqueBytes"/> so the model can be written back.</remarks>
public enum AttributeKind { Float, Int, String, Tensor, Floats, Ints, Strings, Graph, Opaque }

/// <summary>A node attribute. Exactly one payload is set, as named by <see cref="Kind"/>.</summary>
public sealed record AttributeValue(AttributeKind Kind)
{
    public float Float { get; init; }
    public long Int { get; init; }
    public string? String { get; init; }
    public Tensor? Tensor { get; init; }
    public ImmutableArray<float> Floats { get; init; } = ImmutableArray<float>.Empty;
    public ImmutableArray<long> Ints { get; init; } = ImmutableArray<long>.Empty;
    public ImmutableArray<string> Strings { get; init; } = ImmutableArray<string>.Empty;

    /// <summary>Subgraph attributes (If/Loop/Scan bodies) are kept as opaque protobuf bytes; no supported op uses them.</summary>
    public ReadOnlyMemory<byte> GraphBytes { get; init; }

    /// <summary>For <see cref="AttributeKind.Opaque"/>: the whole serialized ONNX <c>AttributeProto</c>.</summary>
    public ReadOnlyMemory<byte> OpaqueBytes { get; init; }

    public static AttributeValue Of(float v) => new(AttributeKind.Float) { Float = v };
    public static AttributeValue Of(long v) => new(AttributeKind.Int) { Int = v };
    public static AttributeValue Of(string v) => new(AttributeKind.String) { String = v };
    public static AttributeValue Of(Tensor v) => new(AttributeKind.Tensor) { Tensor = v };
    public static AttributeValue Of(params float[] v) => new(AttributeKind.Floats) { Floats = v.ToImmutableArray() };
    public static AttributeValue Of(params long[] v) => new(AttributeKind.Ints) { Ints = v.ToImmutableArray() };
}
