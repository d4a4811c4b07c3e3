using System.Globalization;
using System.Security.Cryptography;
using Compress.Tasks.Calibration;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Pruning;
using Compress.Tasks.Quantization;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Build;

/// <summary>
/// The whole build-time path for one model, in one direction: load → canonicalise → lower → validate → write
/// artifacts. The MSBuild task is a thin shell around <see cref="Compile"/>; tests call it directly.
/// </summary>
public static class ModelCompiler
{
    /// <summary>
    /// Compiles the model for its <see cref="CompressOptions.Backend"/>: the kernels, or ONNX Runtime when asked, or when
    /// <c>Auto</c> meets an op no kernel runs (CMP004); the result's <see cref="CompileResult.Fallback"/> then says why.
    /// </summary>
    public static CompileResult Compile(CompressOptions options)
    {
        if (!File.Exists(options.ModelPath))
            throw new CompressException(ErrorCodes.ModelNotFound,
                $"Model file '{options.ModelPath}' does not exist. Check the Include path of the CompressModel item.", options.ModelPath);
        bool prune = PruneOptions.IsRequested(options.Prune, options.PruneMode);
        if (options.Backend == ModelBackend.OnnxRuntime)
        {
            OnnxRuntimeBackend.ThrowIfCompressionRequested(options.ModelPath, options.Quantize, prune, "Backend=\"OnnxRuntime\" is set");
            return OnnxRuntimeBackend.Compile(options, OnnxModelReader.Load(options.ModelPath), fallback: null);
        }
        // Read once: the kernel path only reads the graph, so a fallback to ONNX Runtime reuses the same model.
        var loaded = OnnxModelReader.Load(options.ModelPath);
        try
        {
            return CompileWithKernels(options, loaded);
        }
        catch (CompressException e) when (e.Code == ErrorCodes.UnsupportedOp && options.Backend == ModelBackend.Auto)
        {
            string why = OnnxRuntimeBackend.WhyNoKernels(loaded.Graph, e);
            OnnxRuntimeBackend.ThrowIfCompressionRequested(options.ModelPath, options.Quantize, prune, $"The model cannot run on Compress's kernels ({why})");
            try
            {
                return OnnxRuntimeBackend.Compile(options, loaded, fallback: why);
            }
            catch (CompressException ort) when (ort.Code == ErrorCodes.ReferenceRuntime)
            {
                // Neither backend can run it: the kernels' error is the one to fix, with ONNX Runtime's reason beside it.
                throw new CompressException(ErrorCodes.UnsupportedOp, $"{e.Message} ONNX Runtime cannot run the model either, so there is no fallback: {ort.Message}", e.File ?? options.ModelPath, e);
            }
        }
    }

