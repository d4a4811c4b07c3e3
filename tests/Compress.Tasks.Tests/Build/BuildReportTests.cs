using System.Globalization;
using Compress.Tasks.Build;
using Compress.Tasks.Tests.Graph;

namespace Compress.Tasks.Tests.Build;

/// <summary>The report and summary line of real builds of the Digits models (ModelCompiler, as the MSBuild task runs it).</summary>
public class BuildReportTests
{
    static (CompileResult Result, string Report) Compile(TempFolder dir, string model, string? quantize, double? tolerance = null, string? layerOverrides = null)
    {
        var options = new CompressOptions
        {
            ModelPath = TestFiles.Model(model),
            ClassName = "M",
            Namespace = "T",
            Quantize = quantize,
            LayerOverrides = layerOverrides,
            CalibrationData = TestFiles.Data("digits_calib_x.npy"),
            ValidationData = TestFiles.Data("digits_test_x.npy"),
            ValidationLabels = TestFiles.Data("digits_test_y.npy"),
            ValidationSamples = 100,
            Tolerance = tolerance,
            PlanPath = dir.File("M.plan.json"),
            WeightsPath = dir.File("M.weights.bin"),
            ReportPath = dir.File("M.report.md"),
        };
        var result = ModelCompiler.Compile(options);
        return (result, File.ReadAllText(options.ReportPath));
    }

    /// <summary>The rows of the Markdown table whose header line starts with <paramref name="header"/>: cells, trimmed.</summary>
    static List<string[]> Table(string report, string header)
    {
        var lines = report.Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith(header, StringComparison.Ordinal));
        Assert.True(start >= 0, $"no table '{header}' in:\n{report}");
        return lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
    }

    [Fact]
    public void Int8_digits_cnn_report_has_a_layers_table_with_finite_sqnrs_and_the_summary_names_the_worst_layer()
    {
        using var dir = TestFiles.TempFolder();
        // conv2 forced to int8: by default the cost model keeps it on fp32 Winograd, which it estimates faster.
        var (result, report) = Compile(dir, "digits_cnn", "Int8", layerOverrides: "/conv2/Conv=Int8");

        var rows = Table(report, "| node | op | kernels | bits | weight scale |");
        Assert.Equal(["`/conv1/Conv`", "`/conv2/Conv`", "`/pool/MaxPool`", "`/flatten/Flatten`", "`/fc/Gemm`"], rows.Select(r => r[0]));
        foreach (var r in rows.Where(r => r[3] == "8"))
        {
            Assert.True(double.TryParse(r[6], CultureInfo.InvariantCulture, out double sqnr) && sqnr is > 10 and < 90, $"SQNR '{r[6]}' of {r[0]}");
            Assert.NotEqual("—", r[8]);
        }
        var conv2 = rows.Single(r => r[0] == "`/conv2/Conv`");
        Assert.Equal("8", conv2[3]);
        Assert.Contains("`QConv2dU8S8.Run`", conv2[2]);
        Assert.Matches(@"^[0-9.e-]+–[0-9.e-]+ \(32 channels\)$", conv2[4]);
        Assert.Matches(@"^[0-9.]+ / 0$", conv2[5]); // Conv + Relu: zero point 0
        double layerShares = rows.Sum(r => double.Parse(r[8], CultureInfo.InvariantCulture));
        Assert.InRange(layerShares, 99.5, 100.5);

        Assert.Matches(@"\| weights \| [\d,]+ B fp32 → [\d,]+ B \([\d.]+× smaller\) \|", report);
        Assert.Contains("| accuracy |", report);
        Assert.Contains("| top-1 agreement with fp32 |", report);
        Assert.Contains("Loses the most: `", report);

        var worst = result.Layers!.Worst!;
        Assert.Contains($"; worst layer {worst.Node} (SQNR ", result.Summary);
        Assert.Contains("; report ", result.Summary);
        // The existing sections stay.
        foreach (var section in new[] { "## Validation against ONNX Runtime", "## Quantisation decisions", "## Layers", "## Schedule", "## Graph passes" })
            Assert.Contains(section, report);
    }

    [Fact]
    public void A_quantised_variant_over_its_tolerance_names_the_layer_that_loses_the_most()
    {
        using var dir = TestFiles.TempFolder();
        var e = Assert.Throws<Compress.Tasks.Diagnostics.CompressException>(() => Compile(dir, "digits_mlp", "Int8", tolerance: 1e-6));
        Assert.Equal("CMP007", e.Code);
        Assert.Matches(@"Exclude the layer that loses the most, /fc\d/Gemm \(SQNR [\d.]+ dB", e.Message);
    }

    [Fact]
    public void Fp32_report_has_a_latency_share_per_step_and_no_layers_section()
    {
        using var dir = TestFiles.TempFolder();
        var (result, report) = Compile(dir, "digits_mlp", quantize: null);

        Assert.DoesNotContain("## Layers", report);
        Assert.DoesNotContain("worst layer", result.Summary);
        var rows = Table(report, "| # | node | op | kernel | what | latency % |");
        Assert.Equal(result.Plan.Steps.Count, rows.Count);
        Assert.InRange(rows.Sum(r => double.Parse(r[5], CultureInfo.InvariantCulture)), 99.5, 100.5);
        Assert.Contains("timed at build time with the runtime kernels", report);
    }
}
