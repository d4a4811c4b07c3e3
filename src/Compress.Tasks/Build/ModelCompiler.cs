using System.Globalization;
using System.Security.Cryptography;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Build;

/// <summary>
/// The whole build-time path for one model, in one direction: load → canonicalise → lower → validate → write
/// artifacts. The MSBuild task is a thin shell around <see cref="Compile"/>; tests call it directly.
/// </summary>
public static class ModelCompiler
{
    public static CompileResult Compile(CompressOptions options)
    {
        if (!File.Exists(options.ModelPath))
            throw new CompressException(ErrorCodes.ModelNotFound,
                $"Model file '{options.ModelPath}' does not exist. Check the Include path of the CompressModel item.", options.ModelPath);

        var loaded = OnnxModelReader.Load(options.ModelPath);
        var log = new PassLog();
        var canonical = CanonicalPipeline.Run(loaded.Graph, log);

        string sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(options.ModelPath)));
        var info = loaded.Graph.Info;
        var lowered = ModelLowering.Lower(canonical, new LoweringOptions
        {
            ClassName = options.ClassName,
            Namespace = options.Namespace,
            WeightsResourceName = options.WeightsResourceName,
            SourceFile = Path.GetFileName(options.ModelPath),
            SourceSha256 = sha256,
            SourceProducer = $"{info.ProducerName} {info.ProducerVersion}".Trim(),
            SourceIrVersion = info.IrVersion,
            SourceOpsets = string.Join(",", info.Opsets.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)}:{kv.Value.ToString(CultureInfo.InvariantCulture)}")),
        });

        ValidationResult? validation = null;
        if (options.ValidationSamples != 0)
        {
            validation = ModelValidator.Validate(options.ModelPath, lowered.Plan, lowered.Weights,
                new ValidationInputs(options.ValidationData ?? options.CalibrationData,
                    options.ValidationData is null ? null : options.ValidationLabels, options.ValidationSamples));
            if (!(validation.RelativeError <= options.Tolerance))
                throw new CompressException(ErrorCodes.ValidationMismatch,
                    $"The compiled model's outputs differ from ONNX Runtime's by {validation.MaxAbsError:G3} " +
                    $"({validation.RelativeError:G3} of the output scale {validation.MaxReference:G3}) on {validation.DataSource}, " +
                    $"above the tolerance {options.Tolerance:G3}. This is a Compress bug for fp32 models: please report it with the model; " +
                    "raise Tolerance only if you accept the difference.", options.ModelPath);
        }

        string planJson = PlanJsonWriter.Write(lowered.Plan);
        string report = BuildReport.Render(options, lowered.Plan, lowered.Weights.Length, log, validation);
        using (var outputs = new AtomicOutputs())
        {
            outputs.WriteAllBytes(options.WeightsPath, lowered.Weights);
            outputs.WriteAllText(options.ReportPath, report);
            if (options.OnnxPath is not null)
                outputs.Stage(options.OnnxPath, temp => OnnxModelWriter.Write(canonical, temp, new OnnxExportOptions
                {
                    ProducerName = "Compress.Tasks",
                    ProducerVersion = lowered.Plan.Producer.Split(' ').Last(),
                }));
            outputs.WriteAllText(options.PlanPath, planJson); // last: the plan's presence marks a complete set
            outputs.Commit();
        }
        return new CompileResult(lowered.Plan, lowered.Weights.Length, validation, log, Summary(options, lowered.Plan, lowered.Weights.Length, validation));
    }

    static string Summary(CompressOptions options, ModelPlan plan, int weightBytes, ValidationResult? v)
    {
        var kernels = plan.Steps.GroupBy(s => s.Call.Replace("Kernels.", ""))
            .Select(g => g.Count() == 1 ? g.Key : $"{g.Key}×{g.Count()}");
        string check = v is null ? "validation skipped"
            : $"max |err| {v.MaxAbsError:0.0e+0} vs ONNX Runtime on {v.Samples} samples" +
              (v.Accuracy is double acc ? $", accuracy {acc * 100:0.0}% (ONNX Runtime {v.ReferenceAccuracy * 100:0.0}%)" : "");
        return string.Create(CultureInfo.InvariantCulture,
            $"{options.FullClassName} ← {Path.GetFileName(options.ModelPath)}: fp32; kernels {string.Join(", ", kernels)}; weights {weightBytes:N0} B; arena {plan.ArenaFloats * 4:N0} B; {check}; report {options.ReportPath}");
    }
}

/// <summary>What one compilation produced.</summary>
public sealed record CompileResult(ModelPlan Plan, int WeightBytes, ValidationResult? Validation, PassLog Log, string Summary);
