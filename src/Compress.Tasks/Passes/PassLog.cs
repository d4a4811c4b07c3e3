namespace Compress.Tasks.Passes;

/// <summary>One decision of a graph pass: which pass, on which node, what it did or why it did not.</summary>
public sealed record PassLogEntry(string Pass, string Node, string Message)
{
    public override string ToString() => $"{Pass} [{Node}]: {Message}";
}

/// <summary>
/// The record of what the graph passes did, in order. Passes stay pure functions of their graph; the log is their
/// only side channel, and the build report prints it.
/// </summary>
public sealed class PassLog
{
    readonly List<PassLogEntry> _entries = [];

    public IReadOnlyList<PassLogEntry> Entries => _entries;

    public void Add(string pass, string node, string message) => _entries.Add(new PassLogEntry(pass, node, message));

    /// <summary>The entries of one pass.</summary>
    public IEnumerable<PassLogEntry> For(string pass) => _entries.Where(e => e.Pass == pass);

    public override string ToString() => string.Join(Environment.NewLine, _entries);
}
