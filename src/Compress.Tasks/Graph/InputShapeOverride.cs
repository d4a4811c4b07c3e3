using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Graph;

/// <summary>
/// The <c>InputShape</c> metadata (<c>"x=1,3,224,224;y=1,10"</c>): fixes the dims of named graph inputs before shape
/// inference, so a model exported with dynamic or symbolic spatial sizes compiles for one size. A given dim must
/// agree with a fixed dim of the model; symbolic and unknown dims take the given size.
/// </summary>
public static class InputShapeOverride
{
    /// <summary>Parses the metadata: input name → dims. Empty or whitespace is no override.</summary>
    /// <exception cref="CompressException">CMP025 for a malformed entry (the message shows the expected form).</exception>
    public static IReadOnlyDictionary<string, long[]> Parse(string? metadata)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(metadata)) return result;
        foreach (string entry in metadata.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = entry.IndexOf('=');
            string name = eq > 0 ? entry[..eq].Trim() : "";
            string[] parts = eq > 0 ? entry[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries) : [];
            var dims = new long[parts.Length];
            bool ok = name.Length > 0 && parts.Length > 0;
            for (int i = 0; ok && i < parts.Length; i++)
                ok = long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) && dims[i] > 0;
            if (!ok)
                throw new CompressException(ErrorCodes.BadInputShape,
                    $"InputShape entry '{entry}' is not of the form name=d0,d1,… with positive whole sizes. Write e.g. InputShape=\"x=1,3,224,224;y=1,10\".");
            if (!result.TryAdd(name, dims))
                throw new CompressException(ErrorCodes.BadInputShape, $"InputShape names input '{name}' twice; give each input once.");
        }
        return result;
    }

    /// <summary>The graph with the named inputs' shapes fixed.</summary>
    /// <exception cref="CompressException">CMP025 for a name that is no graph input, a wrong rank, or a size that contradicts a fixed dim.</exception>
    public static Graph Apply(Graph graph, IReadOnlyDictionary<string, long[]> shapes)
    {
        if (shapes.Count == 0) return graph;
        var initializers = graph.Initializers;
        var runtimeInputs = graph.Inputs.Where(i => !initializers.ContainsKey(i.Name)).ToList();
        string Listing() => string.Join("; ", runtimeInputs.Select(i => $"{i.Name}={(i.Shape is { } s ? string.Join(",", s.Dims) : "?")}"));
        foreach (var name in shapes.Keys)
            if (!runtimeInputs.Any(i => i.Name == name))
                throw new CompressException(ErrorCodes.BadInputShape,
                    $"InputShape names '{name}', which is not an input of the model. The inputs are: {Listing()}. Use one of those names.");
        var inputs = graph.Inputs.Select(input =>
        {
            if (!shapes.TryGetValue(input.Name, out var dims)) return input;
            if (input.Shape is { } s)
            {
                if (s.Rank != dims.Length)
                    throw new CompressException(ErrorCodes.BadInputShape,
                        $"InputShape gives input '{input.Name}' {dims.Length} dims, but the model's input has rank {s.Rank} ({string.Join(",", s.Dims)}). Give {s.Rank} sizes, e.g. {input.Name}={string.Join(",", s.Dims.Select(d => d.IsKnown ? d.Value : 1))}.");
                for (int d = 0; d < dims.Length; d++)
                    if (s.Dims[d].IsKnown && s.Dims[d].Value != dims[d])
                        throw new CompressException(ErrorCodes.BadInputShape,
                            $"InputShape gives input '{input.Name}' size {dims[d]} for dim {d}, but the model fixes it to {s.Dims[d].Value}. Use {s.Dims[d].Value} there (only dynamic dims can be chosen).");
            }
            return input with { Shape = Shape.Of(dims) };
        }).ToImmutableArray();
        return graph with { Inputs = inputs };
    }
}
