using System.Collections.Immutable;
using Compress.Tasks.Data;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Passes;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Compress.Tasks.Tests.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// The QDQ exports of the four Digits models, calibrated with MinMax over the 256 calibration digits (computed here
/// through ONNX Runtime), loaded and run by ONNX Runtime on the 500 test digits: top-1 accuracy within 1 point of the
/// fp32 model's, and ONNX Runtime recognises the int8 pattern (its fused integer ops appear in the optimised graph).
/// </summary>
public class QdqExportTests(ITestOutputHelper output)
{
    public static TheoryData<string, QuantizeMode, bool> Exports()
    {
        var data = new TheoryData<string, QuantizeMode, bool>();
        foreach (var model in new[] { "digits_mlp", "digits_cnn", "digits_dwsep", "wide_mlp" })
        {
            data.Add(model, QuantizeMode.Int8, true);         // the cost model's choice
            data.Add(model, QuantizeMode.Int8, false);        // every node with an int8 kernel: the hardest case for accuracy
            data.Add(model, QuantizeMode.Int8Dynamic, false);
            data.Add(model, QuantizeMode.Int4, false);
        }
        return data;
    }

    static readonly Lazy<(TensorFile Calib, TensorFile Test, TensorFile Labels)> Data = new(() => (
        TensorFile.ReadSamples(TestFiles.Data("digits_calib_x.npy"), 64),
        TensorFile.ReadSamples(TestFiles.Data("digits_test_x.npy"), 64),
        TensorFile.ReadLabels(TestFiles.Data("digits_test_y.npy"))));

