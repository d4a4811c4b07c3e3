using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>
/// The compiler's graph IR: immutable, nodes in topological order, constants as <see cref="Tensor"/>s.
/// Passes are pure functions <c>Graph → Graph</c> and build changed copies with <c>with</c> expressions.
/// <see cref="Values"/> holds the type and shape of every value known so far (graph inputs, outputs and
/// everything shape inference has reached).
/// </summary>
public sealed record Graph(
    string Name,
    ModelInfo Info,
    ImmutableArray<ValueInfo> Inputs,
    ImmutableArray<ValueInfo> Outputs,
    ImmutableArray<Node> Nodes,
    ImmutableDictionary<string, Tensor> Initializers,
    ImmutableDictionary<string, ValueInfo> Values)
{
    public bool IsConstant(string value) => Initializers.ContainsKey(value);

    public Tensor? Constant(string value) => Initializers.TryGetValue(value, out var t) ? t : null;

    public ValueInfo? Value(string name) => Values.TryGetValue(name, out var v) ? v : null;

    /// <summary>Shape of a value (constant or inferred); throws when nothing is known.</summary>
    public Shape ShapeOf(string name) =>
        Initializers.TryGetValue(name, out var t) ? t.Shape
        : Values.TryGetValue(name, out var v) && v.Shape is not null ? v.Shape
        : throw new InvalidOperationException($"The shape of '{name}' is not known.");

    /// <summary>The node producing <paramref name="value"/>, or null for graph inputs and constants.</summary>
    public Node? Producer(string value) => Nodes.FirstOrDefault(n => n.Outputs.Contains(value));

    /// <summary>Every node that reads <paramref name="value"/>.</summary>
    public IEnumerable<Node> Consumers(string value) => Nodes.Where(n => n.Inputs.Contains(value));

    public bool IsGraphOutput(string value) => Outputs.Any(o => o.Name == value);
}
