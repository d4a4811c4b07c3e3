using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Quantization.LowBit;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// The sub-8-bit modes (<c>Quantize="Shift|Ternary|Binary"</c>) and per-layer precision (<c>LayerOverrides</c>): decides
/// each layer's precision, then fits its weights. Layers running on u8 activations (Int8, and Shift, whose power-of-two
/// weights are s8 values ±2^p) go through <see cref="StaticInt8Planner"/> together, so the fp32/u8 boundaries, the
/// calibrated parameters and the pass-through ops are those of static int8; shift layers and explicit overrides are
/// forced there, the cost model decides the rest (Add/Mul, pools). Weight-only layers (Int8Dynamic, Int4, Ternary,
/// Binary) keep f32 activations. Model-wide Ternary and Binary leave the first and last weighted layers in fp32, as
/// TTQ and XNOR-Net do (the first sees raw pixels, the last produces the logits); an override can change that.
/// </summary>
public static class MixedPrecisionPlanner
{
    /// <summary>True when this planner handles the request (a low-bit mode, or any LayerOverrides).</summary>
    public static bool Applies(QuantizeOptions options) =>
        options.Mode is QuantizeMode.Shift or QuantizeMode.Ternary or QuantizeMode.Binary || !options.LayerOverrides.IsEmpty;

    /// <summary>Per node (graph order): the requested precision (null: not a layer this planner decides), whether an override asked for it, and why.</summary>
    sealed record Layout(NodePrecision?[] Requested, bool[] Explicit, string?[] Reasons, QuantCandidate?[] Candidates)
    {
        public bool NeedsU8 => Requested.Any(p => p is NodePrecision.Int8 or NodePrecision.Shift);
    }

    /// <summary>The layers whose weights are fitted on calibration data (shift, ternary, binary), by node label.</summary>
    public static IReadOnlyList<string> LayersToFit(Graph graph, QuantizeOptions options)
    {
        var layout = Resolve(graph, options);
        return graph.Nodes.Where((n, i) => layout.Requested[i] is NodePrecision.Shift or NodePrecision.Ternary or NodePrecision.Binary or NodePrecision.BinaryXnor)
            .Select(n => n.Label).ToList();
    }

    /// <summary>The activation values static int8 needs ranges for (empty when no layer runs on u8).</summary>
    public static IReadOnlyList<string> ValuesToCalibrate(Graph graph, QuantizeOptions options)
    {
        var layout = Resolve(graph, options);
        return layout.NeedsU8 ? StaticInt8Planner.Decide(graph, U8Options(graph, options, layout)).Dataflow.Owned : [];
    }

