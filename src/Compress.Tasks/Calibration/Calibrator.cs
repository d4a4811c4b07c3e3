using System.Numerics.Tensors;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Calibration;

/// <summary>
/// Post-training calibration: runs the fp32 plan with the <see cref="PlanInterpreter"/> (the kernels the generated
/// class calls) on every calibration sample, watches the requested graph values right after the step that produces
/// each (<see cref="LoweredModel.ValueLocations"/>, <see cref="LoweredModel.ValueReadyAfterStep"/>), and turns what it
/// saw into one <see cref="TensorRange"/> per value with the chosen <see cref="CalibrationMethod"/>.
/// </summary>
/// <remarks>
/// Memory is flat in the number of samples: the interpreter, the sample and output buffers and the statistics are
/// allocated once (per value: a min and max, and for the histogram methods 2 × 2048 counters), and a sample run
/// allocates nothing. MinMax reads the data once. Percentile and Entropy read it twice: pass 1 finds each value's
/// min/max, pass 2 fills histograms whose range is fixed to that max |x|, so every value gets the full 2048 bins over
/// [0, max |x|] (TensorRT's histogram) and no bins are folded on the way.
/// </remarks>
public static class Calibrator
{
    /// <summary>The ranges of <paramref name="valuesToObserve"/> (graph inputs and node outputs) over every sample of <paramref name="data"/>.</summary>
    /// <param name="fp32">The lowered fp32 model (its plan is run; its value locations say where to look).</param>
    /// <param name="data">The samples, opened for <paramref name="fp32"/>'s inputs.</param>
    /// <param name="method">How a distribution becomes a range.</param>
    /// <param name="percentile">p for <see cref="CalibrationMethod.Percentile"/> (in [50, 100]); ignored otherwise.</param>
    /// <param name="valuesToObserve">Value names; each must be a key of <see cref="LoweredModel.ValueLocations"/>.</param>
    /// <returns>One range per distinct requested value, in request order.</returns>
    /// <exception cref="CompressException">
    /// CMP008: a sample holds NaN/infinity (naming the file), or a value becomes NaN/infinite in fp32 on a sample;
    /// CMP006: the percentile is outside [50, 100].
    /// </exception>
    /// <exception cref="ArgumentException">A value has no location, or <paramref name="data"/> was opened for other inputs.</exception>
    // Post-training static calibration of activation ranges: Jacob et al., CVPR 2018, §3; Wu et al. (NVIDIA, 2020), §4.
    public static IReadOnlyDictionary<string, TensorRange> Run(LoweredModel fp32, CalibrationData data, CalibrationMethod method,
        double percentile, IEnumerable<string> valuesToObserve)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(valuesToObserve);
        if (!Enum.IsDefined(method)) throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown calibration method.");
        if (method == CalibrationMethod.Percentile) PercentileRange.Check(percentile);
        var plan = fp32.Plan;
        if (data.Inputs.Count != plan.Inputs.Count || data.Inputs.Zip(plan.Inputs).Any(p => p.First.Length != p.Second.Length))
            throw new ArgumentException("The calibration data was opened for other inputs than the plan's.", nameof(data));

        // Which values to read after which step: slot step + 1 (graph inputs are read at −1, before the first step).
        var names = valuesToObserve.Distinct(StringComparer.Ordinal).ToArray();
        var byStep = new List<(int Value, SpanArg Location)>[plan.Steps.Count + 1];
        for (int k = 0; k < byStep.Length; k++) byStep[k] = [];
        for (int v = 0; v < names.Length; v++)
        {
            if (!fp32.ValueLocations.TryGetValue(names[v], out var location) || !fp32.ValueReadyAfterStep.TryGetValue(names[v], out int step))
                throw new ArgumentException(
                    $"Value '{names[v]}' has no location in the lowered plan (a constant, an unused output, or not in the graph); " +
                    $"observable values: {string.Join(", ", fp32.ValueLocations.Keys.Order(StringComparer.Ordinal).Take(20))}{(fp32.ValueLocations.Count > 20 ? ", …" : "")}.",
                    nameof(valuesToObserve));
            if (step < -1 || step >= plan.Steps.Count)
                throw new ArgumentException($"Value '{names[v]}' is ready after step {step}, outside the plan's {plan.Steps.Count} steps.", nameof(fp32));
            byStep[step + 1].Add((v, location));
        }
        var watch = byStep.Select(l => l.ToArray()).ToArray();
        Action<int, PlanInterpreter.Frame> Observe(ValueAction onValue) => (step, frame) =>
        {
            foreach (var (value, location) in watch[step + 1]) onValue(value, frame.Read(location));
        };

