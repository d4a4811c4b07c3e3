using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Pruning;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Channel pruning on hand-made graphs: the right channels go, every tensor shape follows, ONNX Runtime runs the result.</summary>
public class ChannelPruningTests
{
    static PruneOptions L1(string prune = "0.5", string? scope = null) => PruneOptions.FromMetadata(prune, "Channel", scope: scope, criterion: "L1");

    static float[] Filters(params float[] scales) =>
        scales.SelectMany((s, f) => Enumerable.Range(0, 9).Select(i => s * ((i * 7 + f * 3) % 5 - 1.5f))).ToArray();

    /// <summary>The original graph with the given output channels of a producer zeroed (weights and bias): what removing them must compute.</summary>
    static Graph Zeroed(Graph graph, string weight, string? bias, int[] channels)
    {
        var w = graph.Constant(weight)!;
        long per = w.ElementCount / w.Dims[0];
        var data = (float[])w.Floats.Clone();
        foreach (int c in channels) Array.Clear(data, (int)(c * per), (int)per);
        graph = graph.WithInitializer(w with { Data = data });
        if (bias is not null)
        {
            var b = graph.Constant(bias)!;
            var bd = (float[])b.Floats.Clone();
            foreach (int c in channels) bd[c] = 0;
            graph = graph.WithInitializer(b with { Data = bd });
        }
        return graph;
    }

    static void AssertSameOutputs(Graph expected, Graph pruned, int inputLength, TempFolder dir, double tolerance = 1e-4)
    {
        foreach (var x in PruneTestGraphs.Samples(4, inputLength, 9))
        {
            var want = PruneTestGraphs.Run(expected, x);
            var got = PruneTestGraphs.Run(pruned, x);
            var ort = PruneTestGraphs.RunOnnxRuntime(pruned, x, dir);
            for (int i = 0; i < want.Length; i++)
            {
                Assert.True(Math.Abs(want[i] - got[i]) <= tolerance * Math.Max(1, want.Max(Math.Abs)), $"output {i}: {got[i]} instead of {want[i]}");
                Assert.Equal(got[i], ort[i], 1e-4);
            }
        }
    }

