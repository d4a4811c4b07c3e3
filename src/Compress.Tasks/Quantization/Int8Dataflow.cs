using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Where each value lives — fp32 or u8 — once a set of nodes runs int8, and the conversions that implies (Jacob et al.
/// 2018 §2: a run of quantised layers passes u8 tensors from one to the next; only its entry and exit convert).
/// <list type="bullet">
/// <item>An int8 Conv or Binary writes u8 (requantised with its own output parameters).</item>
/// <item>An int8 Gemm/MatMul writes u8 when some reader takes u8 (directly or through u8 pass-through ops), its fused
/// activation is a clamp and the value is not a graph output; otherwise it writes f32 (<c>GemvToF32</c>).</item>
/// <item>A pass-through op (pool, alias) whose input is produced in u8 runs on u8 and shares its input's parameters.</item>
/// <item>Everything else writes f32.</item>
/// </list>
/// A value produced in f32 and read as u8 gets a <see cref="BoundaryKind.Quantize"/>; one produced in u8 and read as
/// f32 (or a graph output) a <see cref="BoundaryKind.Dequantize"/>. Pure: a function of the graph and the int8 set.
/// </summary>
public sealed class Int8Dataflow
{
    /// <summary>Values produced in u8.</summary>
    public IReadOnlySet<string> ProducedU8 { get; }

    /// <summary>Pass-through nodes (by index) that run on u8.</summary>
    public IReadOnlySet<int> U8PassThrough { get; }

    /// <summary>The conversions, in graph order (graph inputs first).</summary>
    public ImmutableArray<QuantBoundary> Boundaries { get; }

    /// <summary>Values that need their own u8 parameters (from calibration), in graph order: requantised outputs and quantised f32 values.</summary>
    public ImmutableArray<string> Owned { get; }

    /// <summary>Values whose parameters are another's (u8 pass-through outputs) → the owning value.</summary>
    public ImmutableDictionary<string, string> Shared { get; }

    Int8Dataflow(HashSet<string> producedU8, HashSet<int> passThrough, ImmutableArray<QuantBoundary> boundaries,
        ImmutableArray<string> owned, ImmutableDictionary<string, string> shared)
    {
        ProducedU8 = producedU8;
        U8PassThrough = passThrough;
        Boundaries = boundaries;
        Owned = owned;
        Shared = shared;
    }

    /// <param name="graph">The canonical graph.</param>
    /// <param name="candidates">Per node index: its candidate (null when it has no quantised kernel or is excluded).</param>
    /// <param name="int8">Per node index: it runs int8 (only for Linear, Conv and Binary candidates).</param>
    public static Int8Dataflow Analyse(Graph graph, IReadOnlyList<QuantCandidate?> candidates, IReadOnlyList<bool> int8)
    {
        var nodes = graph.Nodes;
        bool IsInt8Compute(int i) => int8[i] && candidates[i] is { Role: not QuantRole.PassThrough };
        bool IsPassThrough(int i) => candidates[i] is { Role: QuantRole.PassThrough };

        // Backwards: which values some reader wants as u8 (an int8 node, or a pass-through whose output is wanted as u8).
        var wantsU8 = new HashSet<string>(StringComparer.Ordinal);
        for (int i = nodes.Length - 1; i >= 0; i--)
        {
            if (IsInt8Compute(i)) wantsU8.UnionWith(candidates[i]!.DataInputs);
            else if (IsPassThrough(i) && wantsU8.Contains(nodes[i].Output0)) wantsU8.Add(nodes[i].Input(0));
        }

        // Forwards: how each value is produced.
        var producedU8 = new HashSet<string>(StringComparer.Ordinal);
        var passThrough = new HashSet<int>();
        var shared = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var requantised = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (IsInt8Compute(i))
            {
                var c = candidates[i]!;
                bool u8 = c.Role != QuantRole.Linear || (c.Clamp && wantsU8.Contains(node.Output0) && !graph.IsGraphOutput(node.Output0));
                if (u8)
                {
                    producedU8.Add(node.Output0);
                    requantised.Add(node.Output0);
                }
            }
            else if (IsPassThrough(i) && producedU8.Contains(node.Input(0)))
            {
                passThrough.Add(i);
                producedU8.Add(node.Output0);
                string input = node.Input(0);
                shared[node.Output0] = shared.TryGetValue(input, out var root) ? root : input;
            }
        }

        // Who reads what: u8 readers (int8 nodes, u8 pass-through) and f32 readers (every other node, graph outputs).
        var readU8 = new HashSet<string>(StringComparer.Ordinal);
        var readF32 = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (IsInt8Compute(i) || passThrough.Contains(i))
            {
                var data = candidates[i]!.DataInputs;
                readU8.UnionWith(data);
                readF32.UnionWith(node.Inputs.Where(v => v.Length > 0 && !data.Contains(v) && !graph.IsConstant(v)));
            }
            else readF32.UnionWith(node.Inputs.Where(v => v.Length > 0 && !graph.IsConstant(v)));
        }
        readF32.UnionWith(graph.Outputs.Select(o => o.Name));

        var boundaries = ImmutableArray.CreateBuilder<QuantBoundary>();
        var owned = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in graph.Inputs.Select(v => v.Name).Concat(nodes.SelectMany(n => n.Outputs)))
        {
            if (value.Length == 0 || !seen.Add(value)) continue;
            if (producedU8.Contains(value))
            {
                if (requantised.Contains(value)) owned.Add(value);
                if (readF32.Contains(value)) boundaries.Add(new QuantBoundary(value, BoundaryKind.Dequantize));
            }
            else if (readU8.Contains(value))
            {
                owned.Add(value);
                boundaries.Add(new QuantBoundary(value, BoundaryKind.Quantize));
            }
        }
        return new Int8Dataflow(producedU8, passThrough, boundaries.ToImmutable(), owned.ToImmutable(), shared.ToImmutable());
    }

    /// <summary>The cost of the conversions under <paramref name="model"/>, in ns.</summary>
    public double BoundaryCost(Graph graph, CostModel model) => Boundaries.Sum(b =>
    {
        long n = QuantizableOps.Dims(graph, b.Value)?.Aggregate(1L, (p, d) => p * d) ?? 0;
        return b.Kind == BoundaryKind.Quantize ? model.QuantizeCost(n) : model.DequantizeCost(n);
    });
}
