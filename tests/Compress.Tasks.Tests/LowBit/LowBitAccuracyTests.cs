using Compress.Tasks.Build;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Validation;
using Xunit.Abstractions;

namespace Compress.Tasks.Tests.LowBit;

/// <summary>
/// Issue 5's done-when targets, compiled through <see cref="ModelCompiler"/> as the build does (calibrated on the 256
/// calibration digits, scored on the 500 test digits), and the exported ONNX run by ONNX Runtime against the plan.
/// </summary>
public class LowBitAccuracyTests(ITestOutputHelper output)
{
    static CompileResult Compile(TempFolder dir, string model, string quantize, string? overrides = null, string? binaryActivations = null,
        string? shiftBits = null) =>
        ModelCompiler.Compile(new CompressOptions
        {
            ModelPath = TestFiles.Model(model),
            ClassName = "LowBit",
            CalibrationData = TestFiles.Data("digits_calib_x.npy"),
            ValidationData = TestFiles.Data("digits_test_x.npy"),
            ValidationLabels = TestFiles.Data("digits_test_y.npy"),
            Quantize = quantize,
            LayerOverrides = overrides,
            BinaryActivations = binaryActivations,
            ShiftBits = shiftBits,
            PlanPath = dir.File("LowBit.plan.json"),
            WeightsPath = dir.File("LowBit.weights.bin"),
            ReportPath = dir.File("LowBit.report.md"),
            OnnxPath = dir.File("LowBit.onnx"),
        });

