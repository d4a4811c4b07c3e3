using Compress.Tasks.Graph;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// The γ (scale) of the BatchNormalization right after each Conv/Gemm/MatMul of the graph as loaded, before
/// canonicalisation folded it into the weights — what Network Slimming ranks channels by. A canonical node is matched
/// by its name, else by the value it reads (folding keeps both).
/// </summary>
internal sealed class BatchNormGammas
{
    readonly Dictionary<string, float[]> _byName = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<float[]>> _byInput = new(StringComparer.Ordinal);

    public static BatchNormGammas From(Graph source)
    {
        var result = new BatchNormGammas();
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in source.Nodes) foreach (var o in n.Outputs) if (o.Length > 0) producers[o] = n;
        foreach (var bn in source.Nodes)
        {
            if (bn.OpType != "BatchNormalization" || bn.Domain.Length > 0) continue;
            if (source.Constant(bn.Input(1)) is not { Type: DataType.Float } gamma) continue;
            string x = bn.Input(0);
            Node? producer = null;
            while (producers.TryGetValue(x, out producer) && producer.OpType is "Identity" or "Dropout") x = producer.Input(0);
            if (producer is null || producer.OpType is not ("Conv" or "Gemm" or "MatMul")) continue;
            if (producer.Name.Length > 0) result._byName[producer.Name] = gamma.Floats;
            string input = Resolve(producers, producer.Input(0));
            if (!result._byInput.TryGetValue(input, out var list)) result._byInput[input] = list = [];
            list.Add(gamma.Floats);
        }
        return result;
    }

    static string Resolve(Dictionary<string, Node> producers, string value)
    {
        while (producers.TryGetValue(value, out var p) && p.OpType is "Identity" or "Dropout") value = p.Input(0);
        return value;
    }

    /// <summary>γ per output channel of <paramref name="node"/> (a canonical Conv/Gemm), or null when no BatchNormalization followed it.</summary>
    public float[]? For(Node node, int channels)
    {
        if (node.Name.Length > 0 && _byName.TryGetValue(node.Name, out var g) && g.Length == channels) return g;
        if (_byInput.TryGetValue(node.Input(0), out var list) && list.Count == 1 && list[0].Length == channels) return list[0];
        return null;
    }
}
