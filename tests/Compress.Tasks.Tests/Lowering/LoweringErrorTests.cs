using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class LoweringErrorTests
{
    [Fact]
    public void Unsupported_op_names_the_node_the_op_and_the_supported_ops()
    {
        var g = new TestGraph().Input("x", 4).Node("Sin", ["x"], "y", [4]).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, Harness.Options));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("'/y/Sin'", e.Message);
        Assert.Contains("'Sin'", e.Message);
        Assert.Contains("Supported ops", e.Message);
        Assert.Contains(string.Join(", ", ModelLowering.SupportedOps), e.Message);
    }

    [Fact]
    public void Several_unsupported_nodes_are_reported_together()
    {
        var g = new TestGraph().Input("x", 4)
            .Node("Sin", ["x"], "a", [4])
            .Node("Relu", ["a"], "b", [4])
            .Node("Cos", ["b"], "y", [4]).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, Harness.Options));
        Assert.Contains("'/a/Sin' (Sin)", e.Message);
        Assert.Contains("'/y/Cos' (Cos)", e.Message);
    }

    [Fact]
    public void Op_from_another_domain_is_unsupported_even_with_a_known_name()
    {
        var g = new TestGraph().Input("x", 4)
            .Raw(new Node("fused", "Relu", ["x"], ["y"], System.Collections.Immutable.ImmutableDictionary<string, AttributeValue>.Empty, "com.microsoft"))
            .Value("y", DataType.Float, 4).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, Harness.Options));
        Assert.Contains("com.microsoft:Relu", e.Message);
    }

    [Fact]
    public void Non_float_graph_input_is_an_unsupported_type()
    {
        var g = new TestGraph().Input("ids", Shape.Of(4), DataType.Int64).Node("Relu", ["ids"], "y", [4]).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, Harness.Options));
        Assert.Equal(ErrorCodes.UnsupportedType, e.Code);
        Assert.Contains("'ids'", e.Message);
        Assert.Contains("Int64", e.Message);
    }

    [Fact]
    public void Unknown_dimension_other_than_the_batch_is_a_shape_error()
    {
        var g = new TestGraph().Input("x", new Shape([Dim.Known(1), Dim.Symbolic("T")])).Node("Relu", ["x"], "y", new Shape([Dim.Known(1), Dim.Symbolic("T")]))
            .Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, Harness.Options));
        Assert.Equal(ErrorCodes.ShapeInference, e.Code);
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void Invalid_class_name_is_bad_metadata()
    {
        var g = new TestGraph().Input("x", 4).Node("Relu", ["x"], "y", [4]).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, new LoweringOptions { ClassName = "1st" }));
        Assert.Equal(ErrorCodes.BadMetadata, e.Code);
    }

    [Fact]
    public void Unknown_fused_activation_is_unsupported()
    {
        var g = new TestGraph().Input("x", 1, 4).Const("W", Harness.Random(8), 4, 2)
            .Node("MatMul", ["x", "W"], "y", [1, 2], Fused("Gelu")).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => ModelLowering.Lower(g, Harness.Options));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("Gelu", e.Message);
    }
}
