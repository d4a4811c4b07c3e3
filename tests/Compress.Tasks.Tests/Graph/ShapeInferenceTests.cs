using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Graph;

using Graph = Compress.Tasks.Graph.Graph;

public class ShapeInferenceTests
{
    static Shape Infer(GraphBuilder b, string value = "y") => ShapeInference.Run(b.Output(value).Build()).ShapeOf(value);

    static CompressException Fails(GraphBuilder b, string output = "y") =>
        Assert.Throws<CompressException>(() => ShapeInference.Run(b.Output(output).Build()));

    static GraphBuilder Unary(string op, params long[] dims) => new GraphBuilder().Input("x", dims).Node(op, ["x"], ["y"]);

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    [InlineData("Sigmoid")]
    [InlineData("HardSigmoid")]
    [InlineData("HardSwish")]
    [InlineData("Tanh")]
    [InlineData("Clip")]
    [InlineData("Softmax")]
    [InlineData("Identity")]
    [InlineData("Dropout")]
    public void Elementwise_ops_keep_type_and_shape(string op)
    {
        var g = ShapeInference.Run(Unary(op, -1, 3, 5).Output("y").Build());
        Assert.Equal(ShapeOf(-1, 3, 5), g.ShapeOf("y"));
        Assert.Equal(DataType.Float, g.Value("y")!.Type);
    }

