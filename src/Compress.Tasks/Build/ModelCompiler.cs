using System.Globalization;
using System.Security.Cryptography;
using Compress.Tasks.Calibration;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
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
        // Before canonicalisation, so a QDQ model gets CMP013 rather than CMP004 for its QuantizeLinear nodes.
        if (options.Quantize is not null) QuantizedModelCheck.ThrowIfQuantized(loaded.Graph);
        var log = new PassLog();
        var canonical = CanonicalPipeline.Run(loaded.Graph, log);

        string sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(options.ModelPath)));
        var info = loaded.Graph.Info;
        var loweringOptions = new LoweringOptions
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
        };
        var lowered = ModelLowering.Lower(canonical, loweringOptions);
        QuantizationResult? quantization = null;
        if (options.Quantize is not null)
        {
            quantization = Quantize(options, canonical, lowered);
            lowered = ModelLowering.Lower(canonical, loweringOptions, quantization);
        }

        ValidationResult? validation = null;
        if (options.ValidationSamples != 0)
        {
            validation = ModelValidator.Validate(options.ModelPath, lowered.Plan, lowered.Weights,
                new ValidationInputs(options.ValidationData ?? options.CalibrationData,
                    options.ValidationData is null ? null : options.ValidationLabels, options.ValidationSamples));
            double? tolerance = options.Tolerance ?? (quantization is null ? 1e-4 : null);
            if (tolerance is double limit && !(validation.RelativeError <= limit))
                throw new CompressException(ErrorCodes.ValidationMismatch,
                    $"The compiled model's outputs differ from ONNX Runtime's by {validation.MaxAbsError:G3} " +
                    $"({validation.RelativeError:G3} of the output scale {validation.MaxReference:G3}) on {validation.DataSource}, " +
                    $"above the tolerance {limit:G3}. " +
                    (quantization is null ? "This is a Compress bug for fp32 models: please report it with the model; " : "Exclude the layers the report names as losing the most, or ") +
                    "raise Tolerance only if you accept the difference.", options.ModelPath);
        }

        string planJson = PlanJsonWriter.Write(lowered.Plan);
        string report = BuildReport.Render(options, lowered.Plan, lowered.Weights.Length, log, validation, quantization);
        using (var outputs = new AtomicOutputs())
        {
            outputs.WriteAllBytes(options.WeightsPath, lowered.Weights);
            outputs.WriteAllText(options.ReportPath, report);
            if (options.OnnxPath is not null)
            {
                var export = new OnnxExportOptions { ProducerName = "Compress.Tasks", ProducerVersion = lowered.Plan.Producer.Split(' ').Last() };
                outputs.Stage(options.OnnxPath, temp =>
                {
                    if (quantization is null) OnnxModelWriter.Write(canonical, temp, export);
                    else QdqExport.Write(canonical, quantization, temp, export);
                });
            }
            outputs.WriteAllText(options.PlanPath, planJson); // last: the plan's presence marks a complete set
            outputs.Commit();
        }
        return new CompileResult(lowered.Plan, lowered.Weights.Length, validation, log, Summary(options, lowered.Plan, lowered.Weights.Length, validation, quantization));
    }

    /// <summary>Calibrates (static int8) and decides every node's precision.</summary>
    static QuantizationResult Quantize(CompressOptions options, Graph.Graph canonical, LoweredModel fp32)
    {
        var quantize = QuantizeOptions.FromMetadata(options.Quantize!, options.Exclude, options.Int4BlockSize);
        IReadOnlyDictionary<string, TensorRange>? ranges = null;
        if (quantize.Mode == QuantizeMode.Int8)
        {
            if (options.CalibrationData is null)
                throw new CompressException(ErrorCodes.BadMetadata,
                    $"Quantize=\"Int8\" needs CalibrationData: a .npy file of representative inputs (first axis = samples; a few hundred are enough). Or use Quantize=\"Int8Dynamic\", which needs none.", options.ModelPath);
            var method = CalibrationMethod.Parse(options.CalibrationMethod ?? nameof(CalibrationMethod.Percentile));
            using var data = CalibrationData.Open(options.CalibrationData, fp32.Plan);
            ranges = Calibrator.Run(fp32, data, method, options.CalibrationPercentile, QuantizationPlanner.ValuesToCalibrate(canonical, quantize));
        }
        return QuantizationPlanner.Plan(canonical, quantize, ranges);
    }

    static string Summary(CompressOptions options, ModelPlan plan, int weightBytes, ValidationResult? v, QuantizationResult? q)
    {
        var kernels = plan.Steps.GroupBy(s => s.Call.Replace("Kernels.", ""))
            .Select(g => g.Count() == 1 ? g.Key : $"{g.Key}×{g.Count()}");
        string check = v is null ? "validation skipped"
            : $"max |err| {v.MaxAbsError:0.0e+0} vs ONNX Runtime on {v.Samples} samples" +
              (q is null ? "" : $", top-1 agreement {v.Agreement * 100:0.0}%") +
              (v.Accuracy is double acc ? $", accuracy {acc * 100:0.0}% (ONNX Runtime {v.ReferenceAccuracy * 100:0.0}%)" : "");
        string variant = q is null ? "fp32"
            : $"{q.Mode} ({q.Decisions.Count(d => d.Precision != NodePrecision.Fp32)} of {q.Decisions.Length} layers quantised)";
        return string.Create(CultureInfo.InvariantCulture,
            $"{options.FullClassName} ← {Path.GetFileName(options.ModelPath)}: {variant}; kernels {string.Join(", ", kernels)}; weights {weightBytes:N0} B; arena {plan.ArenaFloats * 4:N0} B; {check}; report {options.ReportPath}");
    }
}

/// <summary>What one compilation produced.</summary>
public sealed record CompileResult(ModelPlan Plan, int WeightBytes, ValidationResult? Validation, PassLog Log, string Summary);