    [Fact]
    public void Conv_relu_pool_flatten_gemm_loses_the_smallest_filters_and_their_features()
    {
        using var dir = TestFiles.TempFolder();
        var gemm = Enumerable.Range(0, 3 * 36).Select(i => (float)Math.Sin(i)).ToArray();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 1, 6, 6)
            .Init("W1", Filters(1, 0.1f, 2, 0.2f), 4, 1, 3, 3).Init("b1", [0.1f, 0.2f, 0.3f, 0.4f], 4)
            .Named("conv1", "Conv", ["x", "W1", "b1"], ["c"], A("pads", 1L, 1L, 1L, 1L))
            .Named("relu", "Relu", ["c"], ["r"])
            .Named("pool", "MaxPool", ["r"], ["p"], A("kernel_shape", 2L, 2L), A("strides", 2L, 2L))
            .Named("flat", "Flatten", ["p"], ["f"])
            .Init("W2", gemm, 3, 36).Init("b2", [1, 2, 3], 3)
            .Named("fc", "Gemm", ["f", "W2", "b2"], ["y"], A("transB", 1L))
            .Output("y"));
        var result = PruneTestGraphs.Prune(graph, L1());
        var g = result.Graph;

        Assert.Equal([2L, 1, 3, 3], PruneTestGraphs.Dims(g, "W1"));
        Assert.Equal(Filters(1, 0.1f, 2, 0.2f).Take(9).Concat(Filters(1, 0.1f, 2, 0.2f).Skip(18).Take(9)), PruneTestGraphs.Weights(g, "W1"));
        Assert.Equal([0.1f, 0.3f], PruneTestGraphs.Weights(g, "b1"));
        Assert.Equal([3L, 18], PruneTestGraphs.Dims(g, "W2"));
        // Channel c of the pooled 3×3 map is features 9c … 9c+8 of the Gemm: channels 0 and 2 keep columns 0-8 and 18-26.
        for (int r = 0; r < 3; r++)
            Assert.Equal(gemm.Skip(r * 36).Take(9).Concat(gemm.Skip(r * 36 + 18).Take(9)), PruneTestGraphs.Weights(g, "W2").Skip(r * 18).Take(18));
        Assert.Equal(Shape.Of(1, 2, 6, 6), g.ShapeOf(g.Nodes[0].Output0));
        AssertSameOutputs(Zeroed(graph, "W1", "b1", [1, 3]), g, 36, dir);

        Assert.Equal(2, result.Layers.Length);
        Assert.Contains("4 → 2 output channels", result.Layers[0].Action);
        Assert.Equal(36L * 36 + 3 * 36, result.Before.Macs.Dense);   // 36 pixels × 4 filters × 9, then 3 × 36
        Assert.Equal(36L * 18 + 3 * 18, result.After.Macs.Dense);
    }

    [Fact]
    public void Residual_add_and_depthwise_conv_prune_consistently()
    {
        using var dir = TestFiles.TempFolder();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 2, 4, 4)
            .Init("Wa", [1, 1, 0.1f, 0.1f, 2, 2, 0.2f, 0.2f], 4, 2, 1, 1).Named("convA", "Conv", ["x", "Wa"], ["a"])
            .Init("Wb", [1, -1, 0.1f, -0.1f, 2, -2, 0.2f, -0.2f], 4, 2, 1, 1).Named("convB", "Conv", ["x", "Wb"], ["b"])
            .Named("add", "Add", ["a", "b"], ["s"])
            .Named("relu", "Relu", ["s"], ["r"])
            .Random("Wd", 3, 4, 1, 3, 3).Named("dw", "Conv", ["r", "Wd"], ["d"], A("group", 4L), A("pads", 1L, 1L, 1L, 1L))
            .Random("Wp", 4, 3, 4, 1, 1).Named("pw", "Conv", ["d", "Wp"], ["y"])
            .Output("y"));
        var result = PruneTestGraphs.Prune(graph, L1());
        var g = result.Graph;
        Assert.Equal([2L, 2, 1, 1], PruneTestGraphs.Dims(g, "Wa"));
        Assert.Equal([2L, 2, 1, 1], PruneTestGraphs.Dims(g, "Wb"));
        Assert.Equal([2L, 1, 3, 3], PruneTestGraphs.Dims(g, "Wd"));
        Assert.Equal(2, g.Nodes.First(n => n.Name == "dw").GetInt("group", 0));
        Assert.Equal([3L, 2, 1, 1], PruneTestGraphs.Dims(g, "Wp"));
        AssertSameOutputs(Zeroed(Zeroed(graph, "Wa", null, [1, 3]), "Wb", null, [1, 3]), g, 32, dir);
        Assert.Contains(result.Layers, l => l.Layer == "dw" && l.Kind == "DepthwiseConv");
    }

    [Fact]
    public void Concat_groups_keep_their_offsets()
    {
        using var dir = TestFiles.TempFolder();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 2, 3, 3)
            .Init("Wa", [1, 1, 0.1f, 0.1f], 2, 2, 1, 1).Named("convA", "Conv", ["x", "Wa"], ["a"])
            .Init("Wb", [0.1f, 0.1f, 1, 1, 0.2f, 0.2f, 2, 2], 4, 2, 1, 1).Named("convB", "Conv", ["x", "Wb"], ["b"])
            .Named("cat", "Concat", ["a", "b"], ["c"], A("axis", 1L))
            .Named("relu", "Relu", ["c"], ["r"])
            .Random("Wc", 4, 3, 6, 1, 1).Named("convC", "Conv", ["r", "Wc"], ["y"])
            .Output("y"));
        var result = PruneTestGraphs.Prune(graph, L1());
        var wc = graph.Constant("Wc")!.Floats;
        // A keeps channel 0, B keeps channels 1 and 3: C reads input channels 0, 2 + 1 = 3 and 2 + 3 = 5.
        var expected = Enumerable.Range(0, 3).SelectMany(r => new[] { 0, 3, 5 }.Select(c => wc[r * 6 + c])).ToArray();
        Assert.Equal(expected, PruneTestGraphs.Weights(result.Graph, "Wc"));
        AssertSameOutputs(Zeroed(Zeroed(graph, "Wa", null, [1]), "Wb", null, [0, 2]), result.Graph, 18, dir);
    }

    [Fact]
    public void Reconstruction_removes_a_duplicate_filter_and_refits_the_next_layer()
    {
        using var dir = TestFiles.TempFolder();
        var f = Filters(1, 0.7f, 1.3f);
        var w1 = f.Concat(f.Skip(9).Take(9)).ToArray();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 1, 5, 5)
            .Init("W1", w1, 4, 1, 3, 3).Init("b1", [0.1f, 0.2f, 0.3f, 0.2f], 4)          // filter 3 = filter 1
            .Named("conv1", "Conv", ["x", "W1", "b1"], ["c"], A("pads", 1L, 1L, 1L, 1L))
            .Named("relu", "Relu", ["c"], ["r"])
            .Random("W2", 7, 2, 4, 3, 3).Init("b2", [0.5f, -0.5f], 2)
            .Named("conv2", "Conv", ["r", "W2", "b2"], ["y"])
            .Output("y"));
        var samples = PruneTestGraphs.Samples(64, 25, 3);
        var options = PruneOptions.FromMetadata("0.25", "Channel", hasCalibrationData: true);
        var result = PruneTestGraphs.Prune(graph, options, dir, samples);
        var kept = PruneTestGraphs.Weights(result.Graph, "W1");
        Assert.Equal([3L, 1, 3, 3], PruneTestGraphs.Dims(result.Graph, "W1"));
        // Filters 0 and 2 stay, and one copy of the duplicate (filter 1 or 3).
        var blocks = Enumerable.Range(0, 3).Select(i => string.Join(",", kept.Skip(9 * i).Take(9))).ToList();
        var filters = Enumerable.Range(0, 3).Select(i => string.Join(",", f.Skip(9 * i).Take(9))).ToList();
        Assert.Equal(filters.Order(), blocks.Order());
        var conv2 = result.Layers.Single(l => l.Layer == "conv2");
        Assert.True(conv2.Error < 1e-3, $"error {conv2.Error}");
        Assert.True(conv2.ErrorWithoutRefit > 1e-2, $"without refit {conv2.ErrorWithoutRefit}");
        AssertSameOutputs(graph, result.Graph, 25, dir, tolerance: 0.03); // of the output scale: the 1 % damping pulls the refit towards the old weights
    }

    [Fact]
    public void An_op_that_mixes_channels_is_CMP015_naming_it()
    {
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 1, 4, 4)
            .Random("W1", 1, 4, 1, 3, 3).Named("conv1", "Conv", ["x", "W1"], ["c"], A("pads", 1L, 1L, 1L, 1L))
            .Named("mix", "Softmax", ["c"], ["s"], A("axis", 1L))
            .Random("W2", 2, 2, 4, 1, 1).Named("conv2", "Conv", ["s", "W2"], ["y"])
            .Output("y"));
        var e = Assert.Throws<CompressException>(() => PruneTestGraphs.Prune(graph, L1()));
        Assert.Equal(ErrorCodes.PruneCannotRewire, e.Code);
        Assert.Contains("'mix'", e.Message);
        Assert.Contains("PruneExclude=\"conv1\"", e.Message);
        // Excluded, conv1 keeps its channels; nothing else can lose any.
        Assert.Equal(ErrorCodes.NothingToPrune, Assert.Throws<CompressException>(() =>
            PruneTestGraphs.Prune(graph, PruneOptions.FromMetadata("0.5", "Channel", criterion: "L1", exclude: "conv1"))).Code);
    }

    [Fact]
    public void Layers_before_a_final_softmax_keep_their_channels()
    {
        using var dir = TestFiles.TempFolder();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 8)
            .Random("W1", 1, 6, 8).Named("fc1", "Gemm", ["x", "W1"], ["h"], A("transB", 1L))
            .Named("relu", "Relu", ["h"], ["r"])
            .Random("W2", 2, 3, 6).Named("fc2", "Gemm", ["r", "W2"], ["z"], A("transB", 1L))
            .Named("softmax", "Softmax", ["z"], ["y"], A("axis", 1L))
            .Output("y"));
        var result = PruneTestGraphs.Prune(graph, L1(scope: "Global"));
        Assert.Equal([3L, 8], PruneTestGraphs.Dims(result.Graph, "W1"));
        Assert.Equal([3L, 3], PruneTestGraphs.Dims(result.Graph, "W2"));
        Assert.Contains(result.Skipped, s => s.Layer == "fc2" && s.Reason.Contains("graph output 'y'"));
        PruneTestGraphs.RunOnnxRuntime(result.Graph, new float[8], dir);
    }

    [Theory]
    [InlineData("digits_cnn", "L1")]
    [InlineData("digits_cnn", "BnGamma")]
    [InlineData("digits_dwsep", "L1")]
    [InlineData("digits_dwsep", "Reconstruction")]
    public void Sample_models_stay_consistent_and_run_in_onnx_runtime(string model, string criterion)
    {
        using var dir = TestFiles.TempFolder();
        var loaded = OnnxModelReader.Load(TestFiles.Model(model)).Graph;
        var canonical = CanonicalPipeline.Run(loaded, new PassLog());
        var options = PruneOptions.FromMetadata("0.5", "Channel", criterion: criterion, hasCalibrationData: criterion == "Reconstruction");
        PruneResult result;
        if (criterion == "Reconstruction")
        {
            using var data = PruneTestGraphs.Calibration(dir, canonical, TestFiles.Rows("digits_calib_x.f32", 64, 64));
            result = Pruner.Run(canonical, options, data, new PassLog(), loaded);
        }
        else result = Pruner.Run(canonical, options, null, new PassLog(), loaded);

        var g = result.Graph;
        Assert.Equal(g.Values.Count, ShapeInference.Run(g).Values.Count); // shapes re-infer from scratch
        Assert.True(result.After.Macs.Dense < result.Before.Macs.Dense / 2, $"{result.After.Macs.Dense} of {result.Before.Macs.Dense}");
        foreach (var x in TestFiles.Rows("digits_test_x.f32", 64, 3))
        {
            var plan = PruneTestGraphs.Run(g, x);
            var ort = PruneTestGraphs.RunOnnxRuntime(g, x, dir);
            for (int i = 0; i < plan.Length; i++) Assert.Equal(ort[i], plan[i], 1e-3);
        }
        if (criterion == "BnGamma") Assert.Contains("|γ|", string.Join(" ", result.Layers.Select(l => l.Action)));
    }
}
