using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

public class Int8GemmLoweringTests
{
    [Theory]
    [InlineData(7, 5, false, 1f, 1f)]
    [InlineData(33, 17, true, 1f, 1f)]
    [InlineData(64, 40, true, 0.5f, 2f)]
    [InlineData(130, 3, false, 1.5f, 0f)]
    public void Single_gemm_reads_a_quantised_input_and_writes_floats(int k, int n, bool transB, float alpha, float beta)
    {
        var samples = Int8Harness.Samples(8, k, seed: 10);
        var g = new TestGraph().Input("x", 1, k).Const("B", Harness.Random(k * n, 2, 0.5f), transB ? [n, k] : [k, n]).Const("C", Harness.Random(n, 3), n)
            .Node("Gemm", ["x", "B", "C"], "y", [1, n], Attr("transB", transB ? 1L : 0L), Attr("alpha", alpha), Attr("beta", beta))
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        // The graph output is float: the int8 GEMV writes it straight from the accumulators, no dequantise step.
        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemvToF32], Int8Harness.Calls(lowered));
        Assert.Equal($"Gemm {k}→{n} int8 u8×s8→f32{(beta == 0 ? "" : ", bias")}", lowered.Plan.Steps[1].Comment);
        Assert.StartsWith("int8 · 1 Gemm · 1 of 1 nodes quantised", lowered.Plan.Summary);

        var w = q.Weights["B"];
        var px = q.Activations["x"];
        foreach (var sample in samples)
        {
            float[] expected = Int8Harness.AllValues(g, sample)["y"];
            float[] actual = Int8Harness.Run(lowered, sample)[0];
            var trace = Int8Simulation.Trace(lowered, sample);
            Assert.Equal(Int8Simulation.Quantize(sample[0], px), trace.After[0][1]);
            float[] cv = Harness.Random(n, 3);
            Int8Simulation.CheckGemmStep(trace, 1, 1, k, n, w, transB, beta == 0 ? null : cv.Select(v => beta * v).ToArray(), alpha, px, null);
            // alpha scales the weights, so the bound sees alpha·W.
            var scaled = w with { Scales = w.Scales.Select(s => s * alpha).ToArray() };
            double bound = Int8Harness.GemmBound(sample[0], 1, k, n, scaled, transB, px.Scale, px.Scale, sy: 0);
            Int8Harness.Within(expected, actual, bound);
        }
    }

    [Fact]
    public void Gemm_relu_chain_stays_u8_between_layers_with_relu_as_the_clamp()
    {
        // 24 → 32 (Relu) → 16 (Relu) → 10: one quantise at the input, u8 between the layers, f32 out of the last.
        var samples = Int8Harness.Samples(16, 24, seed: 20);
        var g = new TestGraph().Input("x", 1, 24)
            .Const("W1", Harness.Random(24 * 32, 1, 0.4f), 24, 32).Const("b1", Harness.Random(32, 2, 0.2f), 32)
            .Const("W2", Harness.Random(16 * 32, 3, 0.4f), 16, 32).Const("b2", Harness.Random(16, 4, 0.2f), 16)
            .Const("W3", Harness.Random(16 * 10, 5, 0.4f), 16, 10).Const("b3", Harness.Random(10, 6, 0.2f), 10)
            .Node("Gemm", ["x", "W1", "b1"], "h1", [1, 32], Fused("Relu"))
            .Node("Gemm", ["h1", "W2", "b2"], "h2", [1, 16], [Attr("transB", 1L), .. Fused("Relu")])
            .Node("Gemm", ["h2", "W3", "b3"], "y", [1, 10])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.QGemv, PlanCalls.QGemvToF32], Int8Harness.Calls(lowered));
        Assert.Equal("Gemm 24→32 int8 u8×s8→u8, bias + Relu as clamp", lowered.Plan.Steps[1].Comment);
        Assert.Equal("Gemm 16→10 int8 u8×s8→f32, bias", lowered.Plan.Steps[3].Comment);
        // The hidden activations are u8 arena spans; the requantisation carries the output zero point and the Relu clamp.
        var h1 = Assert.IsType<SpanArg>(lowered.Plan.Steps[1].Args[5]);
        Assert.Equal((SpanSource.Arena, SpanArg.U8, 32), (h1.Source, h1.ElementType, h1.Length));
        var requant = Assert.IsType<NewArg>(lowered.Plan.Steps[1].Args[8]);
        Assert.Equal(PlanArg.New("Requant", PlanArg.Int(q.Activations["h1"].ZeroPoint), PlanArg.Int(q.Activations["h1"].ZeroPoint), PlanArg.Int(255)), requant);

        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double e1 = Int8Harness.GemmBound(sample[0], 1, 24, 32, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, q.Activations["h1"].Scale);
            double e2 = Int8Harness.GemmBound(values["h1"], 1, 32, 16, q.Weights["W2"], true, q.Activations["h1"].Scale, e1, q.Activations["h2"].Scale);
            double e3 = Int8Harness.GemmBound(values["h2"], 1, 16, 10, q.Weights["W3"], false, q.Activations["h2"].Scale, e2, 0);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], e3);

            var trace = Int8Simulation.Trace(lowered, sample);
            var (px, p1, p2) = (q.Activations["x"], q.Activations["h1"], q.Activations["h2"]);
            Int8Simulation.CheckGemmStep(trace, 1, 1, 24, 32, q.Weights["W1"], false, Harness.Random(32, 2, 0.2f), 1, px, p1, lo: p1.ZeroPoint);
            Int8Simulation.CheckGemmStep(trace, 2, 1, 32, 16, q.Weights["W2"], true, Harness.Random(16, 4, 0.2f), 1, p1, p2, lo: p2.ZeroPoint);
            Int8Simulation.CheckGemmStep(trace, 3, 1, 16, 10, q.Weights["W3"], false, Harness.Random(10, 6, 0.2f), 1, p2, null);
        }
    }

    [Fact]
    public void Several_rows_run_the_gemm_kernels()
    {
        var samples = Int8Harness.Samples(6, 4 * 12, seed: 30);
        var g = new TestGraph().Input("x", 4, 12)
            .Const("W1", Harness.Random(12 * 20, 1, 0.5f), 12, 20)
            .Const("W2", Harness.Random(20 * 6, 2, 0.5f), 20, 6)
            .Node("MatMul", ["x", "W1"], "h", [4, 20], Fused("Relu"))
            .Node("MatMul", ["h", "W2"], "y", [4, 6])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemm, PlanCalls.QGemmToF32], Int8Harness.Calls(lowered));
        Assert.Equal("MatMul 4×12→20 int8 u8×s8→u8 + Relu as clamp", lowered.Plan.Steps[1].Comment);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double e1 = Int8Harness.GemmBound(sample[0], 4, 12, 20, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, q.Activations["h"].Scale);
            double e2 = Int8Harness.GemmBound(values["h"], 4, 20, 6, q.Weights["W2"], false, q.Activations["h"].Scale, e1, 0);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], e2);

            var trace = Int8Simulation.Trace(lowered, sample);
            var ph = q.Activations["h"];
            Int8Simulation.CheckGemmStep(trace, 1, 4, 12, 20, q.Weights["W1"], false, null, 1, q.Activations["x"], ph, lo: ph.ZeroPoint);
            Int8Simulation.CheckGemmStep(trace, 2, 4, 20, 6, q.Weights["W2"], false, null, 1, ph, null);
        }
    }

    [Fact]
    public void A_clip_folds_into_the_requantisation_clamp()
    {
        var samples = Int8Harness.Samples(8, 16, seed: 40, scale: 3f);
        var g = new TestGraph().Input("x", 1, 16)
            .Const("W1", Harness.Random(16 * 16, 1), 16, 16).Const("W2", Harness.Random(16 * 4, 2), 16, 4)
            .Node("Gemm", ["x", "W1"], "h", [1, 16], Fused("Clip", -1f, 2f))
            .Node("Gemm", ["h", "W2"], "y", [1, 4])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);
        var ph = q.Activations["h"];
        var requant = Assert.IsType<NewArg>(lowered.Plan.Steps[1].Args[8]);
        int lo = (int)Math.Round(ph.ZeroPoint + -1 / ph.Scale), hi = (int)Math.Round(ph.ZeroPoint + 2 / ph.Scale);
        Assert.Equal(PlanArg.New("Requant", PlanArg.Int(ph.ZeroPoint), PlanArg.Int(Math.Clamp(lo, 0, 255)), PlanArg.Int(Math.Clamp(hi, 0, 255))), requant);
        Assert.EndsWith("+ Clip(-1, 2) as clamp", lowered.Plan.Steps[1].Comment);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double e1 = Int8Harness.GemmBound(sample[0], 1, 16, 16, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, ph.Scale);
            double e2 = Int8Harness.GemmBound(values["h"], 1, 16, 4, q.Weights["W2"], false, ph.Scale, e1, 0);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], e2);
            Int8Simulation.CheckGemmStep(Int8Simulation.Trace(lowered, sample), 1, 1, 16, 16, q.Weights["W1"], false, null, 1,
                q.Activations["x"], ph, Math.Clamp(lo, 0, 255), Math.Clamp(hi, 0, 255));
        }
    }

    [Fact]
    public void A_form_without_an_int8_kernel_runs_in_fp32_and_says_why()
    {
        // transA has no int8 kernel: the Gemm runs fp32, so the int8 Gemm before it writes floats for it.
        var samples = Int8Harness.Samples(4, 8, seed: 50);
        var g = new TestGraph().Input("x", 1, 8)
            .Const("W1", Harness.Random(8 * 8, 1), 8, 8).Const("W2", Harness.Random(8 * 3, 2), 8, 3)
            .Node("Gemm", ["x", "W1"], "h", [1, 8], Fused("Relu"))
            .Node("Reshape", ["h", "shape"], "hc", [8, 1]).ConstInt64("shape", [8, 1], 2)
            .Node("Gemm", ["hc", "W2"], "y", [1, 3], Attr("transA", 1L))
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemvToF32, PlanCalls.Permute, PlanCalls.Gemv], Int8Harness.Calls(lowered));
        Assert.All(lowered.Plan.Steps.Skip(2), s => Assert.EndsWith("(fp32: transA has no int8 kernel)", s.Comment));
        Assert.StartsWith("int8 · ", lowered.Plan.Summary);
        Assert.Contains("1 of 3 nodes quantised", lowered.Plan.Summary);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double e1 = Int8Harness.GemmBound(sample[0], 1, 8, 8, q.Weights["W1"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, 0);
            double e2 = e1 * Harness.Random(24, 2).Sum(Math.Abs) + 1e-4;
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], e2);
        }
    }
}
