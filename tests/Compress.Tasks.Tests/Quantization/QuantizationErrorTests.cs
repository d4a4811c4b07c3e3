using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Passes;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Bad requests: a model already quantised (CMP013), an Exclude naming no node, an unknown mode or block size (CMP006).</summary>
public class QuantizationErrorTests
{
    static Graph Gemm() => CanonicalPipeline.Run(new GraphBuilder().Input("x", 1, 4).Random("w", 1, 3, 4)
        .Named("fc", "Gemm", ["x", "w"], ["y"], A("transB", 1L)).Output("y").Build(), new PassLog());

    [Fact]
    public void A_model_with_dequantize_linear_is_already_quantised()
    {
        var g = new GraphBuilder().Input("x", 1, 4)
            .Init("w_scale", [0.1f]).Ints("axes", [0], 1)
            .Named("w_dq", "DequantizeLinear", ["w_q", "w_scale"], ["w"])
            .Named("mm", "MatMul", ["x", "w"], ["y"]).Output("y").Build();
        g = g.WithInitializer(new Tensor("w_q", DataType.Int8, [4, 3], new sbyte[12]));
        var e = Assert.Throws<CompressException>(() => QuantizedModelCheck.ThrowIfQuantized(g));
        Assert.Equal(ErrorCodes.AlreadyQuantized, e.Code);
        Assert.Contains("'w_dq'", e.Message);
        Assert.Contains("DequantizeLinear", e.Message);
    }

    [Theory]
    [InlineData("QLinearConv", "")]
    [InlineData("MatMulInteger", "")]
    [InlineData("ConvInteger", "")]
    [InlineData("MatMulNBits", "com.microsoft")]
    [InlineData("QGemm", "com.microsoft")]
    public void Quantised_operators_are_refused(string op, string domain)
    {
        var node = Compress.Tasks.Graph.Node.Create("q", op, ["x"], ["y"]) with { Domain = domain };
        var g = new GraphBuilder().Input("x", 1, 4).Output("y").Build();
        g = g with { Nodes = [node] };
        var e = Assert.Throws<CompressException>(() => QuantizedModelCheck.ThrowIfQuantized(g));
        Assert.Equal("CMP013", e.Code);
        Assert.Contains(op, e.Message);
    }

    [Fact]
    public void An_int8_initializer_feeding_a_matmul_through_a_cast_is_already_quantised()
    {
        var g = new GraphBuilder().Input("x", 1, 4)
            .Named("cast", "Cast", ["w_q"], ["w"], A("to", 1L))
            .Named("mm", "MatMul", ["x", "w"], ["y"]).Output("y").Build();
        g = g.WithInitializer(new Tensor("w_q", DataType.Int8, [4, 3], new sbyte[12]));
        var e = Assert.Throws<CompressException>(() => QuantizedModelCheck.ThrowIfQuantized(g));
        Assert.Equal("CMP013", e.Code);
        Assert.Contains("'mm'", e.Message);
        Assert.Contains("'w_q'", e.Message);
    }

    [Fact]
    public void An_fp32_model_passes_the_check()
    {
        QuantizedModelCheck.ThrowIfQuantized(Gemm());
        Assert.Null(QuantizedModelCheck.Find(Gemm()));
    }

    [Fact]
    public void An_exclude_entry_naming_no_node_is_cmp006_naming_it()
    {
        var o = new QuantizeOptions { Exclude = QuantizeOptions.ParseExclude("fc; /fc9/Gemm") };
        var e = Assert.Throws<CompressException>(() => QuantizationPlanner.Plan(Gemm(), o, null));
        Assert.Equal(ErrorCodes.BadMetadata, e.Code);
        Assert.Contains("'/fc9/Gemm'", e.Message);
        Assert.DoesNotContain("'fc',", e.Message);
        Assert.Contains("'fc'", e.Message); // listed among the nodes that can be quantised
        e = Assert.Throws<CompressException>(() => QuantizationPlanner.ValuesToCalibrate(Gemm(), o));
        Assert.Equal("CMP006", e.Code);
    }

    [Theory]
    [InlineData("Int16")]
    [InlineData("")]
    [InlineData("int 8")]
    public void An_unknown_mode_is_cmp006_listing_the_modes(string mode)
    {
        var e = Assert.Throws<CompressException>(() => QuantizeOptions.ParseMode(mode));
        Assert.Equal("CMP006", e.Code);
        Assert.Contains("Int8, Int8Dynamic, Int4", e.Message);
    }

    [Theory]
    [InlineData("int8", QuantizeMode.Int8)]
    [InlineData(" Int8Dynamic ", QuantizeMode.Int8Dynamic)]
    [InlineData("INT4", QuantizeMode.Int4)]
    public void Modes_parse_case_insensitively(string text, QuantizeMode mode) => Assert.Equal(mode, QuantizeOptions.ParseMode(text));

    [Theory]
    [InlineData("0")]
    [InlineData("33")]
    [InlineData("-32")]
    [InlineData("big")]
    public void A_bad_int4_block_size_is_cmp006(string text)
    {
        var e = Assert.Throws<CompressException>(() => QuantizeOptions.FromMetadata("Int4", int4BlockSize: text));
        Assert.Equal("CMP006", e.Code);
    }

    [Fact]
    public void Metadata_becomes_options()
    {
        var o = QuantizeOptions.FromMetadata("Int4", "a;b, c", "64");
        Assert.Equal((QuantizeMode.Int4, 64), (o.Mode, o.Int4BlockSize));
        Assert.Equal(["a", "b", "c"], o.Exclude.Order(StringComparer.Ordinal));
        Assert.Equal(32, QuantizeOptions.FromMetadata("Int8").Int4BlockSize);
        Assert.Same(CostModel.Default, o.CostModel);
    }
}
