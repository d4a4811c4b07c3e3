using System.Collections.Immutable;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Passes;
using Google.Protobuf;

namespace Compress.Tasks.Onnx;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>How <see cref="OnnxModelWriter.ToProto(Graph, OnnxExportOptions?)"/> turns a graph into a standard ONNX model.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// Write each fused activation (<see cref="FusedActivationAttributes"/>) back as its own ONNX node, so standard
    /// tools accept the model (ONNX checkers reject unknown attributes on standard ops). Default true.
    /// </summary>
    public bool ExpandFusedActivations { get; init; } = true;

    /// <summary>Overrides the producer name (default: the source model's).</summary>
    public string? ProducerName { get; init; }

    /// <summary>Overrides the producer version (default: the source model's).</summary>
    public string? ProducerVersion { get; init; }

    /// <summary>Extra metadata_props entries, added to (or replacing) the source model's.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public static OnnxExportOptions Default { get; } = new();
}

/// <summary>
/// Writes ONNX models: a parsed <see cref="ModelProto"/> unchanged (unknown fields included), or a graph IR as a
/// fresh standard model with every constant inline as <c>raw_data</c>. Files are written to a temporary name beside
/// the target and moved into place, so a failure never leaves a half-written model.
/// </summary>
public static class OnnxModelWriter
{
    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically (temporary file + move).</summary>
    public static void Write(ModelProto model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                model.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes the graph as a standard ONNX model (see <see cref="ToProto(Graph, OnnxExportOptions?)"/>).</summary>
    public static void Write(Graph graph, string path, OnnxExportOptions? options = null) => Write(ToProto(graph, options), path);

    /// <summary>The serialized bytes of <paramref name="model"/>.</summary>
    public static byte[] ToBytes(ModelProto model) => model.ToByteArray();

    /// <summary>
    /// A standard ONNX model for <paramref name="graph"/>, deterministic for a given graph: opsets and metadata sorted by
    /// key, initializers (as <c>raw_data</c>) in order of first use, attributes sorted by name, every inferred shape as
    /// <c>value_info</c>. IR versions before 4 also list the initializers among the graph inputs, as they require.
    /// </summary>
    public static ModelProto ToProto(Graph graph, OnnxExportOptions? options = null)
    {
        options ??= OnnxExportOptions.Default;
        var info = graph.Info;
        var model = new ModelProto
        {
            IrVersion = info.IrVersion > 0 ? info.IrVersion : 7,
            ProducerName = options.ProducerName ?? info.ProducerName,
            ProducerVersion = options.ProducerVersion ?? info.ProducerVersion,
        };
        foreach (var (domain, version) in info.Opsets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        if (model.OpsetImport.Count == 0) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        var metadata = new SortedDictionary<string, string>(info.Metadata.ToDictionary(), StringComparer.Ordinal);
        foreach (var (k, v) in options.Metadata ?? new Dictionary<string, string>()) metadata[k] = v;
        foreach (var (k, v) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });

        var g = new GraphProto { Name = graph.Name.Length > 0 ? graph.Name : "main" };
        var taken = graph.AllValueNames();
        var extraInitializers = new List<Tensor>();
        foreach (var node in graph.Nodes)
        {
            if (options.ExpandFusedActivations && FusedActivationAttributes.Read(node) is { } act)
            {
                string output = node.Output0;
                string pre = Unique(taken, $"{output}_pre_{act.OpType}");
                g.Node.Add(ToProto(FusedActivationAttributes.Clear(node).WithOutput(0, pre)));
                g.Node.Add(ToProto(ActivationNode(node, act, pre, output, info.DefaultOpset, taken, extraInitializers)));
            }
            else g.Node.Add(ToProto(node));
        }

        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in g.Node.SelectMany(n => n.Input)) order.TryAdd(input, order.Count);
        var initializers = graph.Initializers.Values.Concat(extraInitializers)
            .OrderBy(t => order.GetValueOrDefault(t.Name, int.MaxValue)).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        g.Initializer.AddRange(initializers.Select(OnnxConvert.ToProto));

        g.Input.AddRange(graph.Inputs.Select(OnnxConvert.ToProto));
        if (model.IrVersion < 4)
            g.Input.AddRange(initializers.Select(t => OnnxConvert.ToProto(new ValueInfo(t.Name, t.Type, t.Shape))));
        g.Output.AddRange(graph.Outputs.Select(OnnxConvert.ToProto));

        var skip = new HashSet<string>(graph.Inputs.Select(i => i.Name).Concat(graph.Outputs.Select(o => o.Name)).Concat(graph.Initializers.Keys),
            StringComparer.Ordinal);
        foreach (var value in graph.Nodes.SelectMany(n => n.Outputs))
            if (value.Length > 0 && skip.Add(value) && graph.Values.TryGetValue(value, out var v) && v.Type != DataType.Undefined)
                g.ValueInfo.Add(OnnxConvert.ToProto(v));

        model.Graph = g;
        return model;
    }

    /// <summary>A node in ONNX form; attributes sorted by name.</summary>
    public static NodeProto ToProto(Node node)
    {
        var p = new NodeProto { OpType = node.OpType };
        if (node.Name.Length > 0) p.Name = node.Name;
        if (node.Domain.Length > 0) p.Domain = node.Domain;
        p.Input.AddRange(node.Inputs);
        p.Output.AddRange(node.Outputs);
        foreach (var (name, value) in node.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            p.Attribute.Add(OnnxConvert.ToProto(name, value));
        return p;
    }

    /// <summary>The standalone ONNX node for a fused activation (Clip bounds as inputs from opset 11, attributes before).</summary>
    static Node ActivationNode(Node producer, (string OpType, float Alpha, float Beta) act, string input, string output, long opset,
        HashSet<string> taken, List<Tensor> extraInitializers)
    {
        var inputs = new List<string> { input };
        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        switch (act.OpType)
        {
            case "LeakyRelu":
                attributes["alpha"] = AttributeValue.Of(act.Alpha);
                break;
            case "HardSigmoid":
                attributes["alpha"] = AttributeValue.Of(act.Alpha);
                attributes["beta"] = AttributeValue.Of(act.Beta);
                break;
            case "Clip" when opset >= 11:
                string Bound(float v, string suffix)
                {
                    if (float.IsInfinity(v)) return "";
                    var t = new Tensor(Unique(taken, $"{output}_clip_{suffix}"), DataType.Float, ImmutableArray<long>.Empty, new[] { v });
                    extraInitializers.Add(t);
                    return t.Name;
                }
                inputs.Add(Bound(act.Alpha, "min"));
                inputs.Add(Bound(act.Beta, "max"));
                while (inputs.Count > 1 && inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
                break;
            case "Clip":
                if (!float.IsInfinity(act.Alpha)) attributes["min"] = AttributeValue.Of(act.Alpha);
                if (!float.IsInfinity(act.Beta)) attributes["max"] = AttributeValue.Of(act.Beta);
                break;
        }
        string name = producer.Name.Length > 0 ? $"{producer.Name}/{act.OpType}" : "";
        return Node.Create(name, act.OpType, inputs, [output], attributes);
    }

    static string Unique(HashSet<string> taken, string hint)
    {
        string name = hint;
        for (int i = 1; !taken.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }
}
