using System.Collections.Immutable;
using System.Globalization;

namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>The shared shape of the modes whose activations stay f32: per-node decisions on Gemm/MatMul only.</summary>
static class WeightOnlyPlanning
{
    public static QuantizationResult Plan(Graph graph, QuantizeOptions options, NodePrecision precision, string label,
        Func<CostModel, LayerShape, double> quantisedCost, Func<QuantCandidate, QuantizedWeight> quantise, string mode)
    {
        var decisions = ImmutableArray.CreateBuilder<NodeDecision>(graph.Nodes.Length);
        var weights = ImmutableDictionary.CreateBuilder<string, QuantizedWeight>(StringComparer.Ordinal);
        var axes = new Dictionary<string, (int Axis, string Node)>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var node = graph.Nodes[i];
            if (options.Exclude.Contains(node.Label))
            {
                decisions.Add(new NodeDecision(node.Label, NodePrecision.Fp32, "Exclude"));
                continue;
            }
            var c = QuantizableOps.Analyse(graph, node, i, out string? reason);
            if (c is null || c.Role != QuantRole.Linear)
            {
                decisions.Add(new NodeDecision(node.Label, NodePrecision.Fp32,
                    c is null ? reason! : $"{mode} quantises the weights of Gemm and MatMul only"));
                continue;
            }
            if (axes.TryGetValue(c.Weight!, out var other) && other.Axis != c.ChannelAxis)
            {
                decisions.Add(new NodeDecision(node.Label, NodePrecision.Fp32,
                    $"its weight '{c.Weight}' is shared with '{other.Node}', which quantises it along axis {other.Axis}"));
                continue;
            }
            NodeDecision decision;
            if (options.CostModel is { } model)
            {
                double q = quantisedCost(model, c.Shape) / 1000, f = model.Fp32(c.Shape) / 1000;
                bool quantised = q < f;
                decision = new NodeDecision(node.Label, quantised ? precision : NodePrecision.Fp32,
                    string.Create(CultureInfo.InvariantCulture, $"{c.Describe()}: {label} {q:0.###} µs vs fp32 {f:0.###} µs — {(quantised ? label : "stays fp32")}"))
                {
                    QuantizedMicroseconds = q,
                    Fp32Microseconds = f,
                };
            }
            else decision = new NodeDecision(node.Label, precision, $"{c.Describe()}: {label} (cost model off)");
            decisions.Add(decision);
            if (decision.Precision == precision)
            {
                axes[c.Weight!] = (c.ChannelAxis, node.Label);
                if (!weights.ContainsKey(c.Weight!)) weights[c.Weight!] = quantise(c);
            }
        }
        return new QuantizationResult(mode, ImmutableDictionary<string, QuantParams>.Empty, weights.ToImmutable(), decisions.MoveToImmutable());
    }
}
