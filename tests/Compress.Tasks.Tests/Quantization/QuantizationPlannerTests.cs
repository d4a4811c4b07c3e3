using Compress.Tasks.Data;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Decisions, parameters and boundaries of the planners on small hand-made graphs.</summary>
public class QuantizationPlannerTests
{
    /// <summary>Every node with a quantised kernel is quantised (the cost model is tested separately).</summary>
    static readonly QuantizeOptions Forced = new() { CostModel = null };

    static Graph Canonical(GraphBuilder b) => CanonicalPipeline.Run(b.Build(), new PassLog());

    /// <summary>x[1,16] → fc1 (Relu) → fc2 (Relu) → fc3 → y.</summary>
    static Graph Mlp() => Canonical(new GraphBuilder().Input("x", 1, 16)
        .Random("w1", 1, 32, 16).Random("b1", 2, 32).Random("w2", 3, 32, 32).Random("b2", 4, 32).Random("w3", 5, 10, 32).Random("b3", 6, 10)
        .Named("fc1", "Gemm", ["x", "w1", "b1"], ["z1"], A("transB", 1L)).Named("relu1", "Relu", ["z1"], ["h1"])
        .Named("fc2", "Gemm", ["h1", "w2", "b2"], ["z2"], A("transB", 1L)).Named("relu2", "Relu", ["z2"], ["h2"])
        .Named("fc3", "Gemm", ["h2", "w3", "b3"], ["y"], A("transB", 1L)).Output("y"));

    /// <summary>x[1,1,8,8] → conv1 3×3 (Relu) → depthwise 3×3 (Relu) → MaxPool 2 → Flatten → fc → y.</summary>
    static Graph Cnn() => Canonical(new GraphBuilder().Input("x", 1, 1, 8, 8)
        .Random("cw1", 1, 4, 1, 3, 3).Random("cb1", 2, 4).Random("dw", 3, 4, 1, 3, 3).Random("fw", 4, 10, 64).Random("fb", 5, 10)
        .Named("conv1", "Conv", ["x", "cw1", "cb1"], ["c1"], A("pads", 1L, 1L, 1L, 1L)).Named("r1", "Relu", ["c1"], ["a1"])
        .Named("dw", "Conv", ["a1", "dw"], ["c2"], A("pads", 1L, 1L, 1L, 1L), A("group", 4L)).Named("r2", "Relu", ["c2"], ["a2"])
        .Named("pool", "MaxPool", ["a2"], ["p"], A("kernel_shape", 2L, 2L), A("strides", 2L, 2L))
        .Named("flat", "Flatten", ["p"], ["f"])
        .Named("fc", "Gemm", ["f", "fw", "fb"], ["y"], A("transB", 1L)).Output("y"));

    static IReadOnlyDictionary<string, TensorRange> Uniform(Graph g, QuantizeOptions o, float min = -1f, float max = 3f) =>
        QuantizationPlanner.ValuesToCalibrate(g, o).ToDictionary(v => v, _ => new TensorRange(min, max));

    static QuantizationResult Plan(Graph g, QuantizeOptions? o = null) => QuantizationPlanner.Plan(g, o ?? Forced, Uniform(g, o ?? Forced));

    static string[] Boundaries(QuantizationResult q) => q.Boundaries.Select(b => $"{b.Kind} {b.Value}").ToArray();

    static int Count(Compress.Tasks.Onnx.Proto.ModelProto m, string op) => m.Graph.Node.Count(n => n.OpType == op);

    [Fact]
    public void A_run_of_int8_layers_converts_only_at_its_entry()
    {
        var g = Mlp();
        var q = Plan(g);

        Assert.All(q.Decisions, d => Assert.Equal(NodePrecision.Int8, d.Precision));
        Assert.Equal(["x", "h1", "h2"], QuantizationPlanner.ValuesToCalibrate(g, Forced));
        Assert.Equal(["h1", "h2", "x"], q.Activations.Keys.Order(StringComparer.Ordinal));   // y: fc3 writes floats (GemvToF32)
        Assert.Equal(["Quantize x"], Boundaries(q));
        Assert.Equal(["w1", "w2", "w3"], q.Weights.Keys.Order(StringComparer.Ordinal));
        Assert.All(q.Weights.Values, w => Assert.Equal((0, 8), (w.ChannelAxis, w.Bits)));   // transB = 1: [N, K], channels on axis 0
        Assert.Equal(32, q.Weights["w2"].Scales.Length);
        Assert.Equal("Int8", q.Mode);
    }

