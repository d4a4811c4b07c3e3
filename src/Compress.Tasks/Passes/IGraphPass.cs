namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// A graph pass: a pure function from a graph to a graph (the input is never modified) that logs each decision,
/// with its reason, to the <see cref="PassLog"/>.
/// </summary>
public interface IGraphPass
{
    /// <summary>The name used in logs and reports.</summary>
    string Name { get; }

    Graph Run(Graph graph, PassLog log);
}
