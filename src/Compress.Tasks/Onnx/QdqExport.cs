using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Onnx;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// The quantised model as standard ONNX in the QDQ format (https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html#onnx-quantization-representation-format),
/// which ONNX Runtime runs and fuses into its integer kernels (QLinearConv, QGemm, MatMulIntegerToFloat, u8 pooling…):
/// <list type="bullet">
/// <item>Int8: each u8 activation of <see cref="QuantizationResult.Activations"/> as one QuantizeLinear → DequantizeLinear
/// pair (u8, per tensor) right after its producer. A value produced in u8 keeps its name on the DequantizeLinear output,
/// so every reader (and a graph output) sees the quantised values as the compiled model does; a value produced in fp32
/// and quantised for int8 readers feeds only those through the pair. Weights: s8 initializers with a per-channel
/// DequantizeLinear (<c>axis</c>); biases: s32 with DequantizeLinear scale s_x·s_w[c] (Gemm beta folded in) when the
/// input is u8, else fp32.</item>
/// <item>Int8Dynamic: weights as above; each quantised node's input through DynamicQuantizeLinear → DequantizeLinear
/// (what the per-call quantisation computes); biases fp32.</item>
/// <item>Int4: the block-dequantised weights as fp32 initializers (scale·code, exactly what the int4 kernel multiplies
/// by). ONNX has INT4 with blocked DequantizeLinear only from opset 21 and ONNX Runtime's CPU support for it varies, so
/// the export stays at the model's opset and portable; the metadata records the block size.</item>
/// </list>
/// Fused activations are written back as their own nodes (between the producer and its QuantizeLinear); the opset is
/// raised to 13 when lower (per-axis DequantizeLinear), with <see cref="OpsetUpgrade"/>. Written through
/// <see cref="OnnxModelWriter"/>, so files are replaced atomically.
/// </summary>
public static class QdqExport
{
    /// <summary>Metadata key holding the quantisation mode of an exported model.</summary>
    public const string ModeMetadataKey = "compress.quantization";

    /// <summary>Writes the QDQ model to <paramref name="path"/> atomically.</summary>
    public static void Write(Graph canonical, QuantizationResult q, string path, OnnxExportOptions? options = null) =>
        OnnxModelWriter.Write(ToProto(canonical, q, options), path);

    /// <summary>The QDQ model (see the class summary).</summary>
    public static ModelProto ToProto(Graph canonical, QuantizationResult q, OnnxExportOptions? options = null)
    {
        var graph = ToQdqGraph(canonical, q);
        var metadata = new Dictionary<string, string>(options?.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [ModeMetadataKey] = q.Mode,
        };
        var blockSizes = q.Weights.Values.Where(w => w.BlockSize > 0).Select(w => w.BlockSize).Distinct().ToList();
        if (blockSizes.Count > 0) metadata["compress.int4_block_size"] = string.Join(",", blockSizes.Select(b => b.ToString(CultureInfo.InvariantCulture)));
        return OnnxModelWriter.ToProto(graph, (options ?? OnnxExportOptions.Default) with { ExpandFusedActivations = true, Metadata = metadata });
    }

    /// <summary>The graph IR with the QDQ nodes inserted (fused activations still as attributes; <see cref="ToProto"/> expands them).</summary>
    public static Graph ToQdqGraph(Graph canonical, QuantizationResult q)
    {
        var g = OpsetUpgrade.ForExport(canonical, q.Weights.Count > 0 || q.Activations.Count > 0 ? 13 : 0);
        var builder = new Builder(g, q);
        return builder.Build();
    }

    /// <summary>One export: walks the nodes in order, emitting each (rewired) and the QDQ nodes after it.</summary>
    sealed class Builder(Graph graph, QuantizationResult q)
    {
        readonly HashSet<string> _taken = graph.AllValueNames();
        readonly List<Node> _nodes = [];
        readonly Dictionary<string, Tensor> _initializers = new(graph.Initializers, StringComparer.Ordinal);
        readonly Dictionary<string, ValueInfo> _values = new(graph.Values, StringComparer.Ordinal);

        /// <summary>fp32 values quantised for int8 readers → the DequantizeLinear output those readers use.</summary>
        readonly Dictionary<string, string> _quantisedCopy = new(StringComparer.Ordinal);

        /// <summary>Weights → their DequantizeLinear output (or dequantised fp32 initializer for int4).</summary>
        readonly Dictionary<string, string> _weights = new(StringComparer.Ordinal);

        /// <summary>Values → their DynamicQuantizeLinear → DequantizeLinear output.</summary>
        readonly Dictionary<string, string> _dynamic = new(StringComparer.Ordinal);

        readonly HashSet<string> _quantize = q.Boundaries.Where(b => b.Kind == BoundaryKind.Quantize).Select(b => b.Value).ToHashSet(StringComparer.Ordinal);

        readonly HashSet<string> _graphInputs = graph.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);

