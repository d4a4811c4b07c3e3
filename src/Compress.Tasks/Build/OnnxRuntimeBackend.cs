using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Tasks.Build;

/// <summary>
/// The ONNX Runtime backend (docs/onnxruntime-backend.md): the model as given is exported as standard ONNX
/// (external data inlined), embedded in the user's assembly as the plan's weights resource, and run by ONNX Runtime
/// behind the same generated class. The plan carries the inputs and outputs (names, shapes) and no steps.
/// </summary>
public static class OnnxRuntimeBackend
{
    /// <summary>The ONNX Runtime version the task builds with, which the generated code is meant to run on.</summary>
    public static string OnnxRuntimeVersion { get; } = Version(typeof(InferenceSession).Assembly);

    /// <summary>The line the user's project needs for a model on this backend (the fix for CMP034).</summary>
    public static string PackageReferenceLine => $"<PackageReference Include=\"Microsoft.ML.OnnxRuntime\" Version=\"{OnnxRuntimeVersion}\" />";

    /// <summary>CMP035 when compression is asked of a model that is to run on ONNX Runtime (which runs the model as given).</summary>
    /// <param name="context">Why ONNX Runtime, as the start of a sentence ("Backend=\"OnnxRuntime\" is set").</param>
    public static void ThrowIfCompressionRequested(string modelPath, string? quantize, bool prune, string context)
    {
        if (string.IsNullOrEmpty(quantize) && !prune) return;
        string what = !string.IsNullOrEmpty(quantize) && prune ? $"Quantize=\"{quantize}\" and pruning" : prune ? "pruning" : $"Quantize=\"{quantize}\"";
        throw new CompressException(ErrorCodes.CompressionNeedsKernels,
            $"{context}, so the model would run on ONNX Runtime as given, but {what} needs Compress's kernels. Remove the compression " +
            "metadata to run the model on ONNX Runtime, or export the model with ops Compress supports (docs/supported-ops.md).", modelPath);
    }