        var interpreter = new PlanInterpreter(plan, fp32.Weights);
        var inputs = data.CreateBuffers();
        var outputs = plan.Outputs.Select(o => new float[o.Length]).ToArray();

        // Pass 1: min and max of every value.
        var min = new float[names.Length];
        var max = new float[names.Length];
        min.AsSpan().Fill(float.PositiveInfinity);
        max.AsSpan().Fill(float.NegativeInfinity);
        var sample = new SampleIndex();
        RunAll(interpreter, data, inputs, outputs, sample, Observe((v, values) =>
        {
            if (values.IsEmpty) return;
            float lo = TensorPrimitives.Min(values), hi = TensorPrimitives.Max(values); // NaN if any is NaN
            if (!float.IsFinite(lo) || !float.IsFinite(hi)) throw NotFinite(names[v], sample.Value, data, plan);
            min[v] = Math.Min(min[v], lo);
            max[v] = Math.Max(max[v], hi);
        }));

        var ranges = new Dictionary<string, TensorRange>(names.Length, StringComparer.Ordinal);
        if (method == CalibrationMethod.MinMax)
        {
            for (int v = 0; v < names.Length; v++) ranges[names[v]] = MinMaxRange.Compute(min[v], max[v]);
            return ranges;
        }

        // Pass 2: histograms over each value's final range.
        var histograms = new RangeHistogram[names.Length];
        for (int v = 0; v < names.Length; v++)
            histograms[v] = new RangeHistogram(min[v] <= max[v] ? Math.Max(-(double)min[v], max[v]) : 0);
        RunAll(interpreter, data, inputs, outputs, sample, Observe((v, values) =>
        {
            if (!histograms[v].TryAdd(values)) throw NotFinite(names[v], sample.Value, data, plan);
        }));
        for (int v = 0; v < names.Length; v++)
            ranges[names[v]] = method == CalibrationMethod.Percentile
                ? PercentileRange.Compute(histograms[v], percentile)
                : EntropyRange.Compute(histograms[v]);
        return ranges;
    }

    /// <summary>Runs every sample through the plan; allocates nothing per sample.</summary>
    static void RunAll(PlanInterpreter interpreter, CalibrationData data, float[][] inputs, float[][] outputs, SampleIndex sample,
        Action<int, PlanInterpreter.Frame> observer)
    {
        for (int s = 0; s < data.Count; s++)
        {
            sample.Value = s;
            data.Read(s, inputs);
            interpreter.RunInto(inputs, outputs, observer);
        }
    }

    static CompressException NotFinite(string value, int sample, CalibrationData data, ModelPlan plan)
    {
        string file = data.Files.Count == 1 ? data.Files[0] : data.Path;
        return new CompressException(ErrorCodes.BadData,
            $"Calibration sample {sample} of '{data.Path}' makes value '{value}' NaN or infinite in the fp32 model" +
            (plan.Source.File.Length > 0 ? $" ({plan.Source.File})" : "") +
            ", so it has no range to quantise. Check that the samples are preprocessed as the model expects.", file);
    }

    /// <summary>The sample being run, for error messages (one instance per calibration, so the observers capture no loop variable).</summary>
    sealed class SampleIndex
    {
        public int Value;
    }

    /// <summary>Called with a watched value's index and its current contents.</summary>
    delegate void ValueAction(int value, ReadOnlySpan<float> contents);
}
