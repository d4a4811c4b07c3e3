using System.Collections.Immutable;
using Compress.Tasks.Build;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Weights stored as Constant nodes, and the InputShape metadata, through the whole build (ModelCompiler).</summary>
public class ModelFormTests
{
    /// <summary>The model with every float initializer moved into a Constant node in front of the graph (as some exporters write it).</summary>
    static Graph WithConstantNodes(Graph g)
    {
        var constants = g.Initializers.Values.Where(t => t.Type == DataType.Float).OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => Node.Create("const_" + t.Name, "Constant", [], [t.Name], [KeyValuePair.Create("value", AttributeValue.Of(t))]));
        return g with
        {
            Nodes = [.. constants, .. g.Nodes],
            Initializers = g.Initializers.Where(kv => kv.Value.Type != DataType.Float).ToImmutableDictionary(StringComparer.Ordinal),
            Inputs = g.Inputs.Where(i => !g.Initializers.ContainsKey(i.Name)).ToImmutableArray(),
        };
    }

    static CompileResult Compile(TempFolder dir, string model, string tag, string? quantize = null, string? prune = null, string? inputShape = null) =>
        ModelCompiler.Compile(new CompressOptions
        {
            ModelPath = model,
            ClassName = "M" + tag,
            CalibrationData = TestFiles.Data("digits_calib_x.npy"),
            ValidationData = TestFiles.Data("digits_test_x.npy"),
            ValidationLabels = TestFiles.Data("digits_test_y.npy"),
            ValidationSamples = 100,
            Quantize = quantize,
            Prune = prune,
            InputShape = inputShape,
            PlanPath = dir.File(tag + ".plan.json"),
            WeightsPath = dir.File(tag + ".weights.bin"),
            ReportPath = dir.File(tag + ".report.md"),
            OnnxPath = dir.File(tag + ".onnx"),
        });

    [Theory]
    [InlineData("digits_cnn", null, null)]
    [InlineData("digits_cnn", "Int8", null)]
    [InlineData("digits_mlp", null, "0.5")]
    [InlineData("digits_mlp", "Ternary", null)]
    [InlineData("digits_mlp", "Int4", null)]
    public void Constant_node_weights_compile_exactly_like_initializers(string model, string? quantize, string? prune)
    {
        using var dir = TestFiles.TempFolder();
        var original = OnnxModelReader.Load(TestFiles.Model(model)).Graph;
        var moved = WithConstantNodes(original);
        Assert.DoesNotContain(moved.Initializers.Values, t => t.Type == DataType.Float);
        string path = dir.File("constant_nodes.onnx");
        OnnxModelWriter.Write(moved, path);

        var fromInitializers = Compile(dir, TestFiles.Model(model), "a", quantize, prune);
        var fromConstants = Compile(dir, path, "b", quantize, prune);
        Assert.Equal(fromInitializers.Plan.Steps, fromConstants.Plan.Steps);
        Assert.Equal(File.ReadAllBytes(dir.File("a.weights.bin")), File.ReadAllBytes(dir.File("b.weights.bin")));
        Assert.Equal(fromInitializers.Validation!.Accuracy, fromConstants.Validation!.Accuracy);
    }

    /// <summary>digits_mlp with its input made fully dynamic ([?, ?]); InputShape fixes it.</summary>
    static string DynamicMlp(TempFolder dir)
    {
        var g = OnnxModelReader.Load(TestFiles.Model("digits_mlp")).Graph;
        g = g with { Inputs = g.Inputs.Select(i => g.Initializers.ContainsKey(i.Name) ? i : i with { Shape = new Shape([Dim.Symbolic("batch"), Dim.Symbolic("features")]) }).ToImmutableArray() };
        string path = dir.File("dynamic.onnx");
        OnnxModelWriter.Write(g, path);
        return path;
    }

    [Fact]
    public void InputShape_fixes_dynamic_dims_and_the_build_validates()
    {
        using var dir = TestFiles.TempFolder();
        string path = DynamicMlp(dir);
        var inputName = OnnxModelReader.Load(path).Graph.Inputs[0].Name;
        var e = Assert.Throws<CompressException>(() => Compile(dir, path, "none"));
        Assert.Equal(ErrorCodes.ShapeInference, e.Code);
        var result = Compile(dir, path, "fixed", inputShape: $"{inputName}=1,64");
        Assert.Equal([1L, 64L], result.Plan.Inputs[0].Shape);
        Assert.True(result.Validation!.Accuracy > 0.95);
    }

    [Theory]
    [InlineData("nosuch=1,64", "not an input of the model")]
    [InlineData("{0}=1,8,8", "rank 2")]
    [InlineData("{0}=1;{0}=2", "twice")]
    [InlineData("{0}=1,x", "name=d0,d1")]
    [InlineData("{0}", "name=d0,d1")]
    public void Bad_InputShape_is_cmp025_with_the_fix(string metadata, string message)
    {
        using var dir = TestFiles.TempFolder();
        string path = DynamicMlp(dir);
        var inputName = OnnxModelReader.Load(path).Graph.Inputs[0].Name;
        var e = Assert.Throws<CompressException>(() => Compile(dir, path, "bad", inputShape: string.Format(metadata, inputName)));
        Assert.Equal(ErrorCodes.BadInputShape, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void InputShape_may_not_contradict_a_fixed_dim()
    {
        var g = new GraphBuilder().Input("x", -1, 64).Build();
        var e = Assert.Throws<CompressException>(() => InputShapeOverride.Apply(g, InputShapeOverride.Parse("x=1,32")));
        Assert.Equal(ErrorCodes.BadInputShape, e.Code);
        Assert.Contains("fixes it to 64", e.Message);
        Assert.Equal(Shape.Of(3, 64), InputShapeOverride.Apply(g, InputShapeOverride.Parse(" x = 3, 64 ")).Inputs[0].Shape);
    }
}
