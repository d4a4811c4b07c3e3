using Compress.Tasks.Diagnostics;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;

namespace Compress.Tasks.Tests.LowBit;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Which layer runs at which precision: mode defaults, the first/last-layer rule, LayerOverrides and their errors.</summary>
public class MixedPrecisionPlannerTests
{
    static Graph Canonical(string model) => CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model(model)).Graph, new PassLog());

    static QuantizeOptions Options(string mode, string? overrides = null, string? binaryActivations = null) =>
        QuantizeOptions.FromMetadata(mode, binaryActivations: binaryActivations, layerOverrides: overrides) with { CostModel = CostModel.Default };

    static QuantizationResult Plan(Graph g, QuantizeOptions o) =>
        QuantizationPlanner.Plan(g, o, QuantizationPlanner.ValuesToCalibrate(g, o).ToDictionary(v => v, _ => new TensorRange(-1, 4)));

    [Fact]
    public void Ternary_keeps_the_first_and_last_layers_fp32()
    {
        var q = Plan(Canonical("wide_mlp"), Options("Ternary"));
        Assert.Equal([NodePrecision.Fp32, NodePrecision.Ternary, NodePrecision.Fp32], q.Decisions.Select(d => d.Precision));
        Assert.Contains("first layer", q.DecisionFor("/fc1/Gemm")!.Reason);
        Assert.Contains("last layer", q.DecisionFor("/fc3/Gemm")!.Reason);
        var w = q.Weights["fc2.weight"];
        Assert.Equal(2, w.Bits);
        Assert.NotNull(w.NegativeScales);
        Assert.All(w.Values, v => Assert.InRange(v, -1, 1));
        Assert.Empty(q.Activations);
    }

    [Fact]
    public void Shift_runs_every_layer_on_u8_with_power_of_two_weights()
    {
        var g = Canonical("digits_cnn");
        var o = Options("Shift");
        Assert.NotEmpty(QuantizationPlanner.ValuesToCalibrate(g, o));
        var q = Plan(g, o);
        Assert.Equal(NodePrecision.Shift, q.DecisionFor("/conv1/Conv")!.Precision);
        Assert.Equal(NodePrecision.Shift, q.DecisionFor("/conv2/Conv")!.Precision);
        Assert.Equal(NodePrecision.Shift, q.DecisionFor("/fc/Gemm")!.Precision);
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("/pool/MaxPool")!.Precision);
        foreach (var w in q.Weights.Values)
        {
            Assert.Equal(4, w.Bits);
            Assert.All(w.Values, v => Assert.True(Runtime.Kernels.ShiftGemmU8.IsRepresentable(v), $"{w.Name}: {v}"));
        }
        Assert.NotEmpty(q.LayerNotes);
    }

    [Fact]
    public void Overrides_match_node_weight_and_module_names_and_mix_precisions()
    {
        var g = Canonical("digits_mlp");
        var q = Plan(g, Options("Int8", "fc2=Binary;fc3.weight=Fp32;/fc1/Gemm=Shift"));
        Assert.Equal([NodePrecision.Shift, NodePrecision.Binary, NodePrecision.Fp32], q.Decisions.Select(d => d.Precision));
        Assert.Contains("LayerOverrides", q.DecisionFor("/fc2/Gemm")!.Reason);
        Assert.Equal(1, q.Weights["fc2.weight"].Bits);
        Assert.False(q.Weights.ContainsKey("fc3.weight"));

        var xnor = Plan(g, Options("Binary", "fc2=Binary", binaryActivations: "true"));
        Assert.Equal(NodePrecision.BinaryXnor, xnor.DecisionFor("/fc2/Gemm")!.Precision);
        // An override can put the first layer back to a low-bit precision, too.
        Assert.Equal(NodePrecision.Ternary, Plan(g, Options("Ternary", "fc1=Ternary")).DecisionFor("/fc1/Gemm")!.Precision);
    }

    [Fact]
    public void An_override_naming_no_node_is_CMP019_and_lists_the_layers()
    {
        var e = Assert.Throws<CompressException>(() => Plan(Canonical("digits_cnn"), Options("Shift", "fc9=Int8")));
        Assert.Equal(ErrorCodes.OverrideNamesNoNode, e.Code);
        Assert.Contains("'fc9'", e.Message);
        Assert.Contains("conv2 ('/conv2/Conv')", e.Message);
    }

    [Theory]
    [InlineData("Ternary", "conv1=Ternary", "'/conv1/Conv'")]
    [InlineData("Int8", "conv2=Binary", "'/conv2/Conv'")]
    [InlineData("Int8", "/pool/MaxPool=Shift", "'/pool/MaxPool'")]
    public void An_unsupported_layer_type_for_a_method_is_CMP017(string mode, string overrides, string node)
    {
        var e = Assert.Throws<CompressException>(() => Plan(Canonical("digits_cnn"), Options(mode, overrides)));
        Assert.Equal(ErrorCodes.LowBitUnsupportedLayer, e.Code);
        Assert.Contains(node, e.Message);
    }

    [Fact]
    public void Model_wide_binary_skips_convolutions_with_a_reason()
    {
        var q = Plan(Canonical("digits_dwsep"), Options("Binary"));
        Assert.Contains("Gemm and MatMul only", q.DecisionFor("/block1/pw/Conv")!.Reason);
        Assert.Equal(NodePrecision.Binary, q.DecisionFor("/block1/se/fc1/Gemm")!.Precision);
    }
}