    [Fact]
    public void A_fused_relu_output_starts_at_zero_and_clip_bounds_the_range()
    {
        var g = Mlp();
        var ranges = new Dictionary<string, TensorRange> { ["x"] = new(-1f, 3f), ["h1"] = new(-3f, 5f), ["h2"] = new(0.5f, 2f) };
        var q = QuantizationPlanner.Plan(g, Forced, ranges);
        Assert.Equal(QuantParams.FromRange(-1f, 3f), q.Activations["x"]);
        Assert.Equal(new QuantParams(5f / 255f, 0), q.Activations["h1"]);
        Assert.Equal(new QuantParams(2f / 255f, 0), q.Activations["h2"]);

        var clip = Canonical(new GraphBuilder().Input("x", 1, 8).Random("w", 1, 8, 8).Random("v", 2, 4, 8)
            .Init("lo", [0f]).Init("hi", [6f])
            .Named("fc", "Gemm", ["x", "w"], ["z"], A("transB", 1L)).Named("clip", "Clip", ["z", "lo", "hi"], ["h"])
            .Named("out", "Gemm", ["h", "v"], ["y"], A("transB", 1L)).Output("y"));
        var qc = QuantizationPlanner.Plan(clip, Forced, new Dictionary<string, TensorRange> { ["x"] = new(-1f, 1f), ["h"] = new(-1f, 10f) });
        Assert.Equal(new QuantParams(6f / 255f, 0), qc.Activations["h"]);
    }

