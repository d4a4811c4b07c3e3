using System.Collections.Immutable;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Validation;

/// <summary>
/// Per-layer quantisation error: runs the fp32 plan and the quantised plan of one model with the
/// <see cref="PlanInterpreter"/> (the runtime kernels) on the same samples, reads every node's output in each right
/// after the step that finishes it (<see cref="LoweredModel.ValueLocations"/>; a value the quantised plan keeps only
/// as u8 is dequantised from <see cref="LoweredModel.U8ValueLocations"/> with its scale and zero point), and
/// accumulates the SQNR of the quantised output against the fp32 one over all samples (<see cref="SqnrAccumulator"/>).
/// A layer's loss is the SQNR of its worst input minus that of its output: the error the layer itself adds.
/// </summary>
/// <remarks>
/// Memory is flat in the number of samples: one fp32 copy of each node output (the reference of the sample being
/// run) and two sums per value; a sample run allocates nothing. The build uses at most <see cref="MaxSamples"/>.
/// </remarks>
// Per-tensor SQNR along the graph, as PyTorch's numeric suite (compare_model_outputs) and ONNX Runtime's qdq_loss_debug report it.
public static class LayerErrorAnalysis
{
    /// <summary>Samples the build compares at most: as many as a typical calibration set, few enough to stay well below a second.</summary>
    public const int MaxSamples = 256;

    /// <summary>Calls that compute in a quantised form (not mere conversions): a node with one of them runs quantised.</summary>
    static readonly HashSet<string> QuantizedCompute =
        PlanCalls.Quantized.Except([PlanCalls.Quantize, PlanCalls.Dequantize]).ToHashSet(StringComparer.Ordinal);

    /// <summary>Compares <paramref name="quantized"/> with <paramref name="fp32"/> layer by layer on every sample of <paramref name="samples"/>.</summary>
    /// <param name="canonical">The canonical graph both plans were lowered from (its nodes are the layers).</param>
    /// <param name="fp32">The fp32 lowering of <paramref name="canonical"/>: the reference.</param>
    /// <param name="quantized">The quantised lowering of the same graph.</param>
    /// <param name="samples">The inputs, opened for the plans' inputs.</param>
    /// <exception cref="ArgumentException">The two plans have different inputs or outputs.</exception>
    public static LayerErrorResult Run(Graph.Graph canonical, LoweredModel fp32, LoweredModel quantized, SampleSource samples)
    {
        ArgumentNullException.ThrowIfNull(canonical);
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(quantized);
        ArgumentNullException.ThrowIfNull(samples);
        var plan = quantized.Plan;
        if (!fp32.Plan.Inputs.SequenceEqual(plan.Inputs) || !fp32.Plan.Outputs.SequenceEqual(plan.Outputs))
            throw new ArgumentException("The fp32 and quantised plans have different inputs or outputs; lower them from the same graph.", nameof(quantized));

        var stepsOf = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            if (!stepsOf.TryGetValue(plan.Steps[s].Node, out var list)) stepsOf[plan.Steps[s].Node] = list = [];
            list.Add(s);
        }

        // The values compared: every node output both plans hold, each read after the step its plan finishes it in.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var references = new List<float[]>();
        var reference = Slots<(int, SpanArg)>(fp32.Plan.Steps.Count);
        var approximation = Slots<(int, SpanArg, QuantParams?)>(plan.Steps.Count);
        foreach (var node in canonical.Nodes)
            foreach (string o in node.Outputs)
            {
                if (o.Length == 0 || index.ContainsKey(o) || !fp32.ValueLocations.TryGetValue(o, out var at)) continue;
                (SpanArg Location, int Ready, QuantParams? U8) q;
                if (quantized.ValueLocations.TryGetValue(o, out var f32)) q = (f32, quantized.ValueReadyAfterStep[o], null);
                else if (quantized.U8ValueLocations.TryGetValue(o, out var u8)) q = (u8.Location, u8.ReadyAfterStep, u8.Parameters);
                else continue;
                int v = references.Count;
                index[o] = v;
                references.Add(new float[at.Length]);
                reference[fp32.ValueReadyAfterStep[o] + 1].Add((v, at));
                approximation[q.Ready + 1].Add((v, q.Location, q.U8));
            }
        var accumulators = references.Select(_ => new SqnrAccumulator()).ToArray();
        var referenceAt = reference.Select(l => l.ToArray()).ToArray();
        var approximationAt = approximation.Select(l => l.ToArray()).ToArray();
        Action<int, PlanInterpreter.Frame> copyReference = (step, frame) =>
        {
            foreach (var (v, location) in referenceAt[step + 1]) frame.Read(location).CopyTo(references[v]);
        };
        Action<int, PlanInterpreter.Frame> compare = (step, frame) =>
        {
            foreach (var (v, location, u8) in approximationAt[step + 1])
            {
                if (u8 is null) accumulators[v].Add(references[v], frame.Read(location));
                else accumulators[v].Add(references[v], frame.ReadU8(location), u8);
            }
        };

