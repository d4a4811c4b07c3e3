using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Tests.Graph;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Builds small graph IR instances for tests. A dimension of -1 is the symbolic batch "N".</summary>
public sealed class GraphBuilder(long opset = 13)
{
    readonly List<ValueInfo> _inputs = [];
    readonly List<ValueInfo> _outputs = [];
    readonly List<Node> _nodes = [];
    readonly Dictionary<string, Tensor> _initializers = new(StringComparer.Ordinal);

    public static Shape ShapeOf(params long[] dims) => new(dims.Select(d => d == -1 ? Dim.Symbolic("N") : Dim.Known(d)).ToImmutableArray());

    public GraphBuilder Input(string name, params long[] dims) => InputOf(name, DataType.Float, dims);

    public GraphBuilder InputOf(string name, DataType type, params long[] dims)
    {
        _inputs.Add(new ValueInfo(name, type, ShapeOf(dims)));
        return this;
    }

    public GraphBuilder Output(string name, DataType type = DataType.Undefined, Shape? shape = null)
    {
        _outputs.Add(new ValueInfo(name, type, shape));
        return this;
    }

    public GraphBuilder Init(string name, float[] data, params long[] dims)
    {
        _initializers[name] = Tensor.FromFloats(name, data, dims);
        return this;
    }

    public GraphBuilder Ints(string name, long[] data, params long[] dims)
    {
        _initializers[name] = Tensor.FromInt64s(name, data, dims);
        return this;
    }

    /// <summary>A float initializer of the given dims filled with a deterministic pseudo-random pattern.</summary>
    public GraphBuilder Random(string name, int seed, params long[] dims)
    {
        var rng = new System.Random(seed);
        long n = dims.Aggregate(1L, (a, d) => a * d);
        return Init(name, Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), dims);
    }

    public GraphBuilder Node(string op, string[] inputs, string[] outputs, params (string Name, AttributeValue Value)[] attributes) =>
        Named($"{op}_{_nodes.Count}", op, inputs, outputs, attributes);

    public GraphBuilder Named(string name, string op, string[] inputs, string[] outputs, params (string Name, AttributeValue Value)[] attributes)
    {
        _nodes.Add(Compress.Tasks.Graph.Node.Create(name, op, inputs, outputs,
            attributes.Select(a => KeyValuePair.Create(a.Name, a.Value))));
        return this;
    }

    public Graph Build() => new(
        "test",
        new ModelInfo(8, ImmutableDictionary<string, long>.Empty.Add("", opset), "test", "1", ImmutableDictionary<string, string>.Empty),
        _inputs.ToImmutableArray(),
        _outputs.ToImmutableArray(),
        _nodes.ToImmutableArray(),
        _initializers.ToImmutableDictionary(StringComparer.Ordinal),
        ImmutableDictionary<string, ValueInfo>.Empty);

    public static (string, AttributeValue) A(string name, long v) => (name, AttributeValue.Of(v));
    public static (string, AttributeValue) A(string name, float v) => (name, AttributeValue.Of(v));
    public static (string, AttributeValue) A(string name, string v) => (name, AttributeValue.Of(v));
    public static (string, AttributeValue) A(string name, params long[] v) => (name, AttributeValue.Of(v));
}