    static Graph Canonical(string model) => CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model(model)).Graph, new PassLog());

    static QuantizationResult Quantise(Graph g, QuantizeOptions options)
    {
        var values = QuantizationPlanner.ValuesToCalibrate(g, options);
        return QuantizationPlanner.Plan(g, options, OrtMinMax.Ranges(g, values, Data.Value.Calib));
    }

    /// <summary>Top-1 accuracy (percent) of a model file on the 500 test digits under ONNX Runtime.</summary>
    static double Accuracy(string path, int[] dims, string? optimizedPath = null)
    {
        var (_, test, labels) = Data.Value;
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        if (optimizedPath is not null)
        {
            options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED;
            options.OptimizedModelFilePath = optimizedPath;
        }
        using var session = new InferenceSession(path, options);
        string input = session.InputMetadata.Keys.First();
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            using var result = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(test.SampleAsFloats(i), dims))]);
            var logits = result.First().AsEnumerable<float>().ToArray();
            if (Array.IndexOf(logits, logits.Max()) == (int)labels.Values[i]) correct++;
        }
        return 100.0 * correct / test.Count;
    }

    [Theory]
    [MemberData(nameof(Exports))]
    public void Qdq_export_runs_in_onnx_runtime_and_keeps_accuracy(string model, QuantizeMode mode, bool costModel)
    {
        var g = Canonical(model);
        var options = new QuantizeOptions { Mode = mode, CostModel = costModel ? CostModel.Default : null };
        var q = Quantise(g, options);

        string folder = Path.Combine(AppContext.BaseDirectory, "models", "qdq");
        string path = Path.Combine(folder, $"{model}.{mode}{(costModel ? "" : ".all")}.qdq.onnx");
        QdqExport.Write(g, q, path);
        var dims = OrtMinMax.InputDims(g);
        double fp32 = Accuracy(TestFiles.Model(model), dims);
        double quantised = Accuracy(path, dims, path + ".ort-optimized.onnx");

        int quantisedNodes = q.Decisions.Count(d => d.Precision != NodePrecision.Fp32);
        output.WriteLine($"{model} {mode} ({(costModel ? "cost model" : "all nodes")}): fp32 {fp32:0.0} %, QDQ {quantised:0.0} %, {quantisedNodes}/{q.Decisions.Length} nodes quantised");
        foreach (var d in q.Decisions) output.WriteLine($"  {d.Node}: {d.Precision} — {d.Reason}");
        Assert.InRange(quantised, fp32 - 1.0, 100.0);

        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.True(written.OpsetImport.Single(o => o.Domain == "").Version >= 13);
        Assert.Equal(q.Mode, written.MetadataProps.Single(p => p.Key == QdqExport.ModeMetadataKey).Value);
        Assert.Equal(q.Activations.Count, written.Graph.Node.Count(n => n.OpType == "QuantizeLinear"));
        if (mode == QuantizeMode.Int8 && !costModel)
        {
            // ONNX Runtime's QDQ fusions turned the pattern into its integer kernels.
            var optimized = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path + ".ort-optimized.onnx"));
            var ops = optimized.Graph.Node.Select(n => n.OpType).ToHashSet();
            output.WriteLine($"  ONNX Runtime ops: {string.Join(" ", ops.Order())}");
            Assert.True(ops.Overlaps(["QGemm", "QLinearConv", "QLinearMatMul", "MatMulIntegerToFloat"]), string.Join(" ", ops));
            if (model.Contains("mlp")) Assert.DoesNotContain("Gemm", ops);
        }
    }

    [Theory]
    [InlineData("digits_cnn")]
    [InlineData("digits_dwsep")]
    public void Compress_calibration_observes_every_value_the_planner_asks_for(string model)
    {
        // The contract with Calibration/: the values are observable in the fp32 plan, and its MinMax ranges agree with
        // ONNX Runtime's, so the export built from them keeps the accuracy too.
        var g = Canonical(model);
        var options = new QuantizeOptions { CostModel = null };
        var values = QuantizationPlanner.ValuesToCalibrate(g, options);
        var fp32 = Compress.Tasks.Lowering.ModelLowering.Lower(g, Compress.Tasks.Lowering.LoweringOptions.ForClass("Tests.Model"));
        using var data = Compress.Tasks.Calibration.CalibrationData.Open(TestFiles.Data("digits_calib_x.npy"), fp32.Plan);
        var ranges = Compress.Tasks.Calibration.Calibrator.Run(fp32, data, Compress.Tasks.Calibration.CalibrationMethod.MinMax, 99.99, values);
        var reference = OrtMinMax.Ranges(g, values, Data.Value.Calib);
        foreach (var v in values)
        {
            Assert.Equal(reference[v].Min, ranges[v].Min, 1e-3f * (1 + Math.Abs(reference[v].Min)));
            Assert.Equal(reference[v].Max, ranges[v].Max, 1e-3f * (1 + Math.Abs(reference[v].Max)));
        }
        var q = QuantizationPlanner.Plan(g, options, ranges);
        using var dir = TestFiles.TempFolder();
        QdqExport.Write(g, q, dir.File("m.onnx"));
        var dims = OrtMinMax.InputDims(g);
        Assert.InRange(Accuracy(dir.File("m.onnx"), dims), Accuracy(TestFiles.Model(model), dims) - 1.0, 100.0);
    }

    [Fact]
    public void A_qdq_export_read_back_is_refused_as_already_quantised()
    {
        var g = Canonical("digits_mlp");
        var q = Quantise(g, new QuantizeOptions { CostModel = null });
        using var dir = TestFiles.TempFolder();
        QdqExport.Write(g, q, dir.File("mlp.qdq.onnx"));

        var loaded = OnnxModelReader.Load(dir.File("mlp.qdq.onnx")).Graph;
        var e = Assert.Throws<CompressException>(() => QuantizedModelCheck.ThrowIfQuantized(loaded));
        Assert.Equal(ErrorCodes.AlreadyQuantized, e.Code);
        Assert.Equal("CMP013", e.Code);
        Assert.Contains("QuantizeLinear", e.Message);
        e = Assert.Throws<CompressException>(() => QuantizationPlanner.Plan(loaded, new QuantizeOptions(), null));
        Assert.Equal("CMP013", e.Code);
    }

    [Fact]
    public void An_opset_11_model_is_raised_to_13_with_its_unsqueeze_axes_as_an_input()
    {
        var g = Canonical("digits_dwsep");
        // Pretend the model was opset 11: Unsqueeze carries its axes as an attribute.
        var old = g with
        {
            Info = g.Info with { Opsets = g.Info.Opsets.SetItem("", 11) },
            Nodes = g.Nodes.Select(n => n.OpType == "Unsqueeze"
                ? Compress.Tasks.Graph.GraphRewriting.WithAttribute(n with { Inputs = [n.Inputs[0]] }, "axes", Compress.Tasks.Graph.AttributeValue.Of(new long[] { -1 }))
                : n).ToImmutableArray(),
        };
        var q = Quantise(old, new QuantizeOptions { CostModel = null });
        var proto = QdqExport.ToProto(old, q);
        Assert.Equal(13, proto.OpsetImport.Single(o => o.Domain == "").Version);
        Assert.All(proto.Graph.Node.Where(n => n.OpType == "Unsqueeze"), n => Assert.Equal(2, n.Input.Count));
        using var dir = TestFiles.TempFolder();
        OnnxModelWriter.Write(proto, dir.File("m.onnx"));
        Assert.InRange(Accuracy(dir.File("m.onnx"), OrtMinMax.InputDims(g)), 97.0, 100.0);
    }
}
