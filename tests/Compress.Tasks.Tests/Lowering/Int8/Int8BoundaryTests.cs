using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Validation;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>Where the fp32 ↔ u8 conversions go: once per value, only where the representations meet.</summary>
public class Int8BoundaryTests
{
    static TestGraph Mlp(int k = 8) => new TestGraph().Input("x", 1, k)
        .Const("W1", Harness.Random(k * 8, 1, 0.5f), k, 8).Const("W2", Harness.Random(64, 2, 0.5f), 8, 8).Const("W3", Harness.Random(32, 3, 0.5f), 8, 4);

    [Fact]
    public void A_u8_value_read_by_an_int8_and_an_fp32_node_is_dequantised_once_for_the_fp32_one()
    {
        var samples = Int8Harness.Samples(6, 8, seed: 200);
        var g = Mlp()
            .Node("Gemm", ["x", "W1"], "h", [1, 8], Fused("Relu"))
            .Node("Gemm", ["h", "W3"], "y1", [1, 4])
            .Node("Sigmoid", ["h"], "y2", [1, 8])
            .Node("Tanh", ["h"], "y3", [1, 8])
            .Output("y1", "y2", "y3").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.QGemvToF32, PlanCalls.Dequantize, PlanCalls.Activation, PlanCalls.Activation],
            Int8Harness.Calls(lowered));
        Assert.Equal("Dequantize 'h' u8 → f32 (scale " + q.Activations["h"].Scale.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)
            + ", zero point " + q.Activations["h"].ZeroPoint + ") for fp32 Sigmoid", lowered.Plan.Steps[3].Comment);
        Assert.Equal(lowered.Plan.Steps[3].Args[1], lowered.Plan.Steps[5].Args[0]); // Tanh reads the same float copy
        // Tools watching the run find h's floats where the dequantise step put them, from that step on.
        Assert.Equal(lowered.Plan.Steps[3].Args[1], lowered.ValueLocations["h"]);
        Assert.Equal(3, lowered.ValueReadyAfterStep["h"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            var got = Int8Harness.Run(lowered, sample);
            double eh = Int8Harness.GemmBound(sample[0], 1, 8, 8, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, q.Activations["h"].Scale);
            Int8Harness.Within(values["y1"], got[0], Int8Harness.GemmBound(values["h"], 1, 8, 4, q.Weights["W3"], false, q.Activations["h"].Scale, eh, 0));
            Int8Harness.Within(values["y2"], got[1], eh / 4 + 1e-6); // sigmoid is 1/4-Lipschitz
            Int8Harness.Within(values["y3"], got[2], eh + 1e-6); // tanh is 1-Lipschitz
        }
    }

    [Fact]
    public void A_graph_output_read_by_an_int8_node_is_written_as_floats_and_quantised_for_it()
    {
        var samples = Int8Harness.Samples(6, 8, seed: 210);
        var g = Mlp()
            .Node("Gemm", ["x", "W1"], "h", [1, 8], Fused("Relu"))
            .Node("Gemm", ["h", "W3"], "y", [1, 4])
            .Output("h", "y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemvToF32, PlanCalls.Quantize, PlanCalls.QGemvToF32], Int8Harness.Calls(lowered));
        Assert.Equal(PlanArg.Output(0, 0, 8), lowered.Plan.Steps[1].Args[4]);
        Assert.Equal(PlanArg.Output(0, 0, 8), lowered.Plan.Steps[2].Args[0]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            var got = Int8Harness.Run(lowered, sample);
            double eh = Int8Harness.GemmBound(sample[0], 1, 8, 8, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, 0);
            Int8Harness.Within(values["h"], got[0], eh);
            Int8Harness.Within(values["y"], got[1], Int8Harness.GemmBound(values["h"], 1, 8, 4, q.Weights["W3"], false, q.Activations["h"].Scale, eh + q.Activations["h"].Scale, 0));
        }
    }

    [Fact]
    public void An_alias_of_a_u8_value_keeps_u8_storage_and_is_dequantised_where_it_is_a_graph_output()
    {
        var samples = Int8Harness.Samples(6, 8, seed: 220);
        var g = Mlp()
            .Node("Gemm", ["x", "W1"], "h", [1, 8], Fused("Relu"))
            .Node("Gemm", ["h", "W3"], "y", [1, 4])
            .ConstInt64("shape", [2, 4], 2)
            .Node("Reshape", ["h", "shape"], "z", [2, 4])
            .Output("y", "z").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.QGemvToF32, PlanCalls.Dequantize], Int8Harness.Calls(lowered));
        Assert.Equal(lowered.Plan.Steps[1].Args[5], lowered.Plan.Steps[3].Args[0]); // the Reshape reads h's u8 storage
        Assert.Equal(PlanArg.Output(1, 0, 8), lowered.Plan.Steps[3].Args[1]);
        Assert.EndsWith("into the graph output", lowered.Plan.Steps[3].Comment);
        var ph = q.Activations["h"];
        foreach (var sample in samples)
        {
            var trace = Int8Simulation.Trace(lowered, sample);
            Assert.Equal(Int8Simulation.Dequantize((byte[])trace.After[1][5], ph), trace.Outputs[1]);
        }
    }

    [Fact]
    public void An_excluded_node_between_int8_nodes_gets_floats_and_its_output_is_quantised_again()
    {
        var samples = Int8Harness.Samples(6, 8, seed: 230);
        var g = Mlp()
            .Node("Gemm", ["x", "W1"], "h1", [1, 8], Fused("Relu"))
            .Node("Gemm", ["h1", "W2"], "h2", [1, 8], Fused("Relu"))
            .Node("Gemm", ["h2", "W3"], "y", [1, 4])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples, exclude: new HashSet<string> { "/h2/Gemm" });
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemvToF32, PlanCalls.Gemv, PlanCalls.Quantize, PlanCalls.QGemvToF32], Int8Harness.Calls(lowered));
        Assert.Equal("Gemm 8→8 + Relu", lowered.Plan.Steps[2].Comment); // an fp32 decision is not a fallback: no note
        Assert.Contains("2 of 3 nodes quantised", lowered.Plan.Summary);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double e1 = Int8Harness.GemmBound(sample[0], 1, 8, 8, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, 0);
            float[] w2 = Harness.Random(64, 2, 0.5f);
            double e2 = e1 * Enumerable.Range(0, 8).Max(j => Enumerable.Range(0, 8).Sum(k => Math.Abs(w2[k * 8 + j]))) + 1e-5; // fp32 Gemm: Σₖ|W2[k,j]|·e1
            double e3 = Int8Harness.GemmBound(values["h2"], 1, 8, 4, q.Weights["W3"], false, q.Activations["h2"].Scale, e2 + q.Activations["h2"].Scale, 0);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], e3);
        }
    }

    [Fact]
    public void A_quantised_node_whose_input_has_no_parameters_runs_in_fp32_and_says_why()
    {
        var samples = Int8Harness.Samples(2, 8, seed: 240);
        var g = Mlp().Node("Gemm", ["x", "W1"], "y", [1, 8]).Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        q = q with { Activations = q.Activations.Remove("x") };
        // The lowerer checks its inputs before emitting anything: the node falls back to fp32, and says so.
        var lowered = Int8Harness.Lower(g, q);
        Assert.Equal("Gemm 8→8 (fp32: input 'x' has no int8 parameters)", Assert.Single(lowered.Plan.Steps).Comment);

        // Likewise an Add whose fp32 operand has no parameters: it runs fp32 on the dequantised u8 of the Gemm before it.
        var g2 = new TestGraph().Input("x", 1, 8).Input("r", 1, 8).Const("W", Harness.Random(64, 1), 8, 8)
            .Node("Gemm", ["x", "W"], "a", [1, 8]).Node("Add", ["a", "r"], "y", [1, 8]).Output("y").Build();
        var q2 = Int8Harness.Result(g2, [[Harness.Random(8, 1), Harness.Random(8, 2)]]);
        var lowered2 = Int8Harness.Lower(g2, q2 with { Activations = q2.Activations.Remove("r") });
        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.Dequantize, PlanCalls.Binary], Int8Harness.Calls(lowered2));
        Assert.EndsWith("(fp32: input 'r' has no int8 parameters)", lowered2.Plan.Steps[^1].Comment);
    }

    public static TheoryData<string> Models => ["digits_mlp", "digits_cnn", "digits_dwsep"];

    [Theory]
    [MemberData(nameof(Models))]
    public void With_every_node_fp32_the_plan_and_weights_are_the_fp32_ones(string model)
    {
        var canonical = CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model(model)).Graph, new PassLog());
        var fp32 = ModelLowering.Lower(canonical, Harness.Options);
        var allFp32 = new QuantizationResult("Int8", ImmutableDictionary<string, QuantParams>.Empty, ImmutableDictionary<string, QuantizedWeight>.Empty,
            canonical.Nodes.Select(n => new NodeDecision(n.Label, NodePrecision.Fp32, "test")).ToImmutableArray());
        var lowered = ModelLowering.Lower(canonical, Harness.Options, allFp32);
        Assert.Equal(PlanJsonWriter.Write(fp32.Plan), PlanJsonWriter.Write(lowered.Plan));
        Assert.Equal(fp32.Weights, lowered.Weights);
    }

    [Fact]
    public void The_interpreter_rejects_a_u8_span_where_the_kernel_takes_floats()
    {
        var samples = Int8Harness.Samples(2, 8, seed: 250);
        var g = Mlp().Node("Gemm", ["x", "W1"], "h", [1, 8], Fused("Relu")).Node("Gemm", ["h", "W3"], "y", [1, 4]).Output("y").Build();
        var lowered = Int8Harness.Lower(g, Int8Harness.Result(g, samples));
        var steps = lowered.Plan.Steps.ToArray();
        var u8 = (SpanArg)steps[1].Args[5];
        // Give the float Quantize input the u8 span: the kernel would read bytes as floats.
        steps[0] = steps[0] with { Args = new PlanArg[] { u8, steps[0].Args[1], steps[0].Args[2], steps[0].Args[3] } };
        var e = Assert.Throws<InvalidOperationException>(() => new PlanInterpreter(lowered.Plan with { Steps = steps }, lowered.Weights));
        Assert.Contains("holds u8 elements; the kernel takes f32", e.Message);
    }
}