    /// <summary>Provenance of the model for the plan: file name, SHA-256, producer, IR version and opsets.</summary>
    internal static PlanSource Provenance(string modelPath, Graph.ModelInfo info) => new(
        Path.GetFileName(modelPath),
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(modelPath))),
        $"{info.ProducerName} {info.ProducerVersion}".Trim(),
        info.IrVersion,
        string.Join(",", info.Opsets.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)}:{kv.Value.ToString(CultureInfo.InvariantCulture)}")));

    /// <summary>The kernel path: load → canonicalise → (prune, quantise) → lower → validate → write artifacts.</summary>
    static CompileResult CompileWithKernels(CompressOptions options, OnnxModel loaded)
    {
        if (options.Quantize is null && !string.IsNullOrWhiteSpace(options.LayerOverrides))
            throw new CompressException(ErrorCodes.BadMetadata,
                "LayerOverrides needs Quantize: the precision of every layer it does not name (e.g. Quantize=\"Int8\" LayerOverrides=\"fc2=Binary\").", options.ModelPath);
        // Before canonicalisation, so a QDQ model gets CMP013 rather than CMP004 for its QuantizeLinear nodes.
        if (options.Quantize is not null) QuantizedModelCheck.ThrowIfQuantized(loaded.Graph);
        var log = new PassLog();
        // InputShape fixes dynamic dims of named inputs before anything reads the shapes.
        var shaped = Graph.InputShapeOverride.Apply(loaded.Graph, Graph.InputShapeOverride.Parse(options.InputShape));
        var canonical = CanonicalPipeline.Run(shaped, log);
        // Pruning rewrites the canonical graph before lowering and quantisation: everything after sees (and exports) the pruned model.
        var pruning = Prune(options, shaped, canonical, log);
        if (pruning is not null) canonical = pruning.Graph;
        // Shift layers run 1×1 Convs of 1×1 maps (an SE block's excitation) as Gemms, so a Sigmoid-ended one is quantised
        // too (the quantised Conv kernels requantise with a clamp only). Other modes keep the Conv: the fp32 GEMV pads
        // its columns to 16, which would grow their weights.
        if (options.Quantize is not null && UsesShift(options)) canonical = Graph.ShapeInference.Run(new PointwiseConvToGemm().Run(canonical, log));

        var source = Provenance(options.ModelPath, loaded.Graph.Info);
        var loweringOptions = new LoweringOptions
        {
            ClassName = options.ClassName,
            Namespace = options.Namespace,
            WeightsResourceName = options.WeightsResourceName,
            SourceFile = source.File,
            SourceSha256 = source.Sha256,
            SourceProducer = source.Producer,
            SourceIrVersion = source.IrVersion,
            SourceOpsets = source.Opsets,
        };
        var fp32 = ModelLowering.Lower(canonical, loweringOptions);
        var lowered = fp32;
        QuantizationResult? quantization = null;
        if (options.Quantize is not null)
        {
            quantization = Quantize(options, canonical, fp32);
            lowered = ModelLowering.Lower(canonical, loweringOptions, quantization);
        }

        ValidationResult? validation = null;
        if (options.ValidationSamples != 0)
            validation = ModelValidator.Validate(options.ModelPath, lowered.Plan, lowered.Weights,
                new ValidationInputs(options.ValidationData ?? options.CalibrationData,
                    options.ValidationData is null ? null : options.ValidationLabels, options.ValidationSamples));

        // The report's measurements: per-layer error against the fp32 plan (quantised variants; calibration data first,
        // as the ranges were chosen on it) and per-step latency, both with the runtime kernels. Data validation did not
        // read (ValidationSamples="0") is left alone: random inputs then, as validation would use.
        LayerErrorResult? layers = null;
        StepTimes latency;
        string? validated = validation is null ? null : options.ValidationData ?? options.CalibrationData;
        using (var samples = SampleSource.Open(quantization is null ? validated : options.CalibrationData ?? validated,
                   lowered.Plan, quantization is null ? 1 : LayerErrorAnalysis.MaxSamples))
        {
            if (quantization is not null) layers = LayerErrorAnalysis.Run(canonical, fp32, lowered, samples);
            var sample = samples.CreateBuffers();
            if (samples.Count > 0) samples.Read(0, sample);
            latency = StepLatency.Measure(lowered.Plan, lowered.Weights, sample);
        }

        double? tolerance = options.Tolerance ?? (quantization is null && pruning is null ? 1e-4 : null);
        if (validation is not null && tolerance is double limit && !(validation.RelativeError <= limit))
            throw new CompressException(ErrorCodes.ValidationMismatch,
                $"The compiled model's outputs differ from ONNX Runtime's by {validation.MaxAbsError:G3} " +
                $"({validation.RelativeError:G3} of the output scale {validation.MaxReference:G3}) on {validation.DataSource}, " +
                $"above the tolerance {limit:G3}. " +
                (quantization is null ? "This is a Compress bug for fp32 models: please report it with the model; "
                    : layers?.Worst is { } worst ? $"Exclude the layer that loses the most, {ReportFormat.Worst(worst)}, or "
                    : "Exclude layers from quantisation, or ") +
                "raise Tolerance only if you accept the difference.", options.ModelPath);

        string planJson = PlanJsonWriter.Write(lowered.Plan);
        string report = BuildReport.Render(options, lowered.Plan, lowered.Weights.Length, log, validation, quantization,
            layers, latency, quantization is null ? null : fp32.Weights.Length, pruning)
            + LowBitReport.Render(quantization, lowered.Plan, canonical);
        using (var outputs = new AtomicOutputs())
        {
            outputs.WriteAllBytes(options.WeightsPath, lowered.Weights);
            outputs.WriteAllText(options.ReportPath, report);
            if (options.OnnxPath is not null)
            {
                var export = new OnnxExportOptions { ProducerName = "Compress.Tasks", ProducerVersion = lowered.Plan.Producer.Split(' ').Last() };
                outputs.Stage(options.OnnxPath, temp =>
                {
                    if (quantization is null) OnnxModelWriter.Write(Onnx.OpsetUpgrade.ForExport(canonical), temp, export);
                    else QdqExport.Write(canonical, quantization, temp, export);
                });
            }
            outputs.WriteAllText(options.PlanPath, planJson); // last: the plan's presence marks a complete set
            outputs.Commit();
        }
        return new CompileResult(lowered.Plan, lowered.Weights.Length, validation, log,
            Summary(options, lowered.Plan, lowered.Weights.Length, validation, quantization, layers) + (pruning is null ? "" : "; " + pruning.Summary))
        {
            Layers = layers,
            Latency = latency,
            Pruning = pruning,
            Macs = MacCounter.Count(canonical).Macs,
        };
    }

    /// <summary>Prunes the canonical graph when <c>Prune</c>/<c>PruneMode</c> is set (issue 4; see docs/pruning.md), else null.</summary>
    static PruneResult? Prune(CompressOptions options, Graph.Graph source, Graph.Graph canonical, PassLog log)
    {
        if (!PruneOptions.IsRequested(options.Prune, options.PruneMode)) return null;
        var prune = PruneOptions.FromMetadata(options.Prune, options.PruneMode, options.PrunePattern, options.PruneScope, options.PruneCriterion,
            options.PruneReconstruct, options.PruneExclude, hasCalibrationData: options.CalibrationData is not null);
        using var data = options.CalibrationData is null ? null
            : CalibrationData.Open(options.CalibrationData, ModelLowering.Lower(canonical, LoweringOptions.ForClass("PruneProbe")).Plan);
        return Pruner.Run(canonical, prune, data, log, source);
    }

    /// <summary>True when some layer may get shift weights (<c>Quantize="Shift"</c>, or a LayerOverrides entry asking for it).</summary>
    static bool UsesShift(CompressOptions options)
    {
        var quantize = QuantizeOptions.FromMetadata(options.Quantize!, options.Exclude, options.Int4BlockSize,
            options.ShiftBits, options.BinaryActivations, options.LayerOverrides);
        return quantize.Mode == QuantizeMode.Shift || quantize.LayerOverrides.Any(o => o.Value == NodePrecision.Shift);
    }

    /// <summary>Calibrates (static int8) and decides every node's precision.</summary>
    static QuantizationResult Quantize(CompressOptions options, Graph.Graph canonical, LoweredModel fp32)
    {
        var quantize = QuantizeOptions.FromMetadata(options.Quantize!, options.Exclude, options.Int4BlockSize,
            options.ShiftBits, options.BinaryActivations, options.LayerOverrides);
        IReadOnlyDictionary<string, TensorRange>? ranges = null;
        var values = QuantizationPlanner.ValuesToCalibrate(canonical, quantize);
        if (quantize.Mode == QuantizeMode.Int8 || values.Count > 0)
        {
            if (options.CalibrationData is null)
                throw new CompressException(ErrorCodes.BadMetadata,
                    $"Quantize=\"{quantize.Mode}\" runs layers on calibrated u8 activations and needs CalibrationData: a .npy file of representative inputs (first axis = samples; a few hundred are enough). Or use Quantize=\"Int8Dynamic\", which needs none.", options.ModelPath);
            var method = CalibrationMethod.Parse(options.CalibrationMethod ?? nameof(CalibrationMethod.Percentile));
            using var data = CalibrationData.Open(options.CalibrationData, fp32.Plan);
            ranges = Calibrator.Run(fp32, data, method, options.CalibrationPercentile, values);
        }
        // Sub-8-bit weights are fitted to each layer's output on the calibration data (docs/low-bit.md).
        IReadOnlyDictionary<string, Quantization.LowBit.LayerInput>? layerInputs = null;
        if (Quantization.LowBit.MixedPrecisionPlanner.Applies(quantize) && options.CalibrationData is not null)
        {
            using var data = CalibrationData.Open(options.CalibrationData, fp32.Plan);
            layerInputs = Quantization.LowBit.LayerInputs.Collect(canonical, fp32, data, Quantization.LowBit.MixedPrecisionPlanner.LayersToFit(canonical, quantize));
        }
        return QuantizationPlanner.Plan(canonical, quantize, ranges, layerInputs);
    }

    static string Summary(CompressOptions options, ModelPlan plan, int weightBytes, ValidationResult? v, QuantizationResult? q, LayerErrorResult? layers)
    {
        var kernels = plan.Steps.GroupBy(s => s.Call.Replace("Kernels.", ""))
            .Select(g => g.Count() == 1 ? g.Key : $"{g.Key}×{g.Count()}");
        string check = v is null ? "validation skipped"
            : $"max |err| {v.MaxAbsError:0.0e+0} vs ONNX Runtime on {v.Samples} samples" +
              (q is null ? "" : $", top-1 agreement {v.Agreement * 100:0.0}%") +
              (v.Accuracy is double acc ? $", accuracy {acc * 100:0.0}% (ONNX Runtime {v.ReferenceAccuracy * 100:0.0}%)" : "");
        string variant = q is null ? "fp32"
            : $"{q.Mode} ({q.Decisions.Count(d => d.Precision != NodePrecision.Fp32)} of {q.Decisions.Length} layers quantised)";
        string worst = layers?.Worst is { } w ? $"; worst layer {ReportFormat.Worst(w)}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{options.FullClassName} ← {Path.GetFileName(options.ModelPath)}: {variant}; kernels {string.Join(", ", kernels)}; weights {weightBytes:N0} B; arena {plan.ArenaFloats * 4:N0} B; {check}{worst}; report {options.ReportPath}");
    }
}

/// <summary>What one compilation produced.</summary>
public sealed record CompileResult(ModelPlan Plan, int WeightBytes, ValidationResult? Validation, PassLog Log, string Summary)
{
    /// <summary>Quantised variants: the per-layer error against the fp32 plan (the report's Layers section).</summary>
    public LayerErrorResult? Layers { get; init; }

    /// <summary>Per-step latency measured at build time (the report's latency columns).</summary>
    public StepTimes? Latency { get; init; }

    /// <summary>Pruned variants: the pruning's per-layer records, size and MACs before/after (the report's Pruning section).</summary>
    public PruneResult? Pruning { get; init; }

    /// <summary>MACs per inference (batch 1) of the compiled graph: every weight, and only the non-zero ones.</summary>
    public MacCount Macs { get; init; } = MacCount.Zero;

    /// <summary>When <c>Backend="Auto"</c> fell back to ONNX Runtime: the warning (CMP033) naming the ops and the fix; else null.</summary>
    public string? Fallback { get; init; }
}
