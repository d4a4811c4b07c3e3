using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>
/// A constant tensor (an initializer, a <c>Constant</c> node's value or the result of constant folding).
/// Data is held in a typed array: float[] for Float, long[] for Int64, int[] for Int32, byte[] for UInt8/Bool,
/// sbyte[] for Int8, double[] for Double, string[] for String; other types keep their raw little-endian bytes in a byte[].
/// Treat the array as read-only: passes build new tensors instead of writing into an existing one.
/// </summary>
public sealed record Tensor(string Name, DataType Type, ImmutableArray<long> Dims, Array Data)
{
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    public Shape Shape => Shape.Of(Dims.ToArray());

    public float[] Floats => Data as float[] ?? throw new InvalidOperationException($"Tensor '{Name}' is {Type}, not Float.");

    public long[] Int64s => Data switch
    {
        long[] l => l,
        int[] i => Array.ConvertAll(i, v => (long)v),
        _ => throw new InvalidOperationException($"Tensor '{Name}' is {Type}, not an integer tensor."),
    };

    public static Tensor FromFloats(string name, float[] data, params long[] dims) => new(name, DataType.Float, dims.ToImmutableArray(), data);

    public static Tensor FromInt64s(string name, long[] data, params long[] dims) => new(name, DataType.Int64, dims.ToImmutableArray(), data);
}