        var fp32Run = new PlanInterpreter(fp32.Plan, fp32.Weights);
        var quantizedRun = new PlanInterpreter(plan, quantized.Weights);
        var inputs = samples.CreateBuffers();
        var fp32Outputs = plan.Outputs.Select(o => new float[o.Length]).ToArray();
        var quantizedOutputs = plan.Outputs.Select(o => new float[o.Length]).ToArray();
        int agree = 0;
        for (int s = 0; s < samples.Count; s++)
        {
            samples.Read(s, inputs);
            fp32Run.RunInto(inputs, fp32Outputs, copyReference);
            quantizedRun.RunInto(inputs, quantizedOutputs, compare);
            if (fp32Outputs.Length == 0 || ArgMax(fp32Outputs[0]) == ArgMax(quantizedOutputs[0])) agree++;
        }

        var graphInputs = canonical.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        double Sqnr(string value) => index.TryGetValue(value, out int v) ? accumulators[v].Decibels : double.NaN;
        var layers = ImmutableArray.CreateBuilder<LayerError>();
        foreach (var node in canonical.Nodes)
        {
            var steps = stepsOf.GetValueOrDefault(node.Label) ?? [];
            var outputs = node.Outputs.Where(o => o.Length > 0).ToImmutableArray();
            if (steps.Count == 0 && !outputs.Any(index.ContainsKey)) continue; // not in the plan (dead, or folded away)
            var nodeInputs = node.Inputs.Where(i => i.Length > 0 && !canonical.IsConstant(i)).Distinct(StringComparer.Ordinal).ToImmutableArray();
            double output = outputs.Select(Sqnr).Where(d => !double.IsNaN(d)).DefaultIfEmpty(double.NaN).Min();
            // Graph inputs are the same in both runs (+∞); an input measured in neither plan says nothing.
            double input = nodeInputs.Where(i => index.ContainsKey(i) || graphInputs.Contains(i))
                .Select(i => index.ContainsKey(i) ? Sqnr(i) : double.PositiveInfinity).DefaultIfEmpty(double.PositiveInfinity).Min();
            var constants = node.Inputs.Where(i => i.Length > 0 && canonical.IsConstant(i)).Distinct(StringComparer.Ordinal).ToImmutableArray();
            layers.Add(new LayerError(node.Label, node.OpType, nodeInputs, constants, outputs, [.. steps],
                steps.Any(s => QuantizedCompute.Contains(plan.Steps[s].Call)),
                outputs.Length > 0 && quantized.U8ValueLocations.TryGetValue(outputs[0], out var u) ? u.Parameters : null,
                output, input));
        }
        return new LayerErrorResult(samples.Count, samples.Description, layers.ToImmutable(),
            samples.Count == 0 ? 1 : (double)agree / samples.Count);
    }

    /// <summary>One list per observer call: slot 0 before the first step, slot s + 1 after step s.</summary>
    static List<T>[] Slots<T>(int steps)
    {
        var slots = new List<T>[steps + 1];
        for (int i = 0; i < slots.Length; i++) slots[i] = [];
        return slots;
    }

    static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
