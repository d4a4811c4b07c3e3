using Compress.Tasks.Data;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

/// <summary>
/// Build-time validation: runs the lowered plan with the Compress.Runtime kernels (the same code the generated
/// class calls) and the original model with ONNX Runtime on the same samples, and compares them.
/// </summary>
public static class ModelValidator
{
    /// <summary>Samples used when the model gets no data file.</summary>
    public const int RandomSamples = 16;

    public static ValidationResult Validate(string modelPath, ModelPlan plan, byte[] weights, ValidationInputs data)
    {
        var inputs = LoadInputs(plan, data, out string source);
        int count = inputs.Count;
        if (data.MaxSamples is int max && max < count) { inputs = inputs.Take(max).ToList(); count = max; }
        int[]? labels = data.LabelsPath is null ? null : LoadLabels(data.LabelsPath, count);

        var interpreter = new PlanInterpreter(plan, weights);
        using var reference = new OnnxRuntimeReference(modelPath);
        var inputNames = plan.Inputs.Select(i => i.Name).ToArray();
        var outputNames = plan.Outputs.Select(o => o.Name).ToArray();
        var shapes = plan.Inputs.Select(i => i.Shape.Select(d => (long)d).ToArray()).ToArray();

        double maxAbs = 0, maxRef = 0;
        int correct = 0, referenceCorrect = 0, agree = 0;
        for (int s = 0; s < count; s++)
        {
            float[][] got = interpreter.Run(inputs[s]);
            float[][] want = reference.Run(inputs[s], shapes, inputNames, outputNames);
            for (int o = 0; o < want.Length; o++)
            {
                if (got[o].Length != want[o].Length)
                    throw new CompressException(ErrorCodes.ValidationMismatch,
                        $"Output '{outputNames[o]}' has {got[o].Length} values in the compiled model but {want[o].Length} in ONNX Runtime.", modelPath);
                for (int i = 0; i < want[o].Length; i++)
                {
                    double d = Math.Abs((double)got[o][i] - want[o][i]);
                    if (double.IsNaN(d)) d = double.PositiveInfinity;
                    maxAbs = Math.Max(maxAbs, d);
                    maxRef = Math.Max(maxRef, Math.Abs((double)want[o][i]));
                }
            }
            int a = ArgMax(got[0]), b = ArgMax(want[0]);
            if (a == b) agree++;
            if (labels is not null)
            {
                if (a == labels[s]) correct++;
                if (b == labels[s]) referenceCorrect++;
            }
        }
        return new ValidationResult(count, source, maxAbs, maxRef,
            labels is null ? null : (double)correct / count,
            labels is null ? null : (double)referenceCorrect / count,
            count == 0 ? 1 : (double)agree / count);
    }

    static List<float[][]> LoadInputs(ModelPlan plan, ValidationInputs data, out string source)
    {
        string? path = data.SamplesPath;
        if (path is not null)
        {
            if (plan.Inputs.Count != 1)
                throw new CompressException(ErrorCodes.BadData,
                    $"Validation data '{path}' is one file, but the model has {plan.Inputs.Count} inputs. Omit the data to validate on random inputs.", path);
            var file = TensorFile.ReadSamples(path, plan.Inputs[0].Length);
            source = path;
            return Enumerable.Range(0, file.Count).Select(i => new[] { file.SampleAsFloats(i) }).ToList();
        }
        source = $"{RandomSamples} random samples (seed 0)";
        return SampleSource.RandomInputs(plan);
    }

    static int[] LoadLabels(string path, int count)
    {
        var file = TensorFile.ReadLabels(path);
        if (file.Count < count)
            throw new CompressException(ErrorCodes.BadData, $"Label file '{path}' has {file.Count} labels but the validation data has {count} samples; give one label per sample.", path);
        return Enumerable.Range(0, count).Select(i => (int)file.Values[i]).ToArray();
    }

    static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

/// <summary>Where validation samples come from: a samples file (else random inputs), optional labels, an optional cap.</summary>
public sealed record ValidationInputs(string? SamplesPath, string? LabelsPath, int? MaxSamples);