    [Fact]
    public void Dropout_mask_and_Cast()
    {
        var g = ShapeInference.Run(new GraphBuilder().Input("x", 2, 3).Node("Dropout", ["x"], ["y", "mask"])
            .Node("Cast", ["x"], ["c"], A("to", (long)DataType.Int64)).Output("y").Output("mask").Output("c").Build());
        Assert.Equal(DataType.Bool, g.Value("mask")!.Type);
        Assert.Equal(ShapeOf(2, 3), g.ShapeOf("mask"));
        Assert.Equal(DataType.Int64, g.Value("c")!.Type);
        Assert.Equal(ShapeOf(2, 3), g.ShapeOf("c"));
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4 }, new long[] { 2, 3, 4 })]
    [InlineData(new long[] { 3, 1 }, new long[] { 1, 4 }, new long[] { 3, 4 })]
    [InlineData(new long[] { 1 }, new long[] { 5, 6 }, new long[] { 5, 6 })]
    [InlineData(new long[] { }, new long[] { 2, 2 }, new long[] { 2, 2 })]
    [InlineData(new long[] { -1, 16, 8, 8 }, new long[] { -1, 16, 1, 1 }, new long[] { -1, 16, 8, 8 })]
    [InlineData(new long[] { -1, 16, 8, 8 }, new long[] { 16, 1, 1 }, new long[] { -1, 16, 8, 8 })]
    [InlineData(new long[] { -1, 10 }, new long[] { 1, 10 }, new long[] { -1, 10 })]
    public void Binary_ops_broadcast_like_numpy(long[] a, long[] b, long[] expected)
    {
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Max", "Min" })
            Assert.Equal(ShapeOf(expected), Infer(new GraphBuilder().Input("a", a).Input("b", b).Node(op, ["a", "b"], ["y"])));
    }

    [Fact]
    public void Incompatible_broadcast_is_CMP005_naming_the_node()
    {
        var e = Fails(new GraphBuilder().Input("a", 2, 3).Input("b", 4).Named("add1", "Add", ["a", "b"], ["y"]));
        Assert.Equal(ErrorCodes.ShapeInference, e.Code);
        Assert.Contains("'add1'", e.Message);
        Assert.Contains("[2,3]", e.Message);
    }

    [Theory]
    [InlineData(0, 0, new long[] { 5, 64 }, new long[] { 64, 10 }, 10)]
    [InlineData(0, 1, new long[] { 5, 64 }, new long[] { 10, 64 }, 10)]
    [InlineData(1, 1, new long[] { 64, 5 }, new long[] { 10, 64 }, 10)]
    public void Gemm_respects_transposes(long transA, long transB, long[] a, long[] b, long n)
    {
        var shape = Infer(new GraphBuilder().Input("a", a).Random("b", 1, b).Random("c", 2, n)
            .Node("Gemm", ["a", "b", "c"], ["y"], A("transA", transA), A("transB", transB)));
        Assert.Equal(ShapeOf(5, n), shape);
    }

    [Fact]
    public void Gemm_checks_K_and_C_and_keeps_the_symbolic_batch()
    {
        Assert.Equal(ShapeOf(-1, 10), Infer(new GraphBuilder().Input("a", -1, 64).Random("b", 1, 10, 64).Node("Gemm", ["a", "b"], ["y"], A("transB", 1L))));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("a", 1, 63).Random("b", 1, 10, 64).Node("Gemm", ["a", "b"], ["y"], A("transB", 1L))).Code);
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("a", 1, 64).Random("b", 1, 64, 10).Random("c", 1, 3).Node("Gemm", ["a", "b", "c"], ["y"])).Code);
    }

    [Theory]
    [InlineData(new long[] { 2, 3 }, new long[] { 3, 4 }, new long[] { 2, 4 })]
    [InlineData(new long[] { 5, 2, 3 }, new long[] { 3, 4 }, new long[] { 5, 2, 4 })]
    [InlineData(new long[] { 1, 2, 3 }, new long[] { 7, 3, 4 }, new long[] { 7, 2, 4 })]
    [InlineData(new long[] { 3 }, new long[] { 3, 4 }, new long[] { 4 })]
    [InlineData(new long[] { 2, 3 }, new long[] { 3 }, new long[] { 2 })]
    [InlineData(new long[] { -1, 3 }, new long[] { 3, 4 }, new long[] { -1, 4 })]
    public void MatMul_follows_numpy(long[] a, long[] b, long[] expected) =>
        Assert.Equal(ShapeOf(expected), Infer(new GraphBuilder().Input("a", a).Input("b", b).Node("MatMul", ["a", "b"], ["y"])));

    static GraphBuilder Conv(long[] x, long[] w, params (string, AttributeValue)[] attributes) =>
        new GraphBuilder().Input("x", x).Random("w", 1, w).Node("Conv", ["x", "w"], ["y"], attributes);

    [Fact]
    public void Conv_pads_strides_dilations_and_groups()
    {
        Assert.Equal(ShapeOf(1, 16, 8, 8), Infer(Conv([1, 1, 8, 8], [16, 1, 3, 3], A("pads", 1, 1, 1, 1))));
        Assert.Equal(ShapeOf(1, 16, 6, 6), Infer(Conv([1, 1, 8, 8], [16, 1, 3, 3])));
        Assert.Equal(ShapeOf(1, 16, 4, 4), Infer(Conv([1, 1, 8, 8], [16, 1, 3, 3], A("pads", 1, 1, 1, 1), A("strides", 2, 2))));
        Assert.Equal(ShapeOf(1, 16, 4, 4), Infer(Conv([1, 1, 8, 8], [16, 1, 3, 3], A("dilations", 2, 2))));
        Assert.Equal(ShapeOf(1, 4, 7, 5), Infer(Conv([1, 2, 7, 5], [4, 2, 1, 1])));
        Assert.Equal(ShapeOf(1, 16, 9, 8), Infer(Conv([1, 1, 8, 8], [16, 1, 2, 3], A("pads", 1, 1, 1, 1))));
        Assert.Equal(ShapeOf(-1, 32, 4, 4), Infer(Conv([-1, 32, 8, 8], [32, 1, 3, 3], A("group", 32L), A("pads", 1, 1, 1, 1), A("strides", 2, 2))));
        Assert.Equal(ShapeOf(2, 8, 10), Infer(Conv([2, 3, 12], [8, 3, 3])));      // 1-D
        Assert.Equal(ShapeOf(1, 4, 3, 3, 3), Infer(Conv([1, 2, 5, 5, 5], [4, 2, 3, 3, 3]))); // 3-D
    }

    [Theory]
    [InlineData("VALID", 8, 3, 1, 6)]
    [InlineData("VALID", 8, 3, 2, 3)]
    [InlineData("SAME_UPPER", 8, 3, 1, 8)]
    [InlineData("SAME_UPPER", 7, 3, 2, 4)]
    [InlineData("SAME_LOWER", 7, 3, 2, 4)]
    [InlineData("NOTSET", 7, 3, 2, 3)]
    public void Conv_auto_pad(string autoPad, long size, long k, long stride, long expected)
    {
        var shape = Infer(Conv([1, 1, size, size], [2, 1, k, k], A("auto_pad", autoPad), A("strides", stride, stride)));
        Assert.Equal(ShapeOf(1, 2, expected, expected), shape);
    }

    [Fact]
    public void ConvGeometry_resolves_SAME_pads_asymmetrically()
    {
        var upper = Node.Create("c", "Conv", ["x", "w"], ["y"], [KeyValuePair.Create("auto_pad", AttributeValue.Of("SAME_UPPER"))]);
        var lower = upper.WithAttribute("auto_pad", AttributeValue.Of("SAME_LOWER"));
        Assert.Equal([1L, 1, 2, 2], ConvGeometry.Resolve(upper, [8, 8], [4, 4]).Pads);
        Assert.Equal([2L, 2, 1, 1], ConvGeometry.Resolve(lower, [8, 8], [4, 4]).Pads);
        Assert.Equal([0L, 0, 0, 0], ConvGeometry.Resolve(upper.WithAttribute("auto_pad", AttributeValue.Of("VALID")), [8, 8], [4, 4]).Pads);
    }

    [Fact]
    public void Conv_errors_name_the_node()
    {
        var e = Fails(Conv([1, 3, 8, 8], [16, 1, 3, 3]));
        Assert.Equal(ErrorCodes.ShapeInference, e.Code);
        Assert.Contains("channels", e.Message);
        Assert.Equal(ErrorCodes.ShapeInference, Fails(Conv([1, 1, 2, 2], [16, 1, 3, 3])).Code);
        Assert.Equal(ErrorCodes.UnsupportedOp, Fails(Conv([1, 1, 8, 8], [16, 1, 3, 3], A("auto_pad", "WHATEVER"))).Code);
    }

    [Fact]
    public void Pools_with_ceil_mode_pads_and_global()
    {
        GraphBuilder Pool(string op, long size, params (string, AttributeValue)[] a) => new GraphBuilder().Input("x", 1, 3, size, size).Node(op, ["x"], ["y"], a);
        Assert.Equal(ShapeOf(1, 3, 4, 4), Infer(Pool("MaxPool", 8, A("kernel_shape", 2, 2), A("strides", 2, 2))));
        Assert.Equal(ShapeOf(1, 3, 3, 3), Infer(Pool("MaxPool", 7, A("kernel_shape", 2, 2), A("strides", 2, 2))));
        Assert.Equal(ShapeOf(1, 3, 4, 4), Infer(Pool("MaxPool", 7, A("kernel_shape", 2, 2), A("strides", 2, 2), A("ceil_mode", 1L))));
        Assert.Equal(ShapeOf(1, 3, 4, 4), Infer(Pool("MaxPool", 8, A("kernel_shape", 2, 2), A("strides", 2, 2), A("ceil_mode", 1L))));
        // ceil_mode: a window that would start in the end padding is dropped (input 5, k 2, s 2, pad 1 → 3, not 4).
        Assert.Equal(ShapeOf(1, 3, 3, 3), Infer(Pool("MaxPool", 5, A("kernel_shape", 2, 2), A("strides", 2, 2), A("pads", 1, 1, 1, 1), A("ceil_mode", 1L))));
        Assert.Equal(ShapeOf(1, 3, 8, 8), Infer(Pool("AveragePool", 8, A("kernel_shape", 3, 3), A("pads", 1, 1, 1, 1), A("count_include_pad", 1L))));
        Assert.Equal(ShapeOf(1, 3, 4, 4), Infer(Pool("AveragePool", 7, A("kernel_shape", 3, 3), A("strides", 2, 2), A("auto_pad", "SAME_UPPER"))));
        Assert.Equal(ShapeOf(1, 3, 1, 1), Infer(Pool("GlobalAveragePool", 8)));
        Assert.Equal(ShapeOf(-1, 3, 1, 1), Infer(new GraphBuilder().Input("x", -1, 3, 5, 5).Node("GlobalMaxPool", ["x"], ["y"])));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(Pool("MaxPool", 8)).Code); // no kernel_shape
    }

    [Fact]
    public void BatchNormalization_checks_channels()
    {
        GraphBuilder Bn(long c) => new GraphBuilder().Input("x", -1, 4, 3, 3)
            .Random("s", 1, c).Random("b", 2, c).Random("m", 3, c).Random("v", 4, c)
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"]);
        Assert.Equal(ShapeOf(-1, 4, 3, 3), Infer(Bn(4)));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(Bn(5)).Code);
    }

    [Theory]
    [InlineData(1, new long[] { 2, 3, 4 }, new long[] { 2, 12 })]
    [InlineData(0, new long[] { 2, 3, 4 }, new long[] { 1, 24 })]
    [InlineData(3, new long[] { 2, 3, 4 }, new long[] { 24, 1 })]
    [InlineData(-1, new long[] { 2, 3, 4 }, new long[] { 6, 4 })]
    [InlineData(1, new long[] { -1, 16, 1, 1 }, new long[] { -1, 16 })]
    [InlineData(1, new long[] { -1, 32, 4, 4 }, new long[] { -1, 512 })]
    public void Flatten(long axis, long[] input, long[] expected) =>
        Assert.Equal(ShapeOf(expected), Infer(new GraphBuilder().Input("x", input).Node("Flatten", ["x"], ["y"], A("axis", axis))));

    [Theory]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 0, -1 }, new long[] { 2, 12 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { -1 }, new long[] { 24 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4, 0, 2 }, new long[] { 4, 3, 2 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 1, 1, 24 }, new long[] { 1, 1, 24 })]
    [InlineData(new long[] { -1, 32, 4, 4 }, new long[] { -1, 512 }, new long[] { -1, 512 })]
    [InlineData(new long[] { -1, 32, 4, 4 }, new long[] { 0, -1 }, new long[] { -1, 512 })]
    [InlineData(new long[] { -1, 16 }, new long[] { 0, 16, 1, 1 }, new long[] { -1, 16, 1, 1 })]
    public void Reshape_with_zero_and_minus_one(long[] input, long[] shape, long[] expected) =>
        Assert.Equal(ShapeOf(expected), Infer(new GraphBuilder().Input("x", input).Ints("s", shape, shape.Length).Node("Reshape", ["x", "s"], ["y"])));

    [Fact]
    public void Reshape_allowzero_and_errors()
    {
        Assert.Equal(ShapeOf(0, 5), Infer(new GraphBuilder().Input("x", 0, 3).Ints("s", [0, 5], 2).Node("Reshape", ["x", "s"], ["y"], A("allowzero", 1L))));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("x", 2, 3).Ints("s", [4, -1], 2).Node("Reshape", ["x", "s"], ["y"])).Code);
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("x", 2, 3).Ints("s", [-1, -1], 2).Node("Reshape", ["x", "s"], ["y"])).Code);
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("x", -1, 6).Ints("s", [3, -1], 2).Node("Reshape", ["x", "s"], ["y"])).Code);
        var e = Fails(new GraphBuilder().Input("x", 2, 3).InputOf("s", DataType.Int64, 2).Node("Reshape", ["x", "s"], ["y"]));
        Assert.Contains("constant", e.Message);
        // Opset 1–4: the shape is an attribute.
        Assert.Equal(ShapeOf(3, 2), ShapeInference.Run(new GraphBuilder(4).Input("x", 2, 3).Node("Reshape", ["x"], ["y"], A("shape", 3, -1)).Output("y").Build()).ShapeOf("y"));
    }

    [Fact]
    public void Shape_driven_reshape_with_symbolic_batch()
    {
        // PyTorch's x.view(x.size(0), -1): Shape → Gather(0) → Unsqueeze → Concat(·, [-1]) → Reshape.
        var b = new GraphBuilder().Input("x", -1, 32, 4, 4)
            .Node("Shape", ["x"], ["s"])
            .Ints("zero", [0]).Node("Gather", ["s", "zero"], ["n"], A("axis", 0L))
            .Ints("axes0", [0], 1).Node("Unsqueeze", ["n", "axes0"], ["n1"])
            .Ints("minus1", [-1], 1).Node("Concat", ["n1", "minus1"], ["target"], A("axis", 0L))
            .Node("Reshape", ["x", "target"], ["y"]);
        var g = ShapeInference.Run(b.Output("y").Build());
        Assert.Equal(ShapeOf(-1, 512), g.ShapeOf("y"));
        Assert.Equal(ShapeOf(4), g.ShapeOf("s"));
        Assert.Equal(Shape.Scalar, g.ShapeOf("n"));
        Assert.Equal(ShapeOf(2), g.ShapeOf("target"));
        Assert.Equal(DataType.Int64, g.Value("target")!.Type);
    }

    [Fact]
    public void Transpose_Concat_Gather_Shape()
    {
        Assert.Equal(ShapeOf(4, 3, 2), Infer(new GraphBuilder().Input("x", 2, 3, 4).Node("Transpose", ["x"], ["y"])));
        Assert.Equal(ShapeOf(2, 4, 3), Infer(new GraphBuilder().Input("x", 2, 3, 4).Node("Transpose", ["x"], ["y"], A("perm", 0, 2, 1))));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("x", 2, 3).Node("Transpose", ["x"], ["y"], A("perm", 0, 0))).Code);
        Assert.Equal(ShapeOf(2, 7, 4), Infer(new GraphBuilder().Input("a", 2, 3, 4).Input("b", 2, 4, 4).Node("Concat", ["a", "b"], ["y"], A("axis", 1L))));
        Assert.Equal(ShapeOf(-1, 7), Infer(new GraphBuilder().Input("a", -1, 3).Input("b", -1, 4).Node("Concat", ["a", "b"], ["y"], A("axis", -1L))));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("a", 2, 3).Input("b", 3, 3).Node("Concat", ["a", "b"], ["y"], A("axis", 1L))).Code);
        Assert.Equal(ShapeOf(2, 3, 4), Infer(new GraphBuilder().Random("data", 1, 10, 4).Ints("i", [1, 2, 3, 4, 5, 6], 2, 3).Node("Gather", ["data", "i"], ["y"])));
        Assert.Equal(ShapeOf(10, 2), Infer(new GraphBuilder().Random("data", 1, 10, 4).Ints("i", [0, -1], 2).Node("Gather", ["data", "i"], ["y"], A("axis", 1L))));
        Assert.Equal(ShapeOf(2), Infer(new GraphBuilder().Input("x", 2, 3, 4).Node("Shape", ["x"], ["y"], A("start", 1L))));
    }

    [Fact]
    public void Unsqueeze_and_Squeeze_attribute_and_input_forms()
    {
        Assert.Equal(ShapeOf(-1, 16, 1, 1), Infer(new GraphBuilder(13).Input("x", -1, 16).Ints("a", [-1, -2], 2).Node("Unsqueeze", ["x", "a"], ["y"])));
        Assert.Equal(ShapeOf(1, 3, 1), Infer(new GraphBuilder(13).Input("x", 3).Ints("a", [0, 2], 2).Node("Unsqueeze", ["x", "a"], ["y"])));
        Assert.Equal(ShapeOf(-1, 16, 1), Infer(new GraphBuilder(11).Input("x", -1, 16).Node("Unsqueeze", ["x"], ["y"], A("axes", [-1L]))));
        Assert.Equal(ShapeOf(1, 3), Infer(new GraphBuilder(11).Input("x", 3).Node("Unsqueeze", ["x"], ["y"], A("axes", [0L]))));
        Assert.Equal(ShapeOf(-1, 16), Infer(new GraphBuilder(13).Input("x", -1, 16, 1, 1).Ints("a", [2, 3], 2).Node("Squeeze", ["x", "a"], ["y"])));
        Assert.Equal(ShapeOf(-1, 16), Infer(new GraphBuilder(11).Input("x", -1, 16, 1, 1).Node("Squeeze", ["x"], ["y"], A("axes", -1, -2))));
        Assert.Equal(ShapeOf(3, 2), Infer(new GraphBuilder(13).Input("x", 1, 3, 1, 2).Node("Squeeze", ["x"], ["y"])));
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder(13).Input("x", 2, 3).Ints("a", [0], 1).Node("Squeeze", ["x", "a"], ["y"])).Code);
        var e = Fails(new GraphBuilder(13).Input("x", 3).InputOf("a", DataType.Int64, 1).Node("Unsqueeze", ["x", "a"], ["y"]));
        Assert.Contains("axes", e.Message);
    }

    [Fact]
    public void Constant_nodes_feed_later_rules()
    {
        var g = ShapeInference.Run(new GraphBuilder(13).Input("x", -1, 16)
            .Node("Constant", [], ["axes"], ("value", AttributeValue.Of(Tensor.FromInt64s("", [-1], 1))))
            .Node("Unsqueeze", ["x", "axes"], ["u"])
            .Node("Constant", [], ["k"], A("value_float", 2f))
            .Node("Mul", ["u", "k"], ["y"]).Output("y").Build());
        Assert.Equal(ShapeOf(-1, 16, 1), g.ShapeOf("y"));
        Assert.Equal(Shape.Scalar, g.ShapeOf("k"));
        Assert.Equal(DataType.Int64, g.Value("axes")!.Type);
    }

    [Fact]
    public void Every_value_gets_an_entry_and_outputs_are_updated()
    {
        var g = ShapeInference.Run(new GraphBuilder().Input("x", -1, 64).Random("w", 1, 10, 64)
            .Node("Gemm", ["x", "w"], ["h"], A("transB", 1L)).Node("Relu", ["h"], ["y"]).Output("y").Build());
        Assert.Equal(["h", "w", "x", "y"], g.Values.Keys.Order());
        Assert.Equal(new ValueInfo("y", DataType.Float, ShapeOf(-1, 10)), g.Outputs[0]);
    }

    [Fact]
    public void Unsupported_ops_and_domains_are_CMP004_listing_supported_ops()
    {
        var e = Fails(new GraphBuilder().Input("x", 2).Named("lrn", "LRN", ["x"], ["y"]));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("'lrn'", e.Message);
        Assert.Contains("'LRN'", e.Message);
        Assert.Contains("Conv, ", e.Message);

        var custom = new GraphBuilder().Input("x", 2).Node("Relu", ["x"], ["y"]).Output("y").Build();
        custom = custom with { Nodes = [custom.Nodes[0] with { Domain = "com.microsoft" }] };
        Assert.Equal(ErrorCodes.UnsupportedOp, Assert.Throws<CompressException>(() => ShapeInference.Run(custom)).Code);
    }

    [Fact]
    public void Only_the_batch_dimension_may_be_symbolic()
    {
        var graph = new GraphBuilder().Input("x", 1, 64).Node("Relu", ["x"], ["y"]).Output("y").Build();
        var symbolic = graph with { Inputs = [new ValueInfo("x", DataType.Float, new Shape([Dim.Known(1), Dim.Symbolic("features")]))] };
        var e = Assert.Throws<CompressException>(() => ShapeInference.Run(symbolic));
        Assert.Equal(ErrorCodes.ShapeInference, e.Code);
        Assert.Contains("'x'", e.Message);
        Assert.Contains("features", e.Message);

        var unknown = graph with { Inputs = [new ValueInfo("x", DataType.Float, new Shape([new Dim(-1), Dim.Known(64)]))] };
        Assert.Equal("?", ShapeInference.Run(unknown).ShapeOf("y").Dims[0].Symbol);

        var noShape = graph with { Inputs = [new ValueInfo("x", DataType.Float, null)] };
        Assert.Equal(ErrorCodes.ShapeInference, Assert.Throws<CompressException>(() => ShapeInference.Run(noShape)).Code);

        // The batch must not move away from dimension 0.
        Assert.Equal(ErrorCodes.ShapeInference, Fails(new GraphBuilder().Input("x", -1, 3).Node("Transpose", ["x"], ["y"])).Code);
    }

    [Fact]
    public void Declared_output_shapes_must_agree()
    {
        var g = new GraphBuilder().Input("x", 1, 4).Node("Relu", ["x"], ["y"]).Output("y", DataType.Float, ShapeOf(1, 5)).Build();
        Assert.Equal(ErrorCodes.ShapeInference, Assert.Throws<CompressException>(() => ShapeInference.Run(g)).Code);
    }

    [Fact]
    public void SupportedOps_is_the_sorted_table()
    {
        string[] required = ["Gemm", "MatMul", "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid",
            "HardSwish", "Tanh", "Softmax", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Max", "Min",
            "Flatten", "Reshape", "Transpose", "Concat", "Identity", "Dropout", "Constant", "Unsqueeze", "Squeeze", "Shape", "Gather", "Cast"];
        Assert.Subset(ShapeInference.SupportedOps.ToHashSet(), required.ToHashSet());
        Assert.Equal(ShapeInference.SupportedOps.Order(StringComparer.Ordinal), ShapeInference.SupportedOps);
    }

    [Theory]
    [InlineData("digits_mlp", new long[] { 1, 10 })]
    [InlineData("digits_mlp_dyn", new long[] { -1, 10 })]
    [InlineData("digits_cnn", new long[] { 1, 10 })]
    [InlineData("digits_dwsep", new long[] { 1, 10 })]
    [InlineData("wide_mlp", new long[] { 1, 10 })]
    public void Sample_models_infer_completely(string name, long[] logits)
    {
        var g = ShapeInference.Run(Compress.Tasks.Onnx.OnnxModelReader.Load(TestFiles.Model(name)).Graph);
        Assert.Equal(ShapeOf(logits), g.ShapeOf("logits"));
        foreach (var n in g.Nodes)
            foreach (var o in n.Outputs)
                Assert.NotNull(g.Value(o)?.Shape);
    }

    [Fact]
    public void Dwsep_intermediate_shapes()
    {
        var g = ShapeInference.Run(Compress.Tasks.Onnx.OnnxModelReader.Load(TestFiles.Model("digits_dwsep")).Graph);
        var shapes = g.Nodes.Select(n => (n.OpType, g.ShapeOf(n.Output0).ToString())).ToList();
        Assert.Contains(("Unsqueeze", "[1,16,1]"), shapes);
        Assert.Contains(("Unsqueeze", "[1,16,1,1]"), shapes);
        Assert.Contains(("Mul", "[1,16,8,8]"), shapes);
        Assert.Contains(("Conv", "[1,32,4,4]"), shapes);
        Assert.Contains(("GlobalAveragePool", "[1,32,1,1]"), shapes);
    }
}
