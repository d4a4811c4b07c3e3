using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering.Quantized;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering;

/// <summary>
/// Lowering: canonical graph → plan + weights. Picks a kernel per node through the op table
/// (<see cref="OpLowerers"/>), packs weights at build time with the runtime's own packing functions, and plans the
/// activation arena by liveness (<see cref="ArenaPlanner"/>). Graph inputs and outputs are the <c>input</c> and
/// <c>output</c> spans; every other value lives in the arena, the weights, or (for aliases) another value's storage.
/// </summary>
public static class ModelLowering
{
    /// <summary>The ONNX op types (default domain) the lowering supports, sorted.</summary>
    public static ImmutableArray<string> SupportedOps => OpLowerers.SupportedOps;

    /// <summary>The plan's <c>producer</c> when the options do not set one: <c>"Compress.Tasks 0.1.0"</c>.</summary>
    public static string DefaultProducer { get; } = "Compress.Tasks " + (typeof(ModelLowering).Assembly.GetName().Version is { } v
        ? $"{v.Major}.{v.Minor}.{Math.Max(0, v.Build)}" : "0.0.0");

    /// <param name="canonical">The canonical graph (shapes inferred).</param>
    /// <param name="options">Class name, resource name, provenance.</param>
    /// <param name="quantization">
    /// The quantisation passes' result, or null for fp32. A node decided Int8, Int8Dynamic or Int4 runs the quantised
    /// kernel of <see cref="Quantized.QuantizedLowering.All"/> for its op when the kernels support its form, else its fp32
    /// kernel (the step comments say why); fp32 ↔ u8 conversions are placed where the representations meet. Inputs and
    /// outputs stay float32, so the generated API is the same as fp32. With null, or with every node fp32, the plan is
    /// byte for byte the fp32 plan.
    /// </param>
    /// <exception cref="CompressException">
    /// CMP004 for an unsupported op or op form (naming the nodes and listing the supported ops), CMP009 for a
    /// non-float32 graph input or output, CMP005 for unknown shapes, CMP006 for invalid class names; CMP099 when a
    /// quantised node's input has no u8 parameters (an incomplete quantisation result).
    /// </exception>
    public static LoweredModel Lower(Graph.Graph canonical, LoweringOptions options, QuantizationResult? quantization = null)
    {
        ArgumentNullException.ThrowIfNull(canonical);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        var inputs = RuntimeInputs(canonical);
        CheckTypes(canonical, inputs);

        var live = LiveNodes(canonical);
        CheckSupported(live);

        var decisions = new Dictionary<string, NodeDecision>(StringComparer.Ordinal);
        foreach (var d in quantization?.Decisions ?? []) decisions.TryAdd(d.Node, d);
        var ctx = new LoweringContext(canonical, live)
        {
            Quantization = quantization,
            U8Demand = quantization is null ? new HashSet<string>() : QuantizedLowering.U8Demand(live, canonical, decisions, quantization),
        };
        var quantized = new List<(Node Node, NodePrecision Precision)>();
        for (int i = 0; i < live.Count; i++)
        {
            var node = live[i];
            ctx.BeginNode(node, i);
            try
            {
                if (quantization is not null && LowerQuantized(node, ctx, decisions) is { } precision) quantized.Add((node, precision));
                else OpLowerers.Find(node.OpType)!.Lower(node, ctx);
            }
            catch (Exception e) when (e is not CompressException)
            {
                throw new CompressException(ErrorCodes.Internal,
                    $"Lowering node '{node.Label}' ({node.OpType}) failed unexpectedly: {e.Message} Please report it with the model.", inner: e);
            }
            ctx.EndNode();
        }
        ctx.EmitOutputCopies();
        var (steps, arenaFloats, locations, readyAfterStep, u8Locations) = ctx.Resolve();
        byte[] weights = ctx.WeightsBlob.ToArray();

        var identifiers = PlanIdentifiers.AssignUnique(inputs.Select(i => i.Name).Concat(canonical.Outputs.Select(o => o.Name)), options.ClassName);
        PlanTensor Tensor(string name, string identifier)
        {
            long[] dims = ctx.Dims(name);
            return new PlanTensor(name, identifier, dims, ctx.Length(name));
        }

        var info = canonical.Info;
        var plan = new ModelPlan
        {
            Producer = options.Producer ?? DefaultProducer,
            Source = new PlanSource(options.SourceFile, options.SourceSha256,
                options.SourceProducer ?? $"{info.ProducerName} {info.ProducerVersion}".Trim(),
                options.SourceIrVersion ?? info.IrVersion,
                options.SourceOpsets ?? FormatOpsets(info.Opsets)),
            Namespace = options.Namespace,
            ClassName = options.ClassName,
            Summary = Summary(live, weights.Length, quantized),
            Weights = new PlanWeights(options.WeightsResourceName ?? options.FullClassName + ".weights", weights.Length,
                Convert.ToHexStringLower(SHA256.HashData(weights))),
            ArenaFloats = arenaFloats,
            BatchDynamic = IsBatchDynamic(inputs.Concat(canonical.Outputs).ToList()),
            Inputs = inputs.Select((v, i) => Tensor(v.Name, identifiers[i])).ToArray(),
            Outputs = canonical.Outputs.Select((v, j) => Tensor(v.Name, identifiers[inputs.Count + j])).ToArray(),
            Steps = steps.ToArray(),
            Stats = Stats(canonical),
        };
        return new LoweredModel(plan, weights)
        {
            ValueLocations = locations.ToFrozenDictionary(StringComparer.Ordinal),
            ValueReadyAfterStep = readyAfterStep.ToFrozenDictionary(StringComparer.Ordinal),
            U8ValueLocations = u8Locations.ToFrozenDictionary(StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// Runs the node's quantised lowerer when its precision is not fp32 and the kernels support its form; returns the
    /// precision it ran at, or null (nothing emitted: the fp32 lowerer runs, with the reason in its step comments when
    /// the passes had decided otherwise).
    /// </summary>
    static NodePrecision? LowerQuantized(Node node, LoweringContext ctx, IReadOnlyDictionary<string, NodeDecision> decisions)
    {
        var precision = QuantizedLowering.PrecisionOf(node, decisions);
        if (precision == NodePrecision.Fp32) return null;
        bool decided = decisions.ContainsKey(node.Label);
        if (QuantizedLowering.Find(node.OpType, precision) is not { } lowerer)
        {
            if (decided && !QuantizedLowering.AliasOps.Contains(node.OpType))
                ctx.NoteFallback($"no {Describe(precision)} kernel for {node.OpType}");
            return null;
        }
        string? reason = lowerer.TryLower(node, ctx);
        if (reason is null) return precision;
        if (decided) ctx.NoteFallback(reason);
        return null;
    }

    /// <summary>"int8", "int8 dynamic", "int4".</summary>
    static string Describe(NodePrecision p) => p switch
    {
        NodePrecision.Int8 => "int8",
        NodePrecision.Int8Dynamic => "int8 dynamic",
        NodePrecision.Int4 => "int4",
        NodePrecision.Shift => "shift",
        NodePrecision.Ternary => "ternary",
        NodePrecision.Binary => "binary",
        NodePrecision.BinaryXnor => "binary (xnor)",
        _ => "fp32",
    };

    /// <summary>The graph inputs a caller supplies: those without an initializer (IR &lt; 4 lists weights as inputs too).</summary>
    internal static IReadOnlyList<ValueInfo> RuntimeInputs(Graph.Graph g) => g.Inputs.Where(i => !g.IsConstant(i.Name)).ToList();

    /// <summary>"ai.onnx:13,com.microsoft:1": domains sorted, the default domain named ai.onnx.</summary>
    public static string FormatOpsets(IReadOnlyDictionary<string, long> opsets) =>
        string.Join(",", opsets.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)}:{kv.Value.ToString(CultureInfo.InvariantCulture)}"));

    static void CheckOptions(LoweringOptions o)
    {
        if (!PlanIdentifiers.IsValidIdentifier(o.ClassName))
            throw new CompressException(ErrorCodes.BadMetadata, $"ClassName '{o.ClassName}' is not a valid C# identifier.");
        if (!PlanIdentifiers.IsValidNamespace(o.Namespace))
            throw new CompressException(ErrorCodes.BadMetadata, $"Namespace '{o.Namespace}' is not a valid C# namespace.");
    }

    static void CheckTypes(Graph.Graph g, IReadOnlyList<ValueInfo> inputs)
    {
        foreach (var (v, kind) in inputs.Select(v => (v, "input")).Concat(g.Outputs.Select(v => (v, "output"))))
        {
            var type = v.Type == DataType.Undefined ? g.Value(v.Name)?.Type ?? g.Constant(v.Name)?.Type ?? DataType.Undefined : v.Type;
            if (type != DataType.Float)
                throw new CompressException(ErrorCodes.UnsupportedType,
                    $"Graph {kind} '{v.Name}' is {type}; the generated Run method takes and returns float32 tensors only. " +
                    "Export the model with float32 inputs and outputs (cast inside the model if needed).");
        }
        var produced = new HashSet<string>(g.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        foreach (var o in g.Outputs)
            if (!produced.Contains(o.Name) && !g.IsConstant(o.Name) && !inputs.Any(i => i.Name == o.Name))
                throw new CompressException(ErrorCodes.ModelCorrupt, $"Graph output '{o.Name}' is not produced by any node, input or initializer.");
    }

    /// <summary>Nodes that contribute to a graph output, in graph (topological) order.</summary>
    static List<Node> LiveNodes(Graph.Graph g)
    {
        var needed = new HashSet<string>(g.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var live = new List<Node>();
        for (int i = g.Nodes.Length - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (!n.Outputs.Any(needed.Contains)) continue;
            live.Add(n);
            foreach (string input in n.Inputs) if (input.Length > 0) needed.Add(input);
        }
        live.Reverse();
        return live;
    }

    static void CheckSupported(IReadOnlyList<Node> nodes)
    {
        var bad = nodes.Where(n => n.Domain is not ("" or "ai.onnx") || OpLowerers.Find(n.OpType) is null).ToList();
        if (bad.Count == 0) return;
        static string Op(Node n) => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}:{n.OpType}";
        string what = bad.Count == 1
            ? $"Node '{bad[0].Label}' uses op '{Op(bad[0])}', which Compress cannot compile."
            : $"{bad.Count} nodes use ops Compress cannot compile: " +
              string.Join(", ", bad.Take(10).Select(n => $"'{n.Label}' ({Op(n)})")) + (bad.Count > 10 ? ", …" : "") + ".";
        throw new CompressException(ErrorCodes.UnsupportedOp,
            $"{what} Supported ops (default ONNX domain): {string.Join(", ", SupportedOps)}. " +
            "Export the model with supported ops, or open an issue asking for the op.");
    }

    static bool IsBatchDynamic(IReadOnlyList<ValueInfo> tensors) =>
        tensors.Count > 0 && tensors.All(t => t.Shape is { Rank: > 0 } s && !s.Dims[0].IsKnown);

    /// <summary>
    /// "fp32 · 3 Gemm, 2 fused Relu · 203,176 weight bytes"; with quantised nodes
    /// "int8 · 3 Gemm, 2 fused Relu · 3 of 3 nodes quantised · 52,480 weight bytes".
    /// </summary>
    static string Summary(IReadOnlyList<Node> nodes, int weightBytes, IReadOnlyList<(Node Node, NodePrecision Precision)> quantized)
    {
        var parts = new List<string>();
        foreach (var g in nodes.GroupBy(n => n.OpType)) parts.Add($"{g.Count()} {g.Key}");
        foreach (var g in nodes.Select(Activations.ReadFused).Where(a => a is { Kind: not Runtime.ActivationKind.None })
                     .GroupBy(a => a!.Value.Kind))
            parts.Add($"{g.Count()} fused {g.Key}");
        string ops = parts.Count == 0 ? "no ops" : string.Join(", ", parts);
        if (quantized.Count == 0) return string.Create(CultureInfo.InvariantCulture, $"fp32 · {ops} · {weightBytes:N0} weight bytes");
        string precision = string.Join(" + ", quantized.Select(q => q.Precision).Distinct().Order().Select(Describe));
        return string.Create(CultureInfo.InvariantCulture,
            $"{precision} · {ops} · {quantized.Count} of {nodes.Count} nodes quantised · {weightBytes:N0} weight bytes");
    }

    /// <summary>The plan's <c>stats</c>: MACs and parameter counts of the graph as lowered (zeros counted apart).</summary>
    static PlanStats Stats(Graph.Graph graph)
    {
        var cost = Pruning.MacCounter.Count(graph);
        long parameters = cost.Layers.Sum(l => l.Weights), nonZero = cost.Layers.Sum(l => l.NonZeroWeights);
        return new PlanStats(cost.Macs.NonZero, cost.Macs.Dense, parameters, nonZero);
    }
}