    /// <summary>Decides and fits every layer.</summary>
    /// <param name="ranges">Calibrated ranges (required when a layer runs on u8: Int8 or Shift).</param>
    /// <param name="inputs">Calibration statistics of the layers to fit (<see cref="LayersToFit"/>); null or missing entries use the data-free fits.</param>
    /// <exception cref="CompressException">CMP017, CMP019 for bad overrides; CMP006 when u8 layers lack calibration.</exception>
    public static QuantizationResult Plan(Graph graph, QuantizeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges,
        IReadOnlyDictionary<string, LayerInput>? inputs = null)
    {
        var layout = Resolve(graph, options);
        QuantizationResult? u8 = null;
        if (layout.NeedsU8)
        {
            if (ranges is null)
                throw new CompressException(ErrorCodes.BadMetadata,
                    $"{(layout.Requested.Contains(NodePrecision.Shift) ? "Shift layers" : "Int8 layers")} run on calibrated u8 activations: set CalibrationData to a .npy of representative inputs.");
            u8 = StaticInt8Planner.Plan(graph, U8Options(graph, options, layout), ranges);
        }

        var decisions = ImmutableArray.CreateBuilder<NodeDecision>(graph.Nodes.Length);
        var weights = ImmutableDictionary.CreateBuilder<string, QuantizedWeight>(StringComparer.Ordinal);
        var notes = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var node = graph.Nodes[i];
            var requested = layout.Requested[i];
            var c = layout.Candidates[i];
            string why = layout.Explicit[i] ? "LayerOverrides" : "";
            var u8Decision = u8?.DecisionFor(node.Label);
            NodeDecision decision;
            switch (requested)
            {
                case NodePrecision.Int8 or NodePrecision.Shift when u8Decision is not null:
                    decision = u8Decision;
                    if (decision.Precision == NodePrecision.Int8 && c?.Weight is { } w8 && u8!.Weights.TryGetValue(w8, out var int8Weight))
                    {
                        if (requested == NodePrecision.Shift)
                        {
                            var (shift, note) = FitShift(graph.Constant(w8)!, c.ChannelAxis, options.ShiftBits, inputs?.GetValueOrDefault(node.Label));
                            weights[w8] = shift;
                            notes[node.Label] = note;
                            decision = decision with { Precision = NodePrecision.Shift, Reason = $"shift {options.ShiftBits}-bit{Because(why)}: {note}; {decision.Reason}" };
                        }
                        else
                        {
                            weights[w8] = int8Weight;
                            if (why.Length > 0) decision = decision with { Reason = $"{why}: {decision.Reason}" };
                        }
                    }
                    break;
                case NodePrecision.Int8Dynamic or NodePrecision.Int4 when c is { Weight: { } wq }:
                    decision = WeightOnly(options, c, requested.Value, layout.Explicit[i]);
                    if (decision.Precision != NodePrecision.Fp32)
                        weights.TryAdd(wq, requested == NodePrecision.Int4
                            ? WeightQuantizer.Int4Blockwise(graph.Constant(wq)!, c.ChannelAxis, options.Int4BlockSize)
                            : WeightQuantizer.Int8PerChannel(graph.Constant(wq)!, c.ChannelAxis));
                    break;
                case NodePrecision.Ternary or NodePrecision.Binary or NodePrecision.BinaryXnor when c is { Weight: { } wb }:
                {
                    var tensor = graph.Constant(wb)!;
                    var layoutRows = new WeightRows(tensor.Dims, c.ChannelAxis);
                    var input = inputs?.GetValueOrDefault(node.Label);
                    var fit = requested == NodePrecision.Ternary
                        ? SignFits.Ternary(layoutRows, tensor.Floats, input)
                        : SignFits.Binary(layoutRows, tensor.Floats, input, requested == NodePrecision.BinaryXnor);
                    weights[wb] = new QuantizedWeight(wb, tensor.Dims, layoutRows.ToLayout(fit.Codes), fit.Scales, c.ChannelAxis)
                    {
                        Bits = requested == NodePrecision.Ternary ? 2 : 1,
                        NegativeScales = fit.NegativeScales,
                    };
                    notes[node.Label] = fit.Note;
                    string method = requested switch
                    {
                        NodePrecision.Ternary => "ternary (TTQ post-training, 2-bit masks)",
                        NodePrecision.Binary => "binary weights (BinaryConnect, 1 bit)",
                        _ => "fully binary (XNOR-Net: 1-bit weights and binarised inputs)",
                    };
                    decision = new NodeDecision(node.Label, requested.Value, $"{c.Describe()}: {method}{Because(why)}; {fit.Note}");
                    break;
                }
                case NodePrecision.Fp32:
                    decision = new NodeDecision(node.Label, NodePrecision.Fp32, layout.Reasons[i] ?? why);
                    break;
                default:
                    decision = u8Decision ?? new NodeDecision(node.Label, NodePrecision.Fp32, layout.Reasons[i] ?? "no quantised kernel");
                    break;
            }
            decisions.Add(decision);
        }

