using System.Globalization;
using System.Text;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Pruning;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks.Build;

/// <summary>
/// The sanity check that runs before any model is compiled: resolves every <c>CompressModel</c> item's metadata to
/// full paths and defaults, derives its exact output files, and fails early (CMP001/CMP006/CMP010) on a missing
/// model, a bad metadata value or two items that would generate the same class.
/// </summary>
public sealed class ResolveCompressModels : Microsoft.Build.Utilities.Task
{
    [Required] public ITaskItem[] Models { get; set; } = [];
    [Required] public string ProjectDirectory { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    public string RootNamespace { get; set; } = "";

    /// <summary>The items with resolved metadata: ClassName, Namespace, FullClassName, PlanFile, WeightsFile, ReportFile, StampFile, ResourceName, data paths, DataInputs, StampLines.</summary>
    [Output] public ITaskItem[] Resolved { get; set; } = [];

    static readonly string[] KnownMetadata = ["ClassName", "Namespace", "InputShape", "CalibrationData", "ValidationData", "ValidationLabels", "Tolerance", "ValidationSamples",
        "Quantize", "CalibrationMethod", "CalibrationPercentile", "Exclude", "Int4BlockSize", "ShiftBits", "BinaryActivations", "LayerOverrides",
        "Prune", "PruneMode", "PrunePattern", "PruneScope", "PruneCriterion", "PruneReconstruct", "PruneExclude", "Backend"];

    static readonly string[] PruneMetadata = ["Prune", "PruneMode", "PrunePattern", "PruneScope", "PruneCriterion", "PruneReconstruct", "PruneExclude"];

    public override bool Execute()
    {
        var resolved = new List<ITaskItem>();
        var byClass = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in Models)
        {
            string modelPath = Path.GetFullPath(Path.Combine(ProjectDirectory, item.ItemSpec));
            try
            {
                resolved.Add(Resolve(item, modelPath, byClass));
            }
            catch (CompressException e)
            {
                Log.LogError(null, e.Code, null, e.File ?? modelPath, 0, 0, 0, 0, e.Message);
            }
        }
        Resolved = resolved.ToArray();
        return !Log.HasLoggedErrors;
    }

