namespace Compress.Tasks.Graph;

/// <summary>What is known of a named value flowing through the graph: its element type and (inferred) shape.</summary>
public sealed record ValueInfo(string Name, DataType Type, Shape? Shape);
