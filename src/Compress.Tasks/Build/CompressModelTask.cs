using System.Globalization;
using Compress.Tasks.Diagnostics;
using Microsoft.Build.Framework;

namespace Compress.Tasks.Build;

/// <summary>
/// MSBuild task <c>CompressModel</c>: compiles one resolved <c>CompressModel</c> item (see
/// <see cref="ResolveCompressModels"/>) through <see cref="ModelCompiler"/> and logs one summary line.
/// Failures become MSBuild errors with their CMP0xx code on the model's (or data's) file.
/// </summary>
public sealed class CompressModel : Microsoft.Build.Utilities.Task
{
    [Required] public ITaskItem Model { get; set; } = null!;

    public override bool Execute()
    {
        string modelPath = Model.ItemSpec;
        try
        {
            string M(string name) => Model.GetMetadata(name);
            string? Opt(string name) => M(name).Length == 0 ? null : M(name);
            var options = new CompressOptions
            {
                ModelPath = modelPath,
                ClassName = M("ClassName"),
                Namespace = M("Namespace"),
                ValidationData = Opt("ValidationData"),
                ValidationLabels = Opt("ValidationLabels"),
                CalibrationData = Opt("CalibrationData"),
                Tolerance = Opt("Tolerance") is string t ? double.Parse(t, CultureInfo.InvariantCulture) : null,
                Quantize = Opt("Quantize"),
                CalibrationMethod = Opt("CalibrationMethod"),
                CalibrationPercentile = Opt("CalibrationPercentile") is string p ? double.Parse(p, CultureInfo.InvariantCulture) : 99.99,
                Exclude = Opt("Exclude"),
                Int4BlockSize = Opt("Int4BlockSize"),
                ShiftBits = Opt("ShiftBits"),
                BinaryActivations = Opt("BinaryActivations"),
                LayerOverrides = Opt("LayerOverrides"),
                InputShape = Opt("InputShape"),
                Prune = Opt("Prune"),
                PruneMode = Opt("PruneMode"),
                PrunePattern = Opt("PrunePattern"),
                PruneScope = Opt("PruneScope"),
                PruneCriterion = Opt("PruneCriterion"),
                PruneReconstruct = Opt("PruneReconstruct"),
                PruneExclude = Opt("PruneExclude"),
                Backend = ModelBackends.Parse(Opt("Backend"), modelPath),
                ValidationSamples = Opt("ValidationSamples") is string s ? int.Parse(s, CultureInfo.InvariantCulture) : null,
                PlanPath = M("PlanFile"),
                WeightsPath = M("WeightsFile"),
                ReportPath = M("ReportFile"),
                OnnxPath = Opt("OnnxFile"),
            };
            var result = ModelCompiler.Compile(options);
            if (result.Fallback is { } fallback)
                Log.LogWarning(null, ErrorCodes.OnnxRuntimeFallback, null, modelPath, 0, 0, 0, 0, fallback);
            Log.LogMessage(MessageImportance.High, "Compress: " + result.Summary);
            return true;
        }
        catch (CompressException e)
        {
            Log.LogError(null, e.Code, null, e.File ?? modelPath, 0, 0, 0, 0, e.Message);
            return false;
        }
        catch (Exception e)
        {
            Log.LogError(null, ErrorCodes.Internal, null, modelPath, 0, 0, 0, 0,
                $"Compress failed unexpectedly on this model; please report it with the model. {e}");
            return false;
        }
    }
}