        return new QuantizationResult(options.Mode.ToString(), u8?.Activations ?? ImmutableDictionary<string, QuantParams>.Empty,
            weights.ToImmutable(), decisions.MoveToImmutable())
        {
            Boundaries = u8?.Boundaries ?? [],
            SharedParams = u8?.SharedParams ?? ImmutableDictionary<string, string>.Empty,
            LayerNotes = notes.ToImmutable(),
        };
    }

    static string Because(string why) => why.Length == 0 ? "" : $" ({why})";

    /// <summary>Int8Dynamic/Int4 for one node: forced by an override, else the cost model as <see cref="WeightOnlyPlanning"/> decides.</summary>
    static NodeDecision WeightOnly(QuantizeOptions options, QuantCandidate c, NodePrecision precision, bool forced)
    {
        string label = precision == NodePrecision.Int4 ? "int4" : "int8 (dynamic)";
        if (options.CostModel is not { } model) return new NodeDecision(c.Node.Label, precision, $"{c.Describe()}: {label} (cost model off)");
        double q = (precision == NodePrecision.Int4 ? model.Int4(c.Shape) : model.Int8Dynamic(c.Shape)) / 1000, f = model.Fp32(c.Shape) / 1000;
        bool quantised = forced || q < f;
        return new NodeDecision(c.Node.Label, quantised ? precision : NodePrecision.Fp32,
            string.Create(CultureInfo.InvariantCulture, $"{(forced ? "LayerOverrides: " : "")}{c.Describe()}: {label} {q:0.###} µs vs fp32 {f:0.###} µs — {(quantised ? label : "stays fp32")}"))
        {
            QuantizedMicroseconds = q,
            Fp32Microseconds = f,
        };
    }

    /// <summary>The shift weight of one layer (per output channel, see <see cref="ShiftFit"/>) and a note for the report.</summary>
    static (QuantizedWeight Weight, string Note) FitShift(Tensor tensor, int channelAxis, int bits, LayerInput? input)
    {
        var rows = new WeightRows(tensor.Dims, channelAxis);
        int pmin = ShiftFit.MinExponent(bits);
        var w = tensor.Floats;
        var results = new ShiftFit.Result[rows.Channels];
        int perGroup = input is null ? rows.Channels : rows.Channels / input.Groups;
        bool fitted = input is not null && input.Rows > 0 && input.K == rows.K;
        double[]? Gram(int c) => fitted ? input!.Gram(c / perGroup) : null;
        Parallel.For(0, rows.Channels, c => results[c] = ShiftFit.FitRow(rows.Row(w, c), Gram(c), pmin));
        var grid = ShiftScaleGrid.Snap(results, c => rows.Row(w, c), Gram, pmin);
        results = grid.Results;
        var scales = results.Select(r => (float)r.Scale).ToArray();
        var values = rows.ToLayout(results.Select(r => r.Codes).ToArray());
        double Mean(Func<ShiftFit.Result, double> f) => results.Average(f);
        var exponents = values.Where(v => v != 0).GroupBy(v => System.Numerics.BitOperations.Log2((uint)Math.Abs((int)v)))
            .OrderBy(g => g.Key).Select(g => $"2^{g.Key}: {100.0 * g.Count() / values.Length:0}%");
        string note = FormattableString.Invariant(
            $"w ≈ ±2^p·s, p ∈ [{pmin}, 6] ({string.Join(", ", exponents)}, zero {100.0 * values.Count(v => v == 0) / values.Length:0}%); ") +
            (fitted ? FormattableString.Invariant($"log-domain rounding error {Mean(r => r.RoundedError):P2} of the output → {Mean(r => r.FittedError):P2} after refitting s, putting it on the grid S·2^(i/16) and {results.Sum(r => r.Flips)} exponent flips on calibration data")
                    : FormattableString.Invariant($"weight error {Mean(r => r.FittedError):P2} (no calibration data)"));
        return (new QuantizedWeight(tensor.Name, tensor.Dims, values, scales, channelAxis)
        {
            Bits = bits,
            ScaleCodes = grid.Codes,
            ScaleCodeBase = grid.Base,
        }, note);
    }

    /// <summary>The options for the u8 part: only Int8/Shift layers, shift layers and Int8 overrides forced.</summary>
    static QuantizeOptions U8Options(Graph graph, QuantizeOptions options, Layout layout)
    {
        var exclude = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        var force = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            string label = graph.Nodes[i].Label;
            if (layout.Requested[i] is not (NodePrecision.Int8 or NodePrecision.Shift)) exclude.Add(label);
            else if (layout.Requested[i] == NodePrecision.Shift || layout.Explicit[i]) force.Add(label);
        }
        return options with { Mode = QuantizeMode.Int8, Exclude = exclude.ToImmutable(), Force = force.ToImmutable() };
    }

    /// <summary>Every node's requested precision: the mode's default, the first/last-layer rule, Exclude, then LayerOverrides.</summary>
    static Layout Resolve(Graph graph, QuantizeOptions options)
    {
        int count = graph.Nodes.Length;
        var requested = new NodePrecision?[count];
        var isExplicit = new bool[count];
        var reasons = new string?[count];
        var candidates = new QuantCandidate?[count];
        var analysis = new string?[count];
        var basePrecision = QuantizeOptions.PrecisionOf(options.Mode, options.BinaryActivations);
        for (int i = 0; i < count; i++)
            candidates[i] = QuantizableOps.Analyse(graph, graph.Nodes[i], i, out analysis[i]);
        var weighted = Enumerable.Range(0, count).Where(i => candidates[i] is { Role: QuantRole.Linear or QuantRole.Conv }).ToList();

        for (int i = 0; i < count; i++)
        {
            var node = graph.Nodes[i];
            var c = candidates[i];
            if (c is null) { reasons[i] = analysis[i]; continue; }
            if (options.Exclude.Contains(node.Label)) { requested[i] = NodePrecision.Fp32; reasons[i] = "Exclude"; continue; }
            if (c.Role is not (QuantRole.Linear or QuantRole.Conv))
            {
                // Activation-only ops (Add/Mul, pools, aliases) run on u8 only next to u8 layers.
                requested[i] = basePrecision is NodePrecision.Int8 or NodePrecision.Shift ? NodePrecision.Int8 : null;
                reasons[i] = $"activations stay f32 with {options.Mode} (weight-only)";
                continue;
            }
            if (Unsupported(basePrecision, c) is { } why) { requested[i] = NodePrecision.Fp32; reasons[i] = why; continue; }
            if (basePrecision is NodePrecision.Ternary or NodePrecision.Binary or NodePrecision.BinaryXnor && (i == weighted[0] || i == weighted[^1]))
            {
                requested[i] = NodePrecision.Fp32;
                reasons[i] = $"{(i == weighted[0] ? "first" : "last")} layer: kept at full precision, as TTQ and XNOR-Net do (LayerOverrides can change it)";
                continue;
            }
            requested[i] = basePrecision;
        }

        foreach (var (name, precision) in options.LayerOverrides)
        {
            var matches = Enumerable.Range(0, count).Where(i => Names(graph, graph.Nodes[i]).Contains(name)).ToList();
            if (matches.Count == 0)
            {
                var known = weighted.Select(i => ModulePath(graph.Nodes[i]) is { Length: > 0 } m ? $"{m} ('{graph.Nodes[i].Label}')" : $"'{graph.Nodes[i].Label}'");
                throw new CompressException(ErrorCodes.OverrideNamesNoNode,
                    $"LayerOverrides names '{name}', which is no node, weight or module of the model. Layers: {string.Join(", ", known.Take(30))}{(weighted.Count > 30 ? ", …" : "")}.");
            }
            foreach (int i in matches)
            {
                var node = graph.Nodes[i];
                isExplicit[i] = true;
                if (precision == NodePrecision.Fp32)
                {
                    requested[i] = NodePrecision.Fp32;
                    reasons[i] = "LayerOverrides";
                    continue;
                }
                var c = candidates[i] ?? throw new CompressException(ErrorCodes.LowBitUnsupportedLayer,
                    $"LayerOverrides asks {precision} of node '{node.Label}' ({node.OpType}), which cannot be quantised: {analysis[i]}.");
                string? unsupported = c.Role is QuantRole.Linear or QuantRole.Conv ? Unsupported(precision, c)
                    : precision == NodePrecision.Int8 && c.Role == QuantRole.Binary ? null
                    : $"{precision} applies to layers with weights (Gemm, MatMul{(precision is NodePrecision.Int8 or NodePrecision.Shift ? ", Conv" : "")})";
                if (unsupported is not null)
                    throw new CompressException(ErrorCodes.LowBitUnsupportedLayer,
                        $"LayerOverrides asks {precision} of node '{node.Label}' ({node.OpType}): {unsupported}. Choose another precision for it, or leave it out.");
                requested[i] = precision;
            }
        }
        return new Layout(requested, isExplicit, reasons, candidates);
    }

    /// <summary>Why a weighted layer cannot run at <paramref name="precision"/>, or null.</summary>
    static string? Unsupported(NodePrecision precision, QuantCandidate c) => precision switch
    {
        NodePrecision.Int8Dynamic or NodePrecision.Int4 or NodePrecision.Ternary or NodePrecision.Binary or NodePrecision.BinaryXnor
            when c.Role != QuantRole.Linear => $"{Name(precision)} quantises the weights of Gemm and MatMul only, not {c.Node.OpType}",
        NodePrecision.Shift when c.Role == QuantRole.Conv && !c.Clamp => "its fused activation is not a clamp (the int8 Conv kernels requantise with one)",
        _ => null,
    };

    static string Name(NodePrecision p) => p switch
    {
        NodePrecision.BinaryXnor => "Binary with BinaryActivations",
        _ => p.ToString(),
    };

    /// <summary>The names an override may use for a node: its label, its weight, and its module path ("fc2" for "/fc2/Gemm" and "fc2.weight").</summary>
    static IEnumerable<string> Names(Graph graph, Node node)
    {
        yield return node.Label;
        if (ModulePath(node) is { Length: > 0 } module) yield return module;
        if (node.OpType is "Gemm" or "MatMul" or "Conv" && node.Inputs.Length > 1 && graph.IsConstant(node.Input(1)))
        {
            string weight = node.Input(1);
            yield return weight;
            foreach (string suffix in new[] { ".weight", "_bnfold", ".weight_bnfold" })
                if (weight.EndsWith(suffix, StringComparison.Ordinal)) yield return weight[..^suffix.Length];
        }
    }

    /// <summary>"/block1/se/fc1/Gemm" → "block1.se.fc1" (the PyTorch module path of an exported node); "" when the name has no path.</summary>
    static string ModulePath(Node node)
    {
        var parts = node.Name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 ? string.Join('.', parts[..^1]) : "";
    }
}