    /// <summary>fp32 accuracy and weight bytes of the plan (the sample's fp32 rows).</summary>
    public static TheoryData<string, double, int, double> ShiftTargets => new()
    {
        { "digits_mlp", 0.974, 206_376, 5.0 / 32 },
        { "digits_cnn", 0.994, 52_008, 5.0 / 32 },
        { "digits_dwsep", 0.988, 16_424, 5.0 / 32 }, // compact records: 1 byte of scale code and 2 of bias per channel (docs/low-bit.md)
        { "wide_mlp", 0.982, 4_530_216, 5.0 / 32 },
    };

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(ShiftTargets))]
    public void Shift_is_within_a_point_of_fp32_at_a_fraction_of_the_weights(string model, double fp32, int fp32Bytes, double sizeLimit)
    {
        using var dir = TestFiles.TempFolder();
        var result = Compile(dir, model, "Shift");
        double accuracy = result.Validation!.Accuracy!.Value;
        output.WriteLine($"{model} shift: {accuracy:P1} (fp32 {fp32:P1}), weights {result.WeightBytes:N0} B = {(double)result.WeightBytes / fp32Bytes:P1} of fp32");
        Assert.True(accuracy >= fp32 - 0.01, $"{model}: {accuracy:P1}");
        Assert.True(result.WeightBytes <= sizeLimit * fp32Bytes, $"{model}: {result.WeightBytes} B");
        Assert.Contains("ShiftGemmU8", result.Summary);
        Assert.Contains("## Low-bit layers", File.ReadAllText(dir.File("LowBit.report.md")));
        AssertOnnxRuntimeMatchesPlan(dir, result, 0.05);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Ternary_wide_mlp_is_within_two_points_at_a_twelfth_of_the_layer()
    {
        using var dir = TestFiles.TempFolder();
        var result = Compile(dir, "wide_mlp", "Ternary");
        Assert.True(result.Validation!.Accuracy >= 0.982 - 0.02, $"{result.Validation.Accuracy:P1}");
        var fc2 = result.Plan.Steps.Single(s => s.Call.Contains("TernaryGemmF32"));
        long stored = fc2.Args.OfType<Compress.Tasks.Plan.SpanArg>().Where(a => a.Source == Compress.Tasks.Plan.SpanSource.Weights).Sum(a => (long)a.Length * a.ElementBytes);
        output.WriteLine($"ternary: {result.Validation.Accuracy:P1}; fc2 stored {stored:N0} B vs fp32 {1024 * 1024 * 4 + 1024 * 4:N0} B");
        Assert.True(stored * 12 <= 1024 * 1024 * 4 + 1024 * 4, $"{stored} B");
        AssertOnnxRuntimeMatchesPlan(dir, result, 1e-3);
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("digits_mlp", null, 0.95)]
    [InlineData("wide_mlp", null, 0.97)]
    [InlineData("wide_mlp", "true", 0.96)]
    public void Binary_fc2_keeps_the_accuracy(string model, string? binaryActivations, double target)
    {
        using var dir = TestFiles.TempFolder();
        var result = Compile(dir, model, "Binary", "fc2=Binary", binaryActivations);
        output.WriteLine($"{model} binary fc2 (activations {binaryActivations ?? "f32"}): {result.Validation!.Accuracy:P1}, weights {result.WeightBytes:N0} B");
        Assert.True(result.Validation.Accuracy >= target, $"{result.Validation.Accuracy:P1}");
        Assert.Contains(binaryActivations is null ? "BinaryGemmF32" : "XnorGemmF32", result.Summary);
        AssertOnnxRuntimeMatchesPlan(dir, result, binaryActivations is null ? 1e-3 : 0.05);
    }

    /// <summary>
    /// The exported model (representable weights; dequantised where ONNX has no type for them; the binarisation as
    /// standard ops) run by ONNX Runtime against the plan on 50 test digits: max |Δ| within <paramref name="tolerance"/> of
    /// the output scale and the same top-1 class on at least 49.
    /// </summary>
    void AssertOnnxRuntimeMatchesPlan(TempFolder dir, CompileResult result, double tolerance)
    {
        var plan = result.Plan;
        var interpreter = new PlanInterpreter(plan, File.ReadAllBytes(dir.File("LowBit.weights.bin")));
        using var ort = new OnnxRuntimeReference(dir.File("LowBit.onnx"));
        var shape = plan.Inputs[0].Shape.Select(d => (long)d).ToArray();
        double maxDiff = 0, maxRef = 0;
        int agree = 0;
        var rows = TestFiles.Rows("digits_test_x.f32", 64, 50);
        foreach (var x in rows)
        {
            var want = ort.Run([x], [shape], [plan.Inputs[0].Name], [plan.Outputs[0].Name])[0];
            var got = interpreter.Run([x])[0];
            for (int i = 0; i < want.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(want[i] - got[i]));
                maxRef = Math.Max(maxRef, Math.Abs(want[i]));
            }
            if (Array.IndexOf(want, want.Max()) == Array.IndexOf(got, got.Max())) agree++;
        }
        output.WriteLine($"  exported ONNX vs plan: max |Δ| {maxDiff:G3} of {maxRef:G3}, top-1 {agree}/{rows.Length}");
        Assert.True(maxDiff <= tolerance * maxRef, $"max |Δ| {maxDiff} > {tolerance} × {maxRef}");
        Assert.True(agree >= rows.Length - 1, $"top-1 agreement {agree}/{rows.Length}");
    }

    [Theory]
    [InlineData("digits_mlp", "Shift", null, null, "5", ErrorCodes.BitWidthOutOfRange, "ShiftBits 5")]
    [InlineData("digits_cnn", "Ternary", "conv2=Ternary", null, null, ErrorCodes.LowBitUnsupportedLayer, "'/conv2/Conv'")]
    [InlineData("wide_mlp", "Binary", "fc7=Binary", "true", null, ErrorCodes.OverrideNamesNoNode, "'fc7'")]
    public void Bad_input_fails_with_its_code_and_leaves_no_outputs(string model, string quantize, string? overrides, string? binary, string? bits, string code, string text)
    {
        using var dir = TestFiles.TempFolder();
        var e = Assert.Throws<CompressException>(() => Compile(dir, model, quantize, overrides, binary, bits));
        Assert.Equal(code, e.Code);
        Assert.Contains(text, e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
