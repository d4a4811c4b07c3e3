using Compress.Tasks.Build;
using Compress.Tasks.Tests.Graph;

namespace Compress.Tasks.Tests.Pruning;

/// <summary>Compiles a sample model with pruning metadata through <see cref="ModelCompiler"/>, validating on the 500 test digits.</summary>
internal static class PruneHarness
{
    public static CompileResult Compile(TempFolder dir, string model, string? prune, string? mode = null, string? pattern = null, string? scope = null,
        string? criterion = null, string? reconstruct = null, string? exclude = null, string? quantize = null, bool calibration = true)
    {
        var options = new CompressOptions
        {
            ModelPath = TestFiles.Model(model),
            ClassName = "Pruned",
            CalibrationData = calibration ? TestFiles.Data("digits_calib_x.npy") : null,
            ValidationData = TestFiles.Data("digits_test_x.npy"),
            ValidationLabels = TestFiles.Data("digits_test_y.npy"),
            Prune = prune,
            PruneMode = mode,
            PrunePattern = pattern,
            PruneScope = scope,
            PruneCriterion = criterion,
            PruneReconstruct = reconstruct,
            PruneExclude = exclude,
            Quantize = quantize,
            PlanPath = dir.File("Pruned.plan.json"),
            WeightsPath = dir.File("Pruned.weights.bin"),
            ReportPath = dir.File("Pruned.report.md"),
            OnnxPath = dir.File("Pruned.onnx"),
        };
        return ModelCompiler.Compile(options);
    }
}
