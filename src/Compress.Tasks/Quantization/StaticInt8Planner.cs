using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Passes;

namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Static int8 (Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
/// Inference", CVPR 2018): weights s8 symmetric per output channel, activations u8 affine per tensor from calibrated
/// ranges, fused Relu/Clip as the requantisation clamp, pools and aliases on u8 with their input's parameters, and
/// the fp32/u8 boundaries placed by <see cref="Int8Dataflow"/>. Which of the nodes that could run int8 do is chosen by
/// the <see cref="CostModel"/> ("never slower"): a local search over the whole graph's estimated time, boundaries
/// included, so a small layer inside an int8 run stays int8 while the same layer alone between fp32 ops does not.
/// </summary>
public static class StaticInt8Planner
{
    /// <summary>The decisions, independent of the calibrated ranges (so calibration knows what to observe).</summary>
    public sealed record Decision(
        Graph Graph,
        ImmutableArray<QuantCandidate?> Candidates,
        ImmutableArray<bool> Int8,
        Int8Dataflow Dataflow,
        ImmutableArray<NodeDecision> Decisions);

    /// <summary>Chooses the int8 nodes and places the boundaries.</summary>
    public static Decision Decide(Graph graph, QuantizeOptions options)
    {
        var nodes = graph.Nodes;
        var reasons = new string?[nodes.Length];
        var candidates = new QuantCandidate?[nodes.Length];
        var weightAxis = new Dictionary<string, (int Axis, string Node)>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (options.Exclude.Contains(node.Label)) { reasons[i] = "Exclude"; continue; }
            var c = QuantizableOps.Analyse(graph, node, i, out reasons[i]);
            if (c?.Weight is { } w)
            {
                if (weightAxis.TryGetValue(w, out var other) && other.Axis != c.ChannelAxis)
                {
                    reasons[i] = $"its weight '{w}' is shared with '{other.Node}', which quantises it along axis {other.Axis}";
                    continue;
                }
                weightAxis[w] = (c.ChannelAxis, node.Label);
            }
            candidates[i] = c;
        }

        var int8 = candidates.Select(c => c is { Role: not QuantRole.PassThrough }).ToArray();
        // Forced nodes (LayerOverrides, shift layers) stay int8 whatever the estimate; the search decides the rest around them.
        var forced = candidates.Select(c => c is { Role: not QuantRole.PassThrough } && options.Force.Contains(c.Node.Label)).ToArray();
        var model = options.CostModel;
        if (model is not null) Search(graph, candidates, int8, forced, model);
        var flow = Int8Dataflow.Analyse(graph, candidates, int8);

        var decisions = ImmutableArray.CreateBuilder<NodeDecision>(nodes.Length);
        for (int i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            var c = candidates[i];
            if (c is null)
                decisions.Add(new NodeDecision(node.Label, NodePrecision.Fp32, reasons[i] ?? "no quantised kernel"));
            else if (c.Role == QuantRole.PassThrough)
                decisions.Add(flow.U8PassThrough.Contains(i)
                    ? new NodeDecision(node.Label, NodePrecision.Int8, $"runs on u8 with the scale and zero point of '{flow.Shared[node.Output0]}'")
                    : new NodeDecision(node.Label, NodePrecision.Fp32, $"its input '{node.Input(0)}' is fp32"));
            else if (model is null)
                decisions.Add(new NodeDecision(node.Label, int8[i] ? NodePrecision.Int8 : NodePrecision.Fp32, $"{c.Describe()}: int8 (cost model off)"));
            else
                decisions.Add(Explain(graph, candidates, int8, model, c));
        }
        return new Decision(graph, [.. candidates], [.. int8], flow, decisions.MoveToImmutable());
    }

    /// <summary>The static int8 result: decisions, activation parameters from <paramref name="ranges"/>, quantised weights.</summary>
    /// <exception cref="CompressException">CMP008 when a range is missing or not finite.</exception>
    public static QuantizationResult Plan(Graph graph, QuantizeOptions options, IReadOnlyDictionary<string, TensorRange> ranges)
    {
        var d = Decide(graph, options);
        var activations = ImmutableDictionary.CreateBuilder<string, QuantParams>(StringComparer.Ordinal);
        foreach (string value in d.Dataflow.Owned)
        {
            if (!ranges.TryGetValue(value, out var range))
                throw new CompressException(ErrorCodes.BadData,
                    $"The calibration gave no range for '{value}', which static int8 quantises; calibrate the values QuantizationPlanner.ValuesToCalibrate lists.");
            if (!float.IsFinite(range.Min) || !float.IsFinite(range.Max) || range.Min > range.Max)
                throw new CompressException(ErrorCodes.BadData,
                    $"The calibrated range of '{value}' is [{range.Min.ToString("R", CultureInfo.InvariantCulture)}, {range.Max.ToString("R", CultureInfo.InvariantCulture)}]; " +
                    "check the calibration data for NaN or infinite values.");
            activations[value] = Params(graph, value, range);
        }
        foreach (var (value, root) in d.Dataflow.Shared) activations[value] = activations[root];

        var weights = ImmutableDictionary.CreateBuilder<string, QuantizedWeight>(StringComparer.Ordinal);
        for (int i = 0; i < d.Candidates.Length; i++)
            if (d.Int8[i] && d.Candidates[i] is { Weight: { } w } c && !weights.ContainsKey(w))
                weights[w] = WeightQuantizer.Int8PerChannel(graph.Constant(w)!, c.ChannelAxis);

        return new QuantizationResult(nameof(QuantizeMode.Int8), activations.ToImmutable(), weights.ToImmutable(), d.Decisions)
        {
            Boundaries = d.Dataflow.Boundaries,
            SharedParams = d.Dataflow.Shared,
        };
    }

    /// <summary>
    /// u8 parameters of a value from its range; the output of a node with a fused Relu or Clip is clamped to what that
    /// activation can produce first, so a Conv+Relu output starts at 0 (zero point 0) and uses all 256 levels.
    /// </summary>
    static QuantParams Params(Graph graph, string value, TensorRange range)
    {
        float min = range.Min, max = range.Max;
        if (graph.Producer(value) is { } producer && FusedActivationAttributes.Read(producer) is { } act)
        {
            if (act.OpType == "Relu") min = Math.Max(min, 0f);
            else if (act.OpType == "Clip")
            {
                min = Math.Max(min, act.Alpha);
                max = Math.Min(max, act.Beta);
                if (max < min) max = min;
            }
        }
        return QuantParams.FromRange(min, max);
    }

    /// <summary>
    /// Local search, from two starts (all int8, all fp32): sweep the candidates in graph order and flip any whose other
    /// precision lowers the whole graph's estimate (kernels + boundaries); stop when a sweep flips nothing. The better
    /// end wins; ties go to fp32 ("not lower stays fp32"), node by node and between the two ends.
    /// </summary>
    static void Search(Graph graph, QuantCandidate?[] candidates, bool[] int8, bool[] forced, CostModel model)
    {
        var fromFp32 = (bool[])forced.Clone();
        double a = LocalSearch(graph, candidates, int8, forced, model);
        double b = LocalSearch(graph, candidates, fromFp32, forced, model);
        if (b < a || (b == a && fromFp32.Count(x => x) < int8.Count(x => x))) Array.Copy(fromFp32, int8, int8.Length);
    }

    static double LocalSearch(Graph graph, QuantCandidate?[] candidates, bool[] int8, bool[] forced, CostModel model)
    {
        double current = Total(graph, candidates, int8, model);
        for (int sweep = 0; sweep < 16; sweep++)
        {
            bool changed = false;
            for (int i = 0; i < int8.Length; i++)
            {
                if (candidates[i] is not { Role: not QuantRole.PassThrough } || forced[i]) continue;
                int8[i] = !int8[i];
                double flipped = Total(graph, candidates, int8, model);
                if (int8[i] ? flipped < current : flipped <= current)
                {
                    current = flipped;
                    changed = true;
                }
                else int8[i] = !int8[i];
            }
            if (!changed) break;
        }
        return current;
    }

    static double Total(Graph graph, QuantCandidate?[] candidates, bool[] int8, CostModel model)
    {
        double t = 0;
        for (int i = 0; i < candidates.Length; i++)
            if (candidates[i] is { Role: not QuantRole.PassThrough } c)
                t += int8[i] ? model.Int8(c.Shape) : model.Fp32(c.Shape);
        return t + Int8Dataflow.Analyse(graph, candidates, int8).BoundaryCost(graph, model);
    }

    /// <summary>The node's estimate both ways with the others fixed; the difference in boundary cost goes to the dearer side.</summary>
    static NodeDecision Explain(Graph graph, QuantCandidate?[] candidates, bool[] int8, CostModel model, QuantCandidate c)
    {
        int i = c.Index;
        bool chosen = int8[i];
        int8[i] = true;
        double bInt8 = Int8Dataflow.Analyse(graph, candidates, int8).BoundaryCost(graph, model);
        int8[i] = false;
        double bFp32 = Int8Dataflow.Analyse(graph, candidates, int8).BoundaryCost(graph, model);
        int8[i] = chosen;
        double low = Math.Min(bInt8, bFp32);
        double q = (model.Int8(c.Shape) + bInt8 - low) / 1000, f = (model.Fp32(c.Shape) + bFp32 - low) / 1000;
        string verdict = chosen ? "int8" : "stays fp32";
        string boundaries = bInt8 != bFp32 ? " incl. quantise/dequantise" : "";
        return new NodeDecision(c.Node.Label, chosen ? NodePrecision.Int8 : NodePrecision.Fp32,
            string.Create(CultureInfo.InvariantCulture, $"{c.Describe()}: int8 {q:0.###} µs vs fp32 {f:0.###} µs{boundaries} — {verdict}"))
        {
            QuantizedMicroseconds = q,
            Fp32Microseconds = f,
        };
    }
}
