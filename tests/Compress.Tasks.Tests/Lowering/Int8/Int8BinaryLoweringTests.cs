using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

public class Int8BinaryLoweringTests
{
    /// <summary>QBinaryU8's arithmetic: dequantise, combine in float, requantise (round half to even), clamp.</summary>
    static byte Expected(Func<float, float, float> op, byte a, QuantParams pa, byte b, QuantParams pb, QuantParams py, int lo, int hi)
    {
        float r = op(pa.Scale * (a - pa.ZeroPoint), pb.Scale * (b - pb.ZeroPoint));
        return (byte)Math.Clamp(MathF.Round(r / py.Scale) + py.ZeroPoint, lo, hi);
    }

    [Fact]
    public void Residual_add_of_two_int8_branches_runs_in_the_quantised_domain()
    {
        // a = x·W1 and b = x·W2 (both u8), y = Relu(a + b): x is quantised once for both Gemms.
        var samples = Int8Harness.Samples(8, 16, seed: 100);
        var g = new TestGraph().Input("x", 1, 16)
            .Const("W1", Harness.Random(16 * 12, 1, 0.4f), 16, 12).Const("W2", Harness.Random(16 * 12, 2, 0.4f), 16, 12)
            .Node("Gemm", ["x", "W1"], "a", [1, 12])
            .Node("Gemm", ["x", "W2"], "b", [1, 12])
            .Node("Add", ["a", "b"], "y", [1, 12], Fused("Relu"))
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.QGemv, PlanCalls.QBinary, PlanCalls.Dequantize], Int8Harness.Calls(lowered));
        Assert.Equal("Add [1,12], [1,12] int8 u8→u8 + Relu as clamp", lowered.Plan.Steps[3].Comment);
        Assert.Equal(lowered.Plan.Steps[1].Args[0], lowered.Plan.Steps[2].Args[0]);

        var (px, pa, pb, py) = (q.Activations["x"], q.Activations["a"], q.Activations["b"], q.Activations["y"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double ea = Int8Harness.GemmBound(sample[0], 1, 16, 12, q.Weights["W1"], false, px.Scale, px.Scale, pa.Scale);
            double eb = Int8Harness.GemmBound(sample[0], 1, 16, 12, q.Weights["W2"], false, px.Scale, px.Scale, pb.Scale);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], ea + eb + 2 * py.Scale);

            var trace = Int8Simulation.Trace(lowered, sample);
            var a = Assert.IsType<byte[]>(trace.After[1][5]);
            var b = Assert.IsType<byte[]>(trace.After[2][5]);
            var expected = a.Select((v, i) => Expected((l, r) => l + r, v, pa, b[i], pb, py, py.ZeroPoint, 255)).ToArray();
            Assert.Equal(expected, trace.After[3][3]);
        }
    }

    [Fact]
    public void A_constant_operand_is_quantised_at_build_time_and_read_from_the_weights()
    {
        float[] scale = Harness.Random(8, 5, 2f);
        var samples = Int8Harness.Samples(8, 8, seed: 110);
        var g = new TestGraph().Input("x", 1, 8).Const("W", Harness.Random(64, 1, 0.5f), 8, 8).Const("s", scale, 8)
            .Node("Gemm", ["x", "W"], "h", [1, 8])
            .Node("Mul", ["h", "s"], "y", [1, 8])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.QBinary, PlanCalls.Dequantize], Int8Harness.Calls(lowered));
        var constant = Assert.IsType<SpanArg>(lowered.Plan.Steps[2].Args[2]);
        Assert.Equal((SpanSource.Weights, SpanArg.U8, 8), (constant.Source, constant.ElementType, constant.Length));
        var ps = QuantParams.FromRange(scale.Min(), scale.Max());
        Assert.Equal(PlanArg.Float(ps.Scale), lowered.Plan.Steps[2].Args[7]);
        Assert.Equal(PlanArg.Int(ps.ZeroPoint), lowered.Plan.Steps[2].Args[8]);
        byte[] blob = lowered.Weights.AsSpan(constant.Offset, 8).ToArray();
        Assert.Equal(Int8Simulation.Quantize(scale, ps), blob);

        var (ph, py) = (q.Activations["h"], q.Activations["y"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double eh = Int8Harness.GemmBound(sample[0], 1, 8, 8, q.Weights["W"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, ph.Scale);
            // |â·ŝ − a·s| ≤ |a|·es + |s|·ea + ea·es, with es = half a step of the constant's scale.
            double bound = values["h"].Max(Math.Abs) * ps.Scale / 2 + scale.Max(Math.Abs) * eh + eh * ps.Scale / 2 + 2 * py.Scale;
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], bound);

            var trace = Int8Simulation.Trace(lowered, sample);
            var h = Assert.IsType<byte[]>(trace.After[1][5]);
            Assert.Equal(h.Select((v, i) => Expected((l, r) => l * r, v, ph, blob[i], ps, py, 0, 255)).ToArray(), trace.After[2][3]);
        }
    }

    [Fact]
    public void An_add_with_an_fp32_operand_quantises_it_with_its_calibrated_parameters()
    {
        // r is a graph input (fp32): the Add quantises it; a is the int8 Gemm's u8 output.
        var samples = Enumerable.Range(0, 8).Select(i => new[] { Harness.Random(6, 120 + i), Harness.Random(4, 140 + i, 0.5f) }).ToList();
        var g = new TestGraph().Input("x", 1, 6).Input("r", 1, 4).Const("W", Harness.Random(24, 1), 6, 4)
            .Node("Gemm", ["x", "W"], "a", [1, 4])
            .Node("Add", ["a", "r"], "y", [1, 4])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QGemv, PlanCalls.Quantize, PlanCalls.QBinary, PlanCalls.Dequantize], Int8Harness.Calls(lowered));
        Assert.StartsWith("Quantize 'r' f32 → u8", lowered.Plan.Steps[2].Comment);
        var (pa, pr, py) = (q.Activations["a"], q.Activations["r"], q.Activations["y"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double ea = Int8Harness.GemmBound(sample[0], 1, 6, 4, q.Weights["W"], false, q.Activations["x"].Scale, q.Activations["x"].Scale, pa.Scale);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], ea + pr.Scale + 2 * py.Scale);
        }
    }
}
