using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Tasks.Tests.Passes;

using Graph = Compress.Tasks.Graph.Graph;

public class CanonicalPipelineTests
{
    const int Samples = 40;

    public static TheoryData<string, string, string, string> Models => new()
    {
        // model, expected op counts after the pipeline, fused activations, reference logits
        { "digits_mlp", "Gemm×3", "Relu×2", "digits_mlp" },
        { "digits_mlp_dyn", "Gemm×3", "Relu×2", "digits_mlp" },
        { "wide_mlp", "Gemm×3", "Relu×2", "wide_mlp" },
        { "digits_cnn", "Conv×2 Flatten×1 Gemm×1 MaxPool×1", "Relu×2", "digits_cnn" },
        { "digits_dwsep", "Add×2 Conv×9 Flatten×2 Gemm×3 GlobalAveragePool×3 Mul×2 Unsqueeze×2", "Relu×9 Sigmoid×2", "digits_dwsep" },
    };

    static string Counts(IEnumerable<string> ops) =>
        string.Join(" ", ops.GroupBy(o => o).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}×{g.Count()}"));

    static long[] InputDims(Graph g) => g.Inputs[0].Shape!.Dims.Select(d => d.IsKnown ? d.Value : 1).ToArray();

    [Theory]
    [MemberData(nameof(Models))]
    public void Canonical_graphs_have_the_expected_ops(string model, string ops, string fused, string _)
    {
        var original = OnnxModelReader.Load(TestFiles.Model(model)).Graph;
        var log = new PassLog();
        var g = CanonicalPipeline.Run(original, log);

        Assert.Equal(ops, Counts(g.Nodes.Select(n => n.OpType)));
        Assert.Equal(fused, Counts(g.Nodes.Select(FusedActivationAttributes.Read).Where(a => a is not null).Select(a => a!.Value.OpType)));
        Assert.DoesNotContain(g.Nodes, n => n.OpType is "BatchNormalization" or "Identity" or "Dropout" or "Constant");
        Assert.All(g.Nodes.Where(n => n.OpType is "Unsqueeze" or "Reshape" or "Flatten"), n => Assert.False(g.IsConstant(n.Input(0))));
        Assert.All(g.Nodes.SelectMany(n => n.Inputs).Where(i => i.Length > 0),
            i => Assert.True(g.IsConstant(i) || g.Inputs.Any(x => x.Name == i) || g.Nodes.Any(n => n.Outputs.Contains(i))));
        Assert.Equal(g.Initializers.Keys.Order(), g.Nodes.SelectMany(n => n.Inputs).Where(g.IsConstant).Distinct().Order());
        foreach (var n in g.Nodes)
            foreach (var o in n.Outputs)
                Assert.NotNull(g.Value(o)?.Shape);
        Assert.Equal(["logits"], g.Outputs.Select(o => o.Name));
        Assert.NotEmpty(log.Entries);
        Assert.Equal(original.Nodes.Length, OnnxModelReader.Load(TestFiles.Model(model)).Graph.Nodes.Length); // pure: input untouched
    }

    [Fact]
    public void The_symbolic_batch_survives_the_pipeline()
    {
        var g = CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model("digits_mlp_dyn")).Graph, new PassLog());
        Assert.Equal(GraphBuilder.ShapeOf(-1, 10), g.Outputs[0].Shape);
        Assert.Equal(GraphBuilder.ShapeOf(-1, 64), g.Inputs[0].Shape);
    }

    [Fact]
    public void Dwsep_log_explains_the_folds_and_fusions()
    {
        var log = new PassLog();
        CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model("digits_dwsep")).Graph, log);
        Assert.Equal(7, log.For("FoldBatchNorm").Count(e => e.Message.StartsWith("folded into Conv")));
        Assert.Equal(2, log.For("ConstantFolding").Count(e => e.Message.StartsWith("Constant became")));
        Assert.Equal(11, log.For("FuseActivation").Count(e => e.Message.Contains("fused into")));
        Assert.Contains(log.For("FoldBatchNorm"), e => e.Message.Contains("bias") && e.Message.Contains("added"));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Canonical_graphs_compute_what_the_originals_compute(string model, string _, string __, string reference)
    {
        var original = OnnxModelReader.Load(TestFiles.Model(model)).Graph;
        var canonical = CanonicalPipeline.Run(original, new PassLog());
        var dims = InputDims(original);
        var inputs = TestFiles.Rows("digits_test_x.f32", 64, Samples);
        var logits = TestFiles.Rows($"{reference}_test_logits.f32", 10, Samples);
        for (int i = 0; i < Samples; i++)
        {
            var before = ReferenceInterpreter.RunOne(original, inputs[i], dims);
            var after = ReferenceInterpreter.RunOne(canonical, inputs[i], dims);
            GraphAssert.MaxAbsDiff(logits[i], before, 1e-4);
            GraphAssert.MaxAbsDiff(before, after, 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Canonical_graphs_export_as_standard_onnx_that_onnx_runtime_runs(string model, string _, string __, string reference)
    {
        var canonical = CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model(model)).Graph, new PassLog());
        using var dir = TestFiles.TempFolder();
        string path = dir.File(model + ".canonical.onnx");
        OnnxModelWriter.Write(canonical, path, new OnnxExportOptions { ProducerName = "Compress.Tests" });

        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        var dims = InputDims(canonical).Select(d => (int)d).ToArray();
        var inputs = TestFiles.Rows("digits_test_x.f32", 64, Samples);
        var logits = TestFiles.Rows($"{reference}_test_logits.f32", 10, Samples);
        for (int i = 0; i < Samples; i++)
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(inputs[i], dims))]);
            GraphAssert.MaxAbsDiff(logits[i], results.First().AsEnumerable<float>().ToArray(), 1e-4);
        }
    }
}
