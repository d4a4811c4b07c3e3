using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>One dimension of a tensor shape: a known size, or a symbol (e.g. the batch dimension <c>"N"</c>).</summary>
public readonly record struct Dim(long Value, string? Symbol = null)
{
    public bool IsKnown => Symbol is null && Value >= 0;

    public static Dim Known(long value) => new(value);

    public static Dim Symbolic(string symbol) => new(-1, symbol);

    public override string ToString() => IsKnown ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Symbol ?? "?";
}

/// <summary>A tensor shape. <see cref="Rank"/> 0 is a scalar.</summary>
public sealed record Shape(ImmutableArray<Dim> Dims)
{
    public int Rank => Dims.Length;

    public bool IsFullyKnown => Dims.All(d => d.IsKnown);

    public long this[int axis] => Dims[axis].Value;

    /// <summary>Product of all dimensions; throws when one is not known.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dims)
            {
                if (!d.IsKnown) throw new InvalidOperationException($"Shape {this} has an unknown dimension.");
                n *= d.Value;
            }
            return n;
        }
    }

    public long[] ToArray() => Dims.Select(d => d.Value).ToArray();

    public static Shape Of(params long[] dims) => new(dims.Select(Dim.Known).ToImmutableArray());

    public static Shape Scalar { get; } = new(ImmutableArray<Dim>.Empty);

    public bool Equals(Shape? other) => other is not null && Dims.SequenceEqual(other.Dims);

    public override int GetHashCode() => Dims.Aggregate(17, (h, d) => h * 31 + d.GetHashCode());

    public override string ToString() => "[" + string.Join(",", Dims) + "]";
}
