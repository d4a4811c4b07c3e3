using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx.Proto;

namespace Compress.Tasks.Onnx;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>A loaded model: the protobuf message as read (for writing back unchanged) and its graph IR.</summary>
/// <param name="Path">Full path of the .onnx file.</param>
/// <param name="Proto">The message exactly as parsed, unknown fields included; treat as read-only.</param>
/// <param name="Graph">The graph IR: nodes in topological order, initializers as tensors.</param>
public sealed record OnnxModel(string Path, ModelProto Proto, Graph Graph);

/// <summary>
/// Reads ONNX models (https://onnx.ai/onnx/repo-docs/IR.html) into the graph IR. Every failure is a
/// <see cref="CompressException"/>: CMP001 missing file, CMP002 not a valid model, CMP003 bad external data.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Reads the model at <paramref name="path"/>; external tensor data is read from files inside its folder.</summary>
    public static OnnxModel Load(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CompressException(ErrorCodes.ModelNotFound,
                $"Model file '{path}' does not exist. Check the Include path of the CompressModel item.", full, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(ErrorCodes.ModelNotFound, $"Model file '{path}' cannot be read: {e.Message}", full, e);
        }
        var proto = Parse(bytes, full);
        return new OnnxModel(full, proto, ToGraph(proto, System.IO.Path.GetDirectoryName(full), full));
    }

    /// <summary>Parses model bytes and checks that they hold an ONNX model with a graph, nodes and outputs (else CMP002).</summary>
    /// <param name="file">The file the bytes came from, named in errors.</param>
    public static ModelProto Parse(ReadOnlySpan<byte> bytes, string file)
    {
        if (bytes.Length == 0) throw OnnxConvert.Corrupt(file, "the file is empty");
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CompressException(ErrorCodes.ModelCorrupt,
                $"'{file}' is not a valid ONNX model: its protobuf encoding is broken ({e.Message}). The file may be truncated, " +
                "corrupt, or not an ONNX model; export it again.", file, e);
        }
        if (!proto.HasIrVersion || proto.IrVersion <= 0)
            throw OnnxConvert.Corrupt(file, "it declares no ir_version, so it is probably not an ONNX model (or is damaged); export it again");
        if (proto.Graph is null) throw OnnxConvert.Corrupt(file, "it has no graph");
        if (proto.Graph.Node.Count == 0) throw OnnxConvert.Corrupt(file, "its graph has no nodes");
        if (proto.Graph.Output.Count == 0) throw OnnxConvert.Corrupt(file, "its graph has no outputs");
        return proto;
    }

    /// <summary>
    /// The graph IR of a parsed model. Initializers listed among the graph inputs (IR version 3 style) are constants,
    /// not inputs; <c>Constant</c> nodes stay nodes; nodes are put in topological order.
    /// </summary>
    /// <param name="modelDirectory">Folder for external data; null when the model was not loaded from a file.</param>
    /// <param name="file">The model file, named in errors.</param>
    public static Graph ToGraph(ModelProto model, string? modelDirectory, string file)
    {
        var g = model.Graph ?? throw OnnxConvert.Corrupt(file, "it has no graph");

        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var o in model.OpsetImport)
        {
            string domain = o.Domain == "ai.onnx" ? "" : o.Domain;
            opsets[domain] = Math.Max(o.Version, opsets.GetValueOrDefault(domain));
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in model.MetadataProps) metadata[kv.Key] = kv.Value;
        var info = new ModelInfo(model.IrVersion, opsets.ToImmutableDictionary(StringComparer.Ordinal),
            model.ProducerName, model.ProducerVersion, metadata.ToImmutableDictionary(StringComparer.Ordinal));

        var initializers = ImmutableDictionary.CreateBuilder<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in g.Initializer)
        {
            if (string.IsNullOrEmpty(t.Name)) throw OnnxConvert.Corrupt(file, "an initializer has no name");
            if (initializers.ContainsKey(t.Name)) throw OnnxConvert.Corrupt(file, $"two initializers are named '{t.Name}'");
            initializers[t.Name] = OnnxConvert.ToTensor(t, modelDirectory, file);
        }
        foreach (var s in g.SparseInitializer)
        {
            var dense = OnnxConvert.ToTensor(s, modelDirectory, file);
            if (string.IsNullOrEmpty(dense.Name) || initializers.ContainsKey(dense.Name))
                throw OnnxConvert.Corrupt(file, $"a sparse initializer has a missing or duplicate name '{dense.Name}'");
            initializers[dense.Name] = dense;
        }

        var inputs = g.Input.Where(i => !initializers.ContainsKey(i.Name)).Select(OnnxConvert.ToValueInfo).ToImmutableArray();
        var outputs = g.Output.Select(OnnxConvert.ToValueInfo).ToImmutableArray();
        foreach (var v in inputs.Concat(outputs))
            if (v.Name.Length == 0) throw OnnxConvert.Corrupt(file, "a graph input or output has no name");

        var values = ImmutableDictionary.CreateBuilder<string, ValueInfo>(StringComparer.Ordinal);
        foreach (var v in g.ValueInfo.Select(OnnxConvert.ToValueInfo).Where(v => v.Type != DataType.Undefined && v.Name.Length > 0))
            values[v.Name] = v;
        foreach (var v in inputs.Concat(outputs)) values[v.Name] = v;

        var nodes = g.Node.Select(n => ToNode(n, modelDirectory, file)).ToList();
        return new Graph(g.Name, info, inputs, outputs, TopologicalOrder(nodes, inputs, initializers.Keys, outputs, file),
            initializers.ToImmutable(), values.ToImmutable());
    }

    static Node ToNode(NodeProto n, string? modelDirectory, string file)
    {
        if (string.IsNullOrEmpty(n.OpType)) throw OnnxConvert.Corrupt(file, $"node '{n.Name}' has no op_type");
        var attributes = ImmutableDictionary.CreateBuilder<string, AttributeValue>(StringComparer.Ordinal);
        foreach (var a in n.Attribute)
        {
            if (string.IsNullOrEmpty(a.Name)) throw OnnxConvert.Corrupt(file, $"node '{n.Name}' ({n.OpType}) has an attribute without a name");
            attributes[a.Name] = OnnxConvert.ToAttribute(a, modelDirectory, file);
        }
        return new Node(n.Name, n.OpType, n.Input.ToImmutableArray(), n.Output.ToImmutableArray(), attributes.ToImmutable(),
            n.Domain == "ai.onnx" ? "" : n.Domain);
    }

    /// <summary>
    /// Kahn's algorithm, taking ready nodes in file order so an already sorted graph keeps its order exactly.
    /// Fails (CMP002) on a value read but never produced, a value produced twice, or a cycle.
    /// </summary>
    static ImmutableArray<Node> TopologicalOrder(List<Node> nodes, ImmutableArray<ValueInfo> inputs, IEnumerable<string> initializers,
        ImmutableArray<ValueInfo> outputs, string file)
    {
        var available = new HashSet<string>(StringComparer.Ordinal) { "" };
        available.UnionWith(inputs.Select(i => i.Name));
        available.UnionWith(initializers);

        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
            foreach (var o in nodes[i].Outputs.Where(o => o.Length > 0))
            {
                if (available.Contains(o) || !producer.TryAdd(o, i))
                    throw OnnxConvert.Corrupt(file, $"value '{o}' is produced twice (by node '{nodes[i].Label}' and by another node, input or initializer)");
            }

        var waiting = new int[nodes.Count];
        var consumers = new Dictionary<int, List<int>>();
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (var input in nodes[i].Inputs.Distinct())
            {
                if (available.Contains(input)) continue;
                if (!producer.TryGetValue(input, out int p))
                    throw OnnxConvert.Corrupt(file, $"node '{nodes[i].Label}' ({nodes[i].OpType}) reads '{input}', which no node, graph input or initializer produces");
                waiting[i]++;
                if (!consumers.TryGetValue(p, out var list)) consumers[p] = list = [];
                list.Add(i);
            }
        }
        foreach (var o in outputs)
            if (!available.Contains(o.Name) && !producer.ContainsKey(o.Name))
                throw OnnxConvert.Corrupt(file, $"graph output '{o.Name}' is produced by no node, graph input or initializer");

        var ready = new SortedSet<int>(Enumerable.Range(0, nodes.Count).Where(i => waiting[i] == 0));
        var order = ImmutableArray.CreateBuilder<Node>(nodes.Count);
        while (ready.Count > 0)
        {
            int next = ready.Min;
            ready.Remove(next);
            order.Add(nodes[next]);
            if (consumers.TryGetValue(next, out var list))
                foreach (var c in list)
                    if (--waiting[c] == 0) ready.Add(c);
        }
        if (order.Count != nodes.Count)
        {
            var stuck = Enumerable.Range(0, nodes.Count).Where(i => waiting[i] > 0).Select(i => nodes[i].Label).Take(5);
            throw OnnxConvert.Corrupt(file, $"its graph has a cycle through node(s) {string.Join(", ", stuck.Select(s => $"'{s}'"))}");
        }
        return order.MoveToImmutable();
    }
}