        /// <summary>Node label → precision (the first decision for a label, as <see cref="QuantizationResult.DecisionFor"/>).</summary>
        readonly Dictionary<string, NodePrecision> _precision = q.Decisions.GroupBy(d => d.Node, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Precision, StringComparer.Ordinal);

        public Graph Build()
        {
            foreach (var input in graph.Inputs) AfterProducer(input.Name);
            foreach (var node in graph.Nodes)
            {
                var emitted = _precision.GetValueOrDefault(node.Label, NodePrecision.Fp32) switch
                {
                    NodePrecision.Int8 => Int8Node(node),
                    NodePrecision.Int8Dynamic => DynamicNode(node),
                    NodePrecision.Int4 => Int4Node(node),
                    // Shift weights are s8 values ±2^p: the int8 QDQ form holds them exactly.
                    NodePrecision.Shift => Int8Node(node),
                    // ONNX has no ternary or binary type: the dequantised weights, as for int4.
                    NodePrecision.Ternary or NodePrecision.Binary => Int4Node(node),
                    NodePrecision.BinaryXnor => LowBitExport.XnorNode(node, Int4Node(node), _nodes, Constant, Unique, Hint(node), v => graph.Constant(v)?.Dims.ToArray()),
                    _ => node,
                };
                // A value produced in u8 keeps its name on the DequantizeLinear output: the producer writes "<v>_prequant".
                foreach (var (output, index) in node.Outputs.Select((o, i) => (o, i)))
                    if (ProducedU8(output))
                        emitted = emitted.WithOutput(index, Unique($"{output}_prequant"));
                _nodes.Add(emitted);
                foreach (var (output, index) in node.Outputs.Select((o, i) => (o, i)))
                    if (output.Length > 0) AfterProducer(output, emitted.Outputs[index]);
            }
            var result = graph with
            {
                Nodes = _nodes.ToImmutableArray(),
                Initializers = _initializers.ToImmutableDictionary(StringComparer.Ordinal),
                Values = _values.ToImmutableDictionary(StringComparer.Ordinal),
            };
            return result.RemoveUnusedInitializers(out _);
        }

        /// <summary>In <see cref="QuantizationResult.Activations"/> and not quantised from fp32: an int8 kernel or u8 pass-through writes it.</summary>
        bool ProducedU8(string value) => value.Length > 0 && q.Activations.ContainsKey(value) && !_quantize.Contains(value)
            && !_graphInputs.Contains(value);

        /// <summary>The QuantizeLinear → DequantizeLinear pair of an activation, after its producer wrote <paramref name="written"/>.</summary>
        void AfterProducer(string value, string? written = null)
        {
            if (!q.Activations.TryGetValue(value, out var p)) return;
            written ??= value;
            string scale = Constant($"{value}_scale", new Tensor("", DataType.Float, [], new[] { p.Scale }));
            string zeroPoint = Constant($"{value}_zero_point", new Tensor("", DataType.UInt8, [], new[] { (byte)p.ZeroPoint }));
            string quantised = Unique($"{value}_quantized");
            string dequantised = ProducedU8(value) ? value : Unique($"{value}_dequantized");
            _nodes.Add(Node.Create(Unique($"{value}_QuantizeLinear"), "QuantizeLinear", [written, scale, zeroPoint], [quantised]));
            _nodes.Add(Node.Create(Unique($"{value}_DequantizeLinear"), "DequantizeLinear", [quantised, scale, zeroPoint], [dequantised]));
            if (dequantised != value)
            {
                _quantisedCopy[value] = dequantised;
                if (_values.TryGetValue(value, out var info)) _values[dequantised] = info with { Name = dequantised };
            }
        }

        /// <summary>The u8 (dequantised) form of an activation an int8 node reads.</summary>
        string U8Input(string value) => _quantisedCopy.GetValueOrDefault(value, value);

        Node Int8Node(Node node)
        {
            if (!QuantizableOps.Analysers.ContainsKey(node.OpType)) return node;
            var c = QuantizableOps.Analyse(graph, node, 0, out _);
            if (c is null) return node;
            var result = node;
            foreach (var (input, index) in node.Inputs.Select((v, i) => (v, i)))
                if (c.DataInputs.Contains(input)) result = result.WithInput(index, U8Input(input));
            if (c.Weight is { } w && q.Weights.TryGetValue(w, out var qw))
            {
                result = result.WithInput(1, WeightDequantize(qw));
                if (node.HasInput(2) && q.Activations.TryGetValue(node.Input(0), out var inParams) && BiasDequantize(node, qw, inParams.Scale) is { } bias)
                {
                    result = result.WithInput(2, bias);
                    if (node.OpType == "Gemm") result = result.WithAttribute("beta", AttributeValue.Of(1f));
                }
            }
            return result;
        }