    [Fact]
    public void Exclude_keeps_a_node_fp32_and_moves_the_boundaries()
    {
        var g = Mlp();
        var o = Forced with { Exclude = QuantizeOptions.ParseExclude("fc2") };
        var q = Plan(g, o);

        var fc2 = q.DecisionFor("fc2")!;
        Assert.Equal((NodePrecision.Fp32, "Exclude"), (fc2.Precision, fc2.Reason));
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("fc1")!.Precision);
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("fc3")!.Precision);
        // fc1 writes floats for the fp32 fc2 (no dequantise step), fc2's output is quantised for fc3.
        Assert.Equal(["Quantize x", "Quantize h2"], Boundaries(q));
        Assert.False(q.Activations.ContainsKey("h1"));
        Assert.DoesNotContain("w2", q.Weights.Keys);

        var model = QdqExport.ToProto(g, q);
        Assert.Equal(2, Count(model, "QuantizeLinear"));
    }

    [Fact]
    public void Pools_and_aliases_run_on_u8_with_their_inputs_parameters()
    {
        var g = Cnn();
        var q = Plan(g);

        Assert.Equal(["x", "a1", "a2"], QuantizationPlanner.ValuesToCalibrate(g, Forced));
        Assert.Equal(q.Activations["a2"], q.Activations["p"]);
        Assert.Equal(q.Activations["a2"], q.Activations["f"]);
        Assert.Equal("a2", q.SharedParams["f"]);
        Assert.Contains("runs on u8", q.DecisionFor("pool")!.Reason);
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("flat")!.Precision);
        Assert.Equal(["Quantize x"], Boundaries(q));
        Assert.Equal(0, q.Weights["dw"].ChannelAxis);
        Assert.Equal(4, q.Weights["dw"].Scales.Length);

        // The QDQ export has one QuantizeLinear → DequantizeLinear pair per u8 tensor (ONNX Runtime drops the pairs around
        // MaxPool/Flatten, whose parameters are equal), and a DequantizeLinear per weight and per int32 bias.
        var model = QdqExport.ToProto(g, q);
        Assert.Equal(q.Activations.Count, Count(model, "QuantizeLinear"));
        Assert.Equal(5, q.Activations.Count);
        Assert.Equal(5 + 3 + 2, Count(model, "DequantizeLinear"));
        Assert.Equal(2, Count(model, "Relu"));
    }

    [Fact]
    public void An_fp32_op_in_the_middle_gets_one_dequantise_after_the_pool_and_one_quantise()
    {
        var g = Canonical(new GraphBuilder().Input("x", 1, 1, 8, 8)
            .Random("cw", 1, 4, 1, 3, 3).Random("fw", 2, 10, 64)
            .Named("conv", "Conv", ["x", "cw"], ["c"], A("pads", 1L, 1L, 1L, 1L)).Named("r", "Relu", ["c"], ["a"])
            .Named("pool", "MaxPool", ["a"], ["p"], A("kernel_shape", 2L, 2L), A("strides", 2L, 2L))
            .Named("flat", "Flatten", ["p"], ["f"])
            .Named("softmax", "Softmax", ["f"], ["s"])
            .Named("fc", "Gemm", ["s", "fw"], ["y"], A("transB", 1L)).Output("y"));
        var q = Plan(g);

        Assert.Equal((NodePrecision.Fp32, "no quantised kernel for Softmax"), (q.DecisionFor("softmax")!.Precision, q.DecisionFor("softmax")!.Reason));
        Assert.Equal(["Quantize x", "Dequantize f", "Quantize s"], Boundaries(q));
        Assert.Equal(5, Count(QdqExport.ToProto(g, q), "QuantizeLinear"));
    }

    [Fact]
    public void Add_of_two_u8_values_runs_int8_and_a_u8_graph_output_is_dequantised()
    {
        var g = Residual();
        var q = Plan(g);

        Assert.Equal(NodePrecision.Int8, q.DecisionFor("add")!.Precision);
        Assert.Equal(0, q.Activations["sr"].ZeroPoint);
        Assert.Equal(["Quantize x", "Dequantize y"], Boundaries(q));
        Assert.Equal(["x", "ar", "b", "sr", "y"], QuantizationPlanner.ValuesToCalibrate(g, Forced));
    }

    [Fact]
    public void A_conv_whose_activation_is_not_a_clamp_stays_fp32_and_a_gemm_writes_floats()
    {
        var g = Canonical(new GraphBuilder().Input("x", 1, 2, 4, 4).Random("w", 1, 2, 2, 1, 1).Random("v", 2, 3, 32).Random("u", 3, 3, 3)
            .Named("conv", "Conv", ["x", "w"], ["c"]).Named("sig", "Sigmoid", ["c"], ["s"])
            .Named("flat", "Flatten", ["s"], ["f"])
            .Named("fc", "Gemm", ["f", "v"], ["g"], A("transB", 1L)).Named("tanh", "Tanh", ["g"], ["t"])
            .Named("fc2", "Gemm", ["t", "u"], ["y"], A("transB", 1L)).Output("y"));
        var q = Plan(g);

        Assert.Equal(NodePrecision.Fp32, q.DecisionFor("conv")!.Precision);
        Assert.Contains("Sigmoid is not a clamp", q.DecisionFor("conv")!.Reason);
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("fc")!.Precision);
        // fc applies Tanh in its f32 epilogue; the result is quantised for fc2.
        Assert.Equal(["Quantize f", "Quantize t"], Boundaries(q));
    }

    [Fact]
    public void Weights_of_k_by_n_matrices_are_per_column()
    {
        var g = Canonical(new GraphBuilder().Input("x", 1, 6).Random("b", 1, 6, 5).Random("m", 2, 5, 4)
            .Named("gemm", "Gemm", ["x", "b"], ["h"])
            .Named("matmul", "MatMul", ["h", "m"], ["y"]).Output("y"));
        var q = Plan(g);
        Assert.Equal((1, 5), (q.Weights["b"].ChannelAxis, q.Weights["b"].Scales.Length));
        Assert.Equal((1, 4), (q.Weights["m"].ChannelAxis, q.Weights["m"].Scales.Length));
    }

    [Fact]
    public void Int8Dynamic_quantises_gemm_and_matmul_weights_only()
    {
        var g = Cnn();
        var o = Forced with { Mode = QuantizeMode.Int8Dynamic };
        Assert.Empty(QuantizationPlanner.ValuesToCalibrate(g, o));
        var q = QuantizationPlanner.Plan(g, o, null);

        Assert.Equal("Int8Dynamic", q.Mode);
        Assert.Equal(NodePrecision.Int8Dynamic, q.DecisionFor("fc")!.Precision);
        Assert.Contains("Gemm and MatMul only", q.DecisionFor("conv1")!.Reason);
        Assert.Empty(q.Activations);
        Assert.Empty(q.Boundaries);
        Assert.Equal(["fw"], q.Weights.Keys);
        Assert.Equal(8, q.Weights["fw"].Bits);
    }

    [Fact]
    public void Int4_quantises_in_blocks_of_the_requested_size()
    {
        var g = Mlp();
        var q = QuantizationPlanner.Plan(g, Forced with { Mode = QuantizeMode.Int4, Int4BlockSize = 8 }, null);

        Assert.All(q.Decisions, d => Assert.Equal(NodePrecision.Int4, d.Precision));
        Assert.All(q.Weights.Values, w => Assert.Equal((4, 8), (w.Bits, w.BlockSize)));
        Assert.Equal(32 * 2, q.Weights["w1"].Scales.Length); // 32 channels × ceil(16 / 8) blocks
        Assert.Empty(q.Activations);
    }

    /// <summary>x[1,2,4,4] → two convs → Add (Relu) → conv → y: the graph output is written in u8 and dequantised.</summary>
    static Graph Residual() => Canonical(new GraphBuilder().Input("x", 1, 2, 4, 4)
        .Random("wa", 1, 2, 2, 1, 1).Random("wb", 2, 2, 2, 3, 3).Random("wc", 3, 3, 2, 1, 1)
        .Named("ca", "Conv", ["x", "wa"], ["a"]).Named("ra", "Relu", ["a"], ["ar"])
        .Named("cb", "Conv", ["x", "wb"], ["b"], A("pads", 1L, 1L, 1L, 1L))
        .Named("add", "Add", ["ar", "b"], ["s"]).Named("rs", "Relu", ["s"], ["sr"])
        .Named("cc", "Conv", ["sr", "wc"], ["y"]).Output("y"));

    public static TheoryData<string, string> SmallGraphs => new() { { "cnn", "" }, { "residual", "" }, { "mlp", "fc2" } };

    [Theory]
    [MemberData(nameof(SmallGraphs))]
    public void The_qdq_export_computes_what_the_fp32_graph_computes(string name, string exclude)
    {
        var g = name switch { "cnn" => Cnn(), "residual" => Residual(), _ => Mlp() };
        var o = Forced with { Exclude = QuantizeOptions.ParseExclude(exclude) };
        int length = (int)g.Inputs[0].Shape!.ElementCount;
        var rng = new Random(11);
        var calib = new TensorFile("random", 64, length, Enumerable.Range(0, 64 * length).Select(_ => rng.NextDouble()).ToArray());
        var q = QuantizationPlanner.Plan(g, o, OrtMinMax.Ranges(g, QuantizationPlanner.ValuesToCalibrate(g, o), calib));

        using var dir = TestFiles.TempFolder();
        OnnxModelWriter.Write(g, dir.File("fp32.onnx"));
        QdqExport.Write(g, q, dir.File("int8.onnx"));
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var fp32 = new InferenceSession(dir.File("fp32.onnx"), options);
        using var int8 = new InferenceSession(dir.File("int8.onnx"), options);
        for (int s = 0; s < 16; s++)
        {
            var x = new DenseTensor<float>(calib.SampleAsFloats(s), OrtMinMax.InputDims(g));
            using var a = fp32.Run([NamedOnnxValue.CreateFromTensor("x", x)]);
            using var b = int8.Run([NamedOnnxValue.CreateFromTensor("x", x)]);
            float[] want = a.First().AsEnumerable<float>().ToArray(), got = b.First().AsEnumerable<float>().ToArray();
            float range = want.Max() - want.Min();
            for (int i = 0; i < want.Length; i++) Assert.InRange(Math.Abs(got[i] - want[i]), 0f, 0.05f * range);
        }
    }

    [Fact]
    public void Static_int8_without_ranges_or_with_a_missing_range_is_an_error()
    {
        var g = Mlp();
        var e = Assert.Throws<CompressException>(() => QuantizationPlanner.Plan(g, Forced, null));
        Assert.Equal(ErrorCodes.BadMetadata, e.Code);
        Assert.Contains("CalibrationData", e.Message);

        var missing = new Dictionary<string, TensorRange> { ["x"] = new(0f, 1f), ["h1"] = new(0f, 1f) };
        e = Assert.Throws<CompressException>(() => QuantizationPlanner.Plan(g, Forced, missing));
        Assert.Equal(ErrorCodes.BadData, e.Code);
        Assert.Contains("'h2'", e.Message);

        var nan = new Dictionary<string, TensorRange>(missing) { ["h2"] = new(float.NaN, 1f) };
        e = Assert.Throws<CompressException>(() => QuantizationPlanner.Plan(g, Forced, nan));
        Assert.Equal(ErrorCodes.BadData, e.Code);
    }
}