    ITaskItem Resolve(ITaskItem item, string modelPath, Dictionary<string, string> byClass)
    {
        if (!File.Exists(modelPath))
            throw new CompressException(ErrorCodes.ModelNotFound,
                $"CompressModel '{item.ItemSpec}': the model file '{modelPath}' does not exist. Fix the Include path (it is relative to the project folder).", modelPath);

        string className = item.GetMetadata("ClassName");
        string ns = item.GetMetadata("Namespace");
        if (className.Length == 0) className = DefaultClassName(modelPath);
        if (className.Contains('.'))
        {
            // ClassName="Digits.Classifier" names the namespace too (as in the docs' example).
            int dot = className.LastIndexOf('.');
            if (ns.Length == 0) ns = className[..dot];
            else ns = ns + "." + className[..dot];
            className = className[(dot + 1)..];
        }
        if (ns.Length == 0 && item.GetMetadata("Namespace").Length == 0) ns = RootNamespace;
        if (!Identifiers.IsIdentifier(className))
            throw Bad(item, modelPath, "ClassName", className, "a C# identifier such as Classifier (optionally prefixed by a namespace: Digits.Classifier)");
        if (ns.Length > 0 && !ns.Split('.').All(Identifiers.IsIdentifier))
            throw Bad(item, modelPath, "Namespace", ns, "a dotted C# namespace such as MyApp.Models");

        string full = ns.Length == 0 ? className : ns + "." + className;
        if (byClass.TryGetValue(full, out var other))
            throw new CompressException(ErrorCodes.DuplicateClass,
                $"CompressModel '{item.ItemSpec}' would generate class {full}, which '{other}' already generates. Give one of them a different ClassName.", modelPath);
        byClass[full] = item.ItemSpec;

        var pruneMetadata = new Dictionary<string, string>(StringComparer.Ordinal);
        double tolerance = 0;
        string tol = item.GetMetadata("Tolerance");
        if (tol.Length > 0 && (!double.TryParse(tol, NumberStyles.Float, CultureInfo.InvariantCulture, out tolerance) || !(tolerance > 0) || double.IsInfinity(tolerance)))
            throw Bad(item, modelPath, "Tolerance", tol, "a positive number such as 1e-4");
        string quantize = item.GetMetadata("Quantize");
        if (quantize.Equals("None", StringComparison.OrdinalIgnoreCase) || quantize.Equals("Fp32", StringComparison.OrdinalIgnoreCase)) quantize = "";
        if (quantize.Length > 0 && !Quantization.QuantizeOptions.ModeNames.Contains(quantize, StringComparer.OrdinalIgnoreCase))
            throw Bad(item, modelPath, "Quantize", quantize, "one of None, " + string.Join(", ", Quantization.QuantizeOptions.ModeNames));
        try
        {
            // Low-bit metadata (docs/low-bit.md): values checked here, layer names once the model is loaded (CMP019).
            Quantization.QuantizeOptions.ParseShiftBits(item.GetMetadata("ShiftBits"));
            if (quantize.Length == 0 && item.GetMetadata("LayerOverrides").Trim().Length > 0)
                throw new CompressException(ErrorCodes.BadMetadata,
                    "LayerOverrides needs Quantize: the precision of every layer it does not name (e.g. Quantize=\"Int8\" LayerOverrides=\"fc2=Binary\").", modelPath);
            Quantization.QuantizeOptions.ParseLayerOverrides(item.GetMetadata("LayerOverrides"),
                Quantization.QuantizeOptions.ParseBinaryActivations(item.GetMetadata("BinaryActivations")));
        }
        catch (CompressException e)
        {
            throw new CompressException(e.Code, $"CompressModel '{item.ItemSpec}': {e.Message}", modelPath);
        }
        string method = item.GetMetadata("CalibrationMethod");
        if (method.Length > 0 && !new[] { "MinMax", "Percentile", "Entropy" }.Contains(method, StringComparer.OrdinalIgnoreCase))
            throw Bad(item, modelPath, "CalibrationMethod", method, "one of MinMax, Percentile, Entropy");
        string percentile = item.GetMetadata("CalibrationPercentile");
        if (percentile.Length > 0 && (!double.TryParse(percentile, NumberStyles.Float, CultureInfo.InvariantCulture, out double pct) || pct < 50 || pct > 100))
            throw Bad(item, modelPath, "CalibrationPercentile", percentile, "a number from 50 to 100 such as 99.99");
        try
        {
            Graph.InputShapeOverride.Parse(item.GetMetadata("InputShape"));
        }
        catch (CompressException e)
        {
            throw new CompressException(e.Code, $"CompressModel '{item.ItemSpec}': {e.Message}", modelPath);
        }
        string samples = item.GetMetadata("ValidationSamples");
        if (samples.Length > 0 && (!int.TryParse(samples, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 0))
            throw Bad(item, modelPath, "ValidationSamples", samples, "a whole number ≥ 0 (0 skips validation)");

        foreach (var name in PruneMetadata) pruneMetadata[name] = item.GetMetadata(name);
        if (PruneOptions.IsRequested(pruneMetadata["Prune"], pruneMetadata["PruneMode"]))
        {
            try
            {
                PruneOptions.FromMetadata(pruneMetadata["Prune"], pruneMetadata["PruneMode"], pruneMetadata["PrunePattern"], pruneMetadata["PruneScope"], pruneMetadata["PruneCriterion"],
                    pruneMetadata["PruneReconstruct"], pruneMetadata["PruneExclude"], hasCalibrationData: item.GetMetadata("CalibrationData").Length > 0);
            }
            catch (CompressException e)
            {
                throw new CompressException(e.Code, $"CompressModel '{item.ItemSpec}': {e.Message}", modelPath);
            }
        }
        ModelBackend backend;
        try
        {
            backend = ModelBackends.Parse(item.GetMetadata("Backend"), modelPath);
        }
        catch (CompressException e)
        {
            throw new CompressException(e.Code, $"CompressModel '{item.ItemSpec}': {e.Message}", modelPath);
        }
        if (backend == ModelBackend.OnnxRuntime)
            OnnxRuntimeBackend.ThrowIfCompressionRequested(modelPath, quantize, PruneOptions.IsRequested(pruneMetadata["Prune"], pruneMetadata["PruneMode"]),
                $"CompressModel '{item.ItemSpec}' has Backend=\"OnnxRuntime\"");

        string DataPath(string name)
        {
            string v = item.GetMetadata(name);
            if (v.Length == 0) return "";
            string p = Path.GetFullPath(Path.Combine(ProjectDirectory, v));
            if (!File.Exists(p))
                throw new CompressException(ErrorCodes.BadData,
                    $"CompressModel '{item.ItemSpec}': {name} '{v}' does not exist (resolved to '{p}'). Fix the path (relative to the project folder) or remove the metadata.", modelPath);
            return p;
        }
        string validation = DataPath("ValidationData"), labels = DataPath("ValidationLabels"), calibration = DataPath("CalibrationData");
        if (labels.Length > 0 && validation.Length == 0)
            throw Bad(item, modelPath, "ValidationLabels", item.GetMetadata("ValidationLabels"), "used together with ValidationData (labels without samples cannot be scored)");

        string dir = Path.GetFullPath(Path.Combine(ProjectDirectory, OutputDirectory));
        var result = new TaskItem(modelPath);
        result.SetMetadata("ClassName", className);
        result.SetMetadata("Namespace", ns);
        result.SetMetadata("FullClassName", full);
        result.SetMetadata("PlanFile", Path.Combine(dir, full + ".plan.json"));
        result.SetMetadata("WeightsFile", Path.Combine(dir, full + ".weights.bin"));
        result.SetMetadata("ReportFile", Path.Combine(dir, full + ".report.md"));
        result.SetMetadata("OnnxFile", Path.Combine(dir, full + ".onnx"));
        result.SetMetadata("StampFile", Path.Combine(dir, full + ".inputs"));
        result.SetMetadata("ResourceName", full + ".weights");
        result.SetMetadata("ValidationData", validation);
        result.SetMetadata("ValidationLabels", labels);
        result.SetMetadata("CalibrationData", calibration);
        result.SetMetadata("Tolerance", tol.Length == 0 ? "" : tolerance.ToString("R", CultureInfo.InvariantCulture));
        result.SetMetadata("Quantize", quantize);
        result.SetMetadata("CalibrationMethod", method);
        result.SetMetadata("CalibrationPercentile", percentile);
        result.SetMetadata("Exclude", item.GetMetadata("Exclude"));
        result.SetMetadata("Int4BlockSize", item.GetMetadata("Int4BlockSize"));
        result.SetMetadata("ShiftBits", item.GetMetadata("ShiftBits"));
        result.SetMetadata("BinaryActivations", item.GetMetadata("BinaryActivations"));
        result.SetMetadata("LayerOverrides", item.GetMetadata("LayerOverrides"));
        result.SetMetadata("ValidationSamples", samples);
        result.SetMetadata("InputShape", item.GetMetadata("InputShape"));
        result.SetMetadata("Backend", backend.ToString());
        foreach (var name in PruneMetadata) result.SetMetadata(name, pruneMetadata[name]);
        result.SetMetadata("DataInputs", string.Join(";", new[] { validation, labels, calibration }.Where(p => p.Length > 0)));
        // Everything that changes the outputs, one line each: the stamp file is rewritten only when this changes,
        // so a metadata edit reruns the compression and an unrelated edit does not.
        var stamp = new StringBuilder();
        foreach (var name in KnownMetadata) stamp.Append(name).Append('=').Append(item.GetMetadata(name)).Append(';');
        stamp.Append("Namespace(resolved)=").Append(ns);
        result.SetMetadata("StampLines", stamp.ToString().Replace(";", "%3B"));
        return result;
    }

    static CompressException Bad(ITaskItem item, string modelPath, string name, string value, string expected) =>
        new(ErrorCodes.BadMetadata, $"CompressModel '{item.ItemSpec}': {name}=\"{value}\" is not valid; expected {expected}.", modelPath);

    /// <summary>digits_mlp.onnx → DigitsMlp.</summary>
    public static string DefaultClassName(string modelPath)
    {
        var sb = new StringBuilder();
        bool upper = true;
        foreach (char ch in Path.GetFileNameWithoutExtension(modelPath))
        {
            if (!char.IsLetterOrDigit(ch)) { upper = true; continue; }
            sb.Append(upper ? char.ToUpperInvariant(ch) : ch);
            upper = false;
        }
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, "Model");
        return sb.ToString();
    }
}