        Node DynamicNode(Node node)
        {
            if (QuantizableOps.Analyse(graph, node, 0, out _) is not { Weight: { } w } || !q.Weights.TryGetValue(w, out var qw)) return node;
            string x = node.Input(0);
            if (!_dynamic.TryGetValue(x, out var dq))
            {
                string xq = Unique($"{x}_dynamic_quantized"), xs = Unique($"{x}_dynamic_scale"), xz = Unique($"{x}_dynamic_zero_point");
                dq = Unique($"{x}_dynamic_dequantized");
                _nodes.Add(Node.Create(Unique($"{x}_DynamicQuantizeLinear"), "DynamicQuantizeLinear", [x], [xq, xs, xz]));
                _nodes.Add(Node.Create(Unique($"{x}_DynamicDequantizeLinear"), "DequantizeLinear", [xq, xs, xz], [dq]));
                _dynamic[x] = dq;
            }
            return node.WithInput(0, dq).WithInput(1, WeightDequantize(qw));
        }

        Node Int4Node(Node node)
        {
            if (QuantizableOps.Analyse(graph, node, 0, out _) is not { Weight: { } w } || !q.Weights.TryGetValue(w, out var qw)) return node;
            if (!_weights.TryGetValue(w, out var name))
            {
                string bits = qw.BlockSize > 0 ? "int4" : qw.NegativeScales is not null ? "ternary" : qw.Bits == 1 ? "binary" : $"{qw.Bits}bit";
                name = Constant($"{w}_{bits}_dequantized", new Tensor("", DataType.Float, qw.Dims, qw.Dequantize()));
                _weights[w] = name;
            }
            return node.WithInput(1, name);
        }

        /// <summary>s8 initializer + per-channel DequantizeLinear, once per weight.</summary>
        string WeightDequantize(QuantizedWeight qw)
        {
            if (_weights.TryGetValue(qw.Name, out var existing)) return existing;
            int channels = qw.Scales.Length;
            string values = Constant($"{qw.Name}_quantized", new Tensor("", DataType.Int8, qw.Dims, qw.Values));
            string scale = Constant($"{qw.Name}_scale", new Tensor("", DataType.Float, [channels], qw.Scales));
            string zeroPoint = Constant($"{qw.Name}_zero_point", new Tensor("", DataType.Int8, [channels], new sbyte[channels]));
            string output = Unique($"{qw.Name}_dequantized");
            _nodes.Add(Node.Create(Unique($"{qw.Name}_DequantizeLinear"), "DequantizeLinear", [values, scale, zeroPoint], [output],
                [KeyValuePair.Create("axis", AttributeValue.Of((long)qw.ChannelAxis))]));
            _weights[qw.Name] = output;
            return output;
        }

        /// <summary>
        /// The s32 bias (scale s_x·s_w[c], zero point 0) of an int8 node whose input is u8, as ONNX Runtime's QDQ fusions
        /// want it; null (bias stays fp32) for a Gemm with alpha ≠ 1 or a C that is not one value per column.
        /// </summary>
        string? BiasDequantize(Node node, QuantizedWeight qw, float inputScale)
        {
            if (graph.Constant(node.Input(2)) is not { Type: DataType.Float } c) return null;
            int n = qw.Scales.Length;
            float beta = 1f;
            float[] bias;
            if (node.OpType == "Gemm")
            {
                if (node.GetFloat("alpha", 1f) != 1f) return null;
                beta = node.GetFloat("beta", 1f);
                if (c.ElementCount == 1) bias = Enumerable.Repeat(c.Floats[0], n).ToArray();
                else if (c.ElementCount == n) bias = c.Floats;
                else return null;
            }
            else if (c.ElementCount == n) bias = c.Floats;
            else return null;
            var (values, scales) = WeightQuantizer.Int32Bias(bias, inputScale, qw.Scales, beta);
            string hint = $"{node.Input(2)}_{(node.Name.Length > 0 ? node.Name.Replace('/', '_').Trim('_') : node.Output0)}";
            string v = Constant($"{hint}_quantized", new Tensor("", DataType.Int32, [n], values));
            string s = Constant($"{hint}_scale", new Tensor("", DataType.Float, [n], scales));
            string z = Constant($"{hint}_zero_point", new Tensor("", DataType.Int32, [n], new int[n]));
            string output = Unique($"{hint}_dequantized");
            _nodes.Add(Node.Create(Unique($"{hint}_DequantizeLinear"), "DequantizeLinear", [v, s, z], [output],
                [KeyValuePair.Create("axis", AttributeValue.Of(0L))]));
            return output;
        }

        static string Hint(Node node) => node.Name.Length > 0 ? node.Name.Replace('/', '_').Trim('_') : node.Output0;

        string Constant(string hint, Tensor tensor)
        {
            string name = Unique(hint);
            _initializers[name] = tensor with { Name = name };
            return name;
        }

        string Unique(string hint)
        {
            string name = hint;
            for (int i = 1; !_taken.Add(name); i++) name = $"{hint}_{i}";
            return name;
        }
    }
}
