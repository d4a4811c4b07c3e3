using Compress.Tasks.Passes;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>"Never slower": the default cost model's decisions.</summary>
public class CostModelTests
{
    /// <summary>One Gemm y = x·Wᵀ + b with fp32 input and output, as a model of its own.</summary>
    static Graph SingleGemm(int k, int n) => CanonicalPipeline.Run(new GraphBuilder().Input("x", 1, k)
        .Random("w", 1, n, k).Random("b", 2, n)
        .Named("fc", "Gemm", ["x", "w", "b"], ["y"], A("transB", 1L)).Output("y").Build(), new PassLog());

    static QuantizationResult Plan(Graph g, QuantizeMode mode = QuantizeMode.Int8) =>
        QuantizationPlanner.Plan(g, new QuantizeOptions { Mode = mode },
            QuantizationPlanner.ValuesToCalibrate(g, new QuantizeOptions { Mode = mode }).ToDictionary(v => v, _ => new TensorRange(-1f, 1f)));

    [Fact]
    public void A_tiny_gemm_stays_fp32_with_its_reason()
    {
        var d = Plan(SingleGemm(16, 10)).DecisionFor("fc")!;
        Assert.Equal(NodePrecision.Fp32, d.Precision);
        Assert.StartsWith("Gemm 16→10: int8 ", d.Reason);
        Assert.EndsWith("µs incl. quantise/dequantise — stays fp32", d.Reason);
        Assert.True(d.QuantizedMicroseconds >= d.Fp32Microseconds, d.Reason);
    }

    [Fact]
    public void A_large_gemm_is_quantised()
    {
        var q = Plan(SingleGemm(1024, 1024));
        var d = q.DecisionFor("fc")!;
        Assert.Equal(NodePrecision.Int8, d.Precision);
        Assert.EndsWith("— int8", d.Reason);
        Assert.True(d.QuantizedMicroseconds < d.Fp32Microseconds / 2, d.Reason);
        Assert.Equal(["Quantize x"], q.Boundaries.Select(b => $"{b.Kind} {b.Value}"));
        Assert.NotEmpty(q.Weights);
    }

    [Fact]
    public void Dynamic_and_int4_follow_the_cost_model_too()
    {
        Assert.Equal(NodePrecision.Int8Dynamic, Plan(SingleGemm(1024, 1024), QuantizeMode.Int8Dynamic).DecisionFor("fc")!.Precision);
        Assert.Equal(NodePrecision.Int4, Plan(SingleGemm(1024, 1024), QuantizeMode.Int4).DecisionFor("fc")!.Precision);
        Assert.Equal(NodePrecision.Fp32, Plan(SingleGemm(16, 10), QuantizeMode.Int8Dynamic).DecisionFor("fc")!.Precision);
    }

    [Fact]
    public void A_small_layer_inside_an_int8_run_stays_int8()
    {
        // 1024 → 1024 → 10: the last layer alone would not pay for quantising its input, but its input is already u8.
        var g = CanonicalPipeline.Run(new GraphBuilder().Input("x", 1, 1024)
            .Random("w1", 1, 1024, 1024).Random("w2", 2, 10, 1024)
            .Named("fc1", "Gemm", ["x", "w1"], ["z"], A("transB", 1L)).Named("relu", "Relu", ["z"], ["h"])
            .Named("fc2", "Gemm", ["h", "w2"], ["y"], A("transB", 1L)).Output("y").Build(), new PassLog());
        var q = Plan(g);
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("fc1")!.Precision);
        Assert.Equal(NodePrecision.Int8, q.DecisionFor("fc2")!.Precision);
        Assert.DoesNotContain("incl.", q.DecisionFor("fc2")!.Reason);
    }

    [Fact]
    public void The_default_constants_favour_int8_by_the_measured_ratio_on_a_large_gemv()
    {
        var m = CostModel.Default;
        var big = LayerShape.Linear(1, 1024, 1024);
        double ratio = m.Fp32(big) / m.Int8(big);
        Assert.InRange(ratio, 4.0, 20.0); // measured 152.4 / 16.05 µs = 9.5× (fp32 weights stream from L3, s8 stay in L2)
        Assert.True(m.QuantizeCost(16) > 0 && m.DequantizeCost(16) > 0);
    }
}
