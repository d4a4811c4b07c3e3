using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>
/// Small building blocks passes use to make changed copies of a <see cref="Graph"/>. Every method returns a new
/// graph (or node) and leaves its argument untouched.
/// </summary>
public static class GraphRewriting
{
    /// <summary>Every consumer reads <paramref name="to"/> where it read <paramref name="from"/>; producers and graph outputs are unchanged.</summary>
    public static Graph ReplaceUses(this Graph graph, string from, string to) => graph with
    {
        Nodes = graph.Nodes.Select(n => n.Inputs.Contains(from)
            ? n with { Inputs = n.Inputs.Select(i => i == from ? to : i).ToImmutableArray() }
            : n).ToImmutableArray(),
    };

    /// <summary>
    /// Renames the value <paramref name="from"/> to <paramref name="to"/> everywhere: its producer's output, every
    /// consumer's input and its entry in <see cref="Graph.Values"/> (graph outputs are not renamed: callers use this to
    /// give a producer the name of a graph output).
    /// </summary>
    public static Graph RenameValue(this Graph graph, string from, string to)
    {
        var nodes = graph.Nodes.Select(n => n.Inputs.Contains(from) || n.Outputs.Contains(from)
            ? n with
            {
                Inputs = n.Inputs.Select(i => i == from ? to : i).ToImmutableArray(),
                Outputs = n.Outputs.Select(o => o == from ? to : o).ToImmutableArray(),
            }
            : n).ToImmutableArray();
        var values = graph.Values;
        if (values.TryGetValue(from, out var info))
        {
            values = values.Remove(from);
            if (!values.ContainsKey(to)) values = values.SetItem(to, info with { Name = to });
        }
        return graph with { Nodes = nodes, Values = values };
    }

    /// <summary>The graph without the node at <paramref name="index"/>.</summary>
    public static Graph RemoveNodeAt(this Graph graph, int index) => graph with { Nodes = graph.Nodes.RemoveAt(index) };

    /// <summary>The graph with the node at <paramref name="index"/> replaced.</summary>
    public static Graph ReplaceNodeAt(this Graph graph, int index, Node node) => graph with { Nodes = graph.Nodes.SetItem(index, node) };

    /// <summary>Position of <paramref name="node"/> (by reference) in <see cref="Graph.Nodes"/>, or -1.</summary>
    public static int IndexOf(this Graph graph, Node node)
    {
        for (int i = 0; i < graph.Nodes.Length; i++)
            if (ReferenceEquals(graph.Nodes[i], node)) return i;
        return -1;
    }

    /// <summary>Adds or replaces a constant.</summary>
    public static Graph WithInitializer(this Graph graph, Tensor tensor) =>
        graph with { Initializers = graph.Initializers.SetItem(tensor.Name, tensor) };

    /// <summary>How many node inputs read <paramref name="value"/> (a node reading it twice counts twice).</summary>
    public static int UseCount(this Graph graph, string value) =>
        graph.Nodes.Sum(n => n.Inputs.Count(i => i == value));

    /// <summary>Drops initializers that no node reads and that are not graph outputs.</summary>
    public static Graph RemoveUnusedInitializers(this Graph graph, out ImmutableArray<string> removed)
    {
        var used = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        used.UnionWith(graph.Outputs.Select(o => o.Name));
        removed = graph.Initializers.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).ToImmutableArray();
        if (removed.IsEmpty) return graph;
        return graph with
        {
            Initializers = graph.Initializers.RemoveRange(removed),
            Values = graph.Values.RemoveRange(removed),
        };
    }

    /// <summary>
    /// A value or initializer name based on <paramref name="hint"/> that nothing in the graph uses yet
    /// (<c>hint</c>, then <c>hint_1</c>, <c>hint_2</c>, …).
    /// </summary>
    public static string UniqueValueName(this Graph graph, string hint)
    {
        var taken = AllValueNames(graph);
        if (!taken.Contains(hint)) return hint;
        for (int i = 1; ; i++)
        {
            string candidate = $"{hint}_{i}";
            if (!taken.Contains(candidate)) return candidate;
        }
    }

    /// <summary>Every value name in the graph: inputs, outputs, initializers, node inputs and outputs, known values.</summary>
    public static HashSet<string> AllValueNames(this Graph graph)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        names.UnionWith(graph.Inputs.Select(i => i.Name));
        names.UnionWith(graph.Outputs.Select(o => o.Name));
        names.UnionWith(graph.Initializers.Keys);
        names.UnionWith(graph.Values.Keys);
        foreach (var n in graph.Nodes)
        {
            names.UnionWith(n.Inputs);
            names.UnionWith(n.Outputs);
        }
        names.Remove("");
        return names;
    }

    /// <summary>The node with one attribute added or replaced.</summary>
    public static Node WithAttribute(this Node node, string name, AttributeValue value) =>
        node with { Attributes = node.Attributes.SetItem(name, value) };

    /// <summary>The node with input <paramref name="index"/> set (padding omitted inputs with "").</summary>
    public static Node WithInput(this Node node, int index, string value)
    {
        var inputs = node.Inputs.ToBuilder();
        while (inputs.Count <= index) inputs.Add("");
        inputs[index] = value;
        return node with { Inputs = inputs.ToImmutable() };
    }

    /// <summary>The node with output <paramref name="index"/> renamed.</summary>
    public static Node WithOutput(this Node node, int index, string value) =>
        node with { Outputs = node.Outputs.SetItem(index, value) };
}