    /// <summary>
    /// The nodes no kernel runs, for the fallback warning: ops outside the default domain or without a shape rule;
    /// when the op is known but the node's form is not (an attribute, a dtype), the kernel path's own message.
    /// </summary>
    public static string WhyNoKernels(Graph.Graph graph, CompressException kernelError)
    {
        var nodes = graph.Nodes.Where(n => n.Domain is not ("" or "ai.onnx") || !ShapeInference.Supports(n.OpType)).ToList();
        if (nodes.Count == 0) return kernelError.Message.TrimEnd('.');
        static string Op(Node n) => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}:{n.OpType}";
        string ops = string.Join(", ", nodes.Select(Op).Distinct(StringComparer.Ordinal));
        string named = string.Join(", ", nodes.Take(5).Select(n => $"'{n.Label}'")) + (nodes.Count > 5 ? $" and {nodes.Count - 5} more" : "");
        return $"no kernel runs {ops} (node{(nodes.Count == 1 ? "" : "s")} {named})";
    }

    /// <summary>Writes the plan, the embedded model, the exported ONNX and the report for a model on ONNX Runtime.</summary>
    /// <param name="fallback">Why <c>Auto</c> chose ONNX Runtime (<see cref="WhyNoKernels"/>), or null when <c>Backend="OnnxRuntime"</c> asked for it.</param>
    public static CompileResult Compile(CompressOptions options, OnnxModel loaded, string? fallback)
    {
        var export = new OnnxExportOptions { ProducerName = "Compress.Tasks", ProducerVersion = ModelLowering.DefaultProducer.Split(' ').Last() };
        byte[] onnx = OnnxModelWriter.ToBytes(OnnxModelWriter.ToProto(loaded.Graph, export));
        var (inputs, outputs, batchOne) = Signature(onnx, options.ModelPath);

        var identifiers = PlanIdentifiers.AssignUnique(inputs.Concat(outputs).Select(t => t.Name), options.ClassName);
        PlanTensor Tensor((string Name, long[] Shape) t, int i) =>
            new(t.Name, identifiers[i], t.Shape, checked((int)t.Shape.Aggregate(1L, (a, d) => a * d)));
        var ops = loaded.Graph.Nodes.GroupBy(n => n.OpType).Select(g => $"{g.Count()} {g.Key}");
        var plan = new ModelPlan
        {
            Producer = ModelLowering.DefaultProducer,
            Source = ModelCompiler.Provenance(options.ModelPath, loaded.Graph.Info),
            Namespace = options.Namespace,
            ClassName = options.ClassName,
            Summary = string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime {OnnxRuntimeVersion} · {string.Join(", ", ops)} · {onnx.Length:N0} model bytes"),
            Weights = new PlanWeights(options.WeightsResourceName, onnx.Length, Convert.ToHexStringLower(SHA256.HashData(onnx))),
            ArenaFloats = 0,
            BatchDynamic = false,
            Inputs = inputs.Select((t, i) => Tensor(t, i)).ToArray(),
            Outputs = outputs.Select((t, i) => Tensor(t, inputs.Count + i)).ToArray(),
            Steps = Array.Empty<PlanStep>(),
            Backend = PlanBackend.OnnxRuntime,
            OnnxRuntimeVersion = OnnxRuntimeVersion,
        };

        string report = Report(options, plan, fallback, batchOne);
        using (var files = new AtomicOutputs())
        {
            files.WriteAllBytes(options.WeightsPath, onnx);
            files.WriteAllText(options.ReportPath, report);
            if (options.OnnxPath is not null) files.WriteAllBytes(options.OnnxPath, onnx);
            files.WriteAllText(options.PlanPath, PlanJsonWriter.Write(plan)); // last: the plan's presence marks a complete set
            files.Commit();
        }

        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{options.FullClassName} ← {Path.GetFileName(options.ModelPath)}: ONNX Runtime {OnnxRuntimeVersion} backend" +
            $"{(fallback is null ? "" : $" ({fallback})")}; model {onnx.Length:N0} B; report {options.ReportPath}");
        string? warning = fallback is null ? null
            : $"{options.FullClassName} runs on ONNX Runtime instead of Compress's kernels: {fallback}. The class keeps its API; the project " +
              $"needs {PackageReferenceLine}. Set Backend=\"OnnxRuntime\" on the CompressModel item to choose this without the warning, " +
              "or Backend=\"Kernels\" to make it an error (CMP004).";
        return new CompileResult(plan, onnx.Length, null, new PassLog(), summary) { Fallback = warning };
    }

    /// <summary>
    /// Inputs and outputs as ONNX Runtime sees them: names in graph order and shapes for one call, found by loading the
    /// model and running it once on zeros (output shapes need not be declared). A symbolic batch (dim 0) is 1; any other
    /// symbolic dim is CMP005; a non-float32 input or output is CMP009; a model ONNX Runtime cannot run is CMP011.
    /// </summary>
    static (List<(string Name, long[] Shape)> Inputs, List<(string Name, long[] Shape)> Outputs, bool BatchOne) Signature(byte[] onnx, string modelPath)
    {
        var inputs = new List<(string Name, long[] Shape)>();
        var outputs = new List<(string Name, long[] Shape)>();
        bool batchOne = false;
        try
        {
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(onnx, sessionOptions);
            foreach (string name in session.InputNames)
            {
                var meta = session.InputMetadata[name];
                if (!meta.IsTensor || meta.ElementDataType != TensorElementType.Float)
                    throw new CompressException(ErrorCodes.UnsupportedType,
                        $"Graph input '{name}' is {(meta.IsTensor ? meta.ElementDataType.ToString() : meta.OnnxValueType.ToString())}; the generated API takes float32 inputs only.", modelPath);
                var dims = meta.Dimensions.Select(d => (long)d).ToArray();
                for (int d = 0; d < dims.Length; d++)
                {
                    if (dims[d] >= 0) continue;
                    if (d > 0)
                        throw new CompressException(ErrorCodes.ShapeInference,
                            $"Graph input '{name}' has a symbolic dimension {d}; only dimension 0 (the batch) may be symbolic. Re-export the model with fixed sizes for the other dimensions.", modelPath);
                    dims[d] = 1;
                    batchOne = true;
                }
                inputs.Add((name, dims));
            }

            var values = inputs.Select(i => OrtValue.CreateTensorValueFromMemory(new float[i.Shape.Aggregate(1L, (a, d) => a * d)], i.Shape)).ToList();
            try
            {
                using var runOptions = new RunOptions();
                using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToList(), values, session.OutputNames);
                for (int o = 0; o < results.Count; o++)
                {
                    string name = session.OutputNames[o];
                    var info = results[o].GetTensorTypeAndShape();
                    if (!results[o].IsTensor || info.ElementDataType != TensorElementType.Float)
                        throw new CompressException(ErrorCodes.UnsupportedType,
                            $"Graph output '{name}' is {info.ElementDataType}; the generated API returns float32 outputs only.", modelPath);
                    outputs.Add((name, info.Shape));
                }
            }
            finally
            {
                foreach (var v in values) v.Dispose();
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(ErrorCodes.ReferenceRuntime,
                $"ONNX Runtime {OnnxRuntimeVersion} cannot run the model, so it cannot be its backend: {e.Message}", modelPath, e);
        }
        return (inputs, outputs, batchOne);
    }

    static string Report(CompressOptions options, ModelPlan plan, string? fallback, bool batchOne)
    {
        var r = new StringBuilder();
        r.Append(CultureInfo.InvariantCulture, $"# {options.FullClassName}\n\n");
        r.Append(CultureInfo.InvariantCulture, $"Model `{plan.Source.File}` (sha256 `{plan.Source.Sha256}`, produced by {plan.Source.Producer}; opsets {plan.Source.Opsets}).\n\n");
        r.Append("## Backend: ONNX Runtime\n\n");
        r.Append(fallback is null
            ? "`Backend=\"OnnxRuntime\"`: "
            : $"`Backend=\"Auto\"` fell back to ONNX Runtime because {fallback} (warning CMP033). ");
        r.Append(CultureInfo.InvariantCulture,
            $"The generated class runs the model as given with ONNX Runtime {OnnxRuntimeVersion}: the model, exported as standard ONNX " +
            $"with its external data inline ({plan.Weights.Bytes:N0} bytes), is embedded as the manifest resource `{plan.Weights.Resource}`. " +
            $"The project needs `{PackageReferenceLine}`. Nothing is compressed, and there is nothing to validate: ONNX Runtime is the reference.\n\n");
        if (batchOne) r.Append("The model's batch dimension is symbolic; the class runs one sample per call (dimension 0 is 1).\n\n");
        r.Append("| tensor | role | shape | floats |\n|---|---|---|---:|\n");
        foreach (var (t, role) in plan.Inputs.Select(t => (t, "input")).Concat(plan.Outputs.Select(t => (t, "output"))))
            r.Append(CultureInfo.InvariantCulture, $"| `{t.Name}` | {role} | [{string.Join(", ", t.Shape)}] | {t.Length:N0} |\n");
        return r.ToString();
    }

    static string Version(Assembly assembly)
    {
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (informational is not null) return informational.Split('+')[0];
        var v = assembly.GetName().Version;
        return v is null ? "0.0.0" : $"{v.Major}.{v.Minor}.{Math.Max(v.Build, 0)}";
    }
}
