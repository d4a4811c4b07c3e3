using System.Collections.Immutable;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

public class Int8DynamicLoweringTests
{
    /// <summary>ONNX DynamicQuantizeLinear's parameters: [min(x,0), max(x,0)] onto [0, 255], zero point rounded half to even.</summary>
    static QuantParams Dynamic(float[] x)
    {
        float min = Math.Min(x.Min(), 0f), max = Math.Max(x.Max(), 0f), scale = (max - min) / 255f;
        return scale > 0 ? new QuantParams(scale, (int)Math.Clamp(MathF.Round(-min / scale), 0, 255)) : new QuantParams(1f, 0);
    }

    /// <summary>y = act(s_x·s_w[j]·(Σ xq·q − zp_x·Σq) + b[j]) for one row.</summary>
    static float[] Simulate(float[] x, QuantizedWeight w, int k, int n, float[]? bias, bool relu)
    {
        var p = Dynamic(x);
        var xq = Int8Simulation.Quantize(x, p);
        var acc = Int8Simulation.Accumulate(xq, 1, k, n, w, transposed: false);
        var sums = Int8Simulation.ColumnSums(w, k, n, transposed: false);
        return Enumerable.Range(0, n).Select(j =>
        {
            float v = p.Scale * w.Scales[j] * (acc[j] - p.ZeroPoint * sums[j]) + (bias?[j] ?? 0f);
            return relu ? Math.Max(v, 0f) : v;
        }).ToArray();
    }

    [Fact]
    public void Dynamic_gemm_chain_quantises_each_input_per_call()
    {
        var samples = Int8Harness.Samples(6, 16, seed: 300);
        var g = new TestGraph().Input("x", 1, 16)
            .Const("W1", Harness.Random(16 * 24, 1, 0.4f), 16, 24).Const("b1", Harness.Random(24, 2, 0.2f), 24)
            .Const("W2", Harness.Random(24 * 6, 3, 0.4f), 24, 6)
            .Node("Gemm", ["x", "W1", "b1"], "h", [1, 24], Fused("Relu"))
            .Node("MatMul", ["h", "W2"], "y", [1, 6])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples, NodePrecision.Int8Dynamic);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.QGemvDynamic, PlanCalls.QGemvDynamic], Int8Harness.Calls(lowered));
        Assert.Equal("Gemm 16→24 int8 dynamic (x quantised per call) u8×s8→f32, bias + Relu", lowered.Plan.Steps[0].Comment);
        var scratch = Assert.IsType<SpanArg>(lowered.Plan.Steps[0].Args[1]);
        Assert.Equal((SpanSource.Arena, SpanArg.U8, 16), (scratch.Source, scratch.ElementType, scratch.Length));
        Assert.StartsWith("int8 dynamic · ", lowered.Plan.Summary);

        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            var trace = Int8Simulation.Trace(lowered, sample);
            var h = Assert.IsType<float[]>(trace.After[0][6]);
            Harness.Close(Simulate(sample[0], q.Weights["W1"], 16, 24, Harness.Random(24, 2, 0.2f), relu: true), h, 1e-5f);
            Harness.Close(Simulate(h, q.Weights["W2"], 24, 6, null, relu: false), trace.Outputs[0], 1e-5f);

            var px = Dynamic(sample[0]);
            double eh = Int8Harness.GemmBound(sample[0], 1, 16, 24, q.Weights["W1"], false, px.Scale, px.Scale, 0);
            var ph = Dynamic(values["h"]);
            double ey = Int8Harness.GemmBound(values["h"], 1, 24, 6, q.Weights["W2"], false, ph.Scale, eh + ph.Scale * 1.01, 0);
            Int8Harness.Within(values["y"], trace.Outputs[0], ey);
        }
    }

    [Fact]
    public void Several_rows_run_one_dynamic_call_each_sharing_the_scratch()
    {
        var samples = Int8Harness.Samples(4, 3 * 10, seed: 310);
        var g = new TestGraph().Input("x", 3, 10).Const("W", Harness.Random(10 * 7, 1, 0.5f), 10, 7)
            .Node("MatMul", ["x", "W"], "y", [3, 7]).Output("y").Build();
        var q = Int8Harness.Result(g, samples, NodePrecision.Int8Dynamic);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal(Enumerable.Repeat(PlanCalls.QGemvDynamic, 3), Int8Harness.Calls(lowered));
        Assert.Equal("MatMul 10→7 int8 dynamic (x quantised per call) u8×s8→f32, row 2 of 3", lowered.Plan.Steps[1].Comment);
        Assert.Single(lowered.Plan.Steps.Select(s => s.Args[1]).Distinct());
        Assert.Equal(PlanArg.Input(0, 10, 10), lowered.Plan.Steps[1].Args[0]);
        Assert.Equal(PlanArg.Output(0, 14, 7), lowered.Plan.Steps[2].Args[6]);
        foreach (var sample in samples)
        {
            var y = Int8Harness.Run(lowered, sample)[0];
            for (int r = 0; r < 3; r++)
                Harness.Close(Simulate(sample[0][(r * 10)..(r * 10 + 10)], q.Weights["W"], 10, 7, null, false), y[(r * 7)..(r * 7 + 7)], 1e-5f);
        }
    }
}

public class Int4LoweringTests
{
    /// <summary>Int4 per output column per block of k (the MatMulNBits idea): scale = max|w|/7, codes in [−8, 7].</summary>
    static QuantizedWeight Int4(string name, float[] w, int k, int n, int block)
    {
        int blocks = (k + block - 1) / block;
        var scales = new float[n * blocks];
        var q = new sbyte[w.Length];
        for (int j = 0; j < n; j++)
            for (int b = 0; b < blocks; b++)
            {
                int k0 = b * block, k1 = Math.Min(k, k0 + block);
                float amax = 0;
                for (int p = k0; p < k1; p++) amax = Math.Max(amax, Math.Abs(w[p * n + j]));
                float s = amax / 7f;
                scales[j * blocks + b] = s;
                for (int p = k0; p < k1; p++) q[p * n + j] = s == 0 ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(w[p * n + j] / s), -8f, 7f);
            }
        return new QuantizedWeight(name, [k, n], q, scales, 1) { Bits = 4, BlockSize = block };
    }

    [Theory]
    [InlineData(1, 40, 20, 16)]
    [InlineData(2, 64, 33, 32)]
    public void Int4_weights_run_the_nibble_gemv_with_fp32_activations(int m, int k, int n, int block)
    {
        float[] w = Harness.Random(k * n, 1, 0.5f), b = Harness.Random(n, 2, 0.1f);
        var g = new TestGraph().Input("x", m, k).Const("W", w, k, n).Const("b", b, n)
            .Node("Gemm", ["x", "W", "b"], "y", [m, n], Fused("Relu")).Output("y").Build();
        var weight = Int4("W", w, k, n, block);
        var q = new QuantizationResult("Int4", ImmutableDictionary<string, QuantParams>.Empty,
            ImmutableDictionary<string, QuantizedWeight>.Empty.Add("W", weight),
            [new NodeDecision("/y/Gemm", NodePrecision.Int4, "test")]);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal(Enumerable.Repeat(PlanCalls.GemvI4, m), Int8Harness.Calls(lowered));
        Assert.Equal($"Gemm {k}→{n} int4 weights (blocks of {block}) ×f32→f32, bias{(m > 1 ? $", row 1 of {m}" : "")} + Relu", lowered.Plan.Steps[0].Comment);
        var nibbles = Assert.IsType<SpanArg>(lowered.Plan.Steps[0].Args[1]);
        Assert.Equal((SpanArg.U8, Runtime.Kernels.GemmF32I4.PackedLength(k, n, block)), (nibbles.ElementType, nibbles.Length));
        Assert.StartsWith("int4 · ", lowered.Plan.Summary);

        float[] real = DequantizeInt4(weight, k, n, block);
        for (int s = 0; s < 4; s++)
        {
            float[] x = Harness.Random(m * k, 10 + s);
            float[] y = Int8Harness.Run(lowered, x)[0];
            // Exactly the fp32 product with the dequantised weights (up to float summation order)…
            var expected = Reference.Gemm(x, real, b, [n], m, k, n, false, false, 1, 1).Select(v => Math.Max(v, 0f)).ToArray();
            Harness.Close(expected, y, 1e-4f);
            // …and within half a step of each weight of the fp32 model.
            var fp32 = Reference.Gemm(x, w, b, [n], m, k, n, false, false, 1, 1).Select(v => Math.Max(v, 0f)).ToArray();
            double bound = weight.Scales.Max() / 2 * Enumerable.Range(0, m).Max(i => x.Skip(i * k).Take(k).Sum(Math.Abs)) + 1e-4;
            Int8Harness.Within(fp32, y, bound);
        }
    }

    static float[] DequantizeInt4(QuantizedWeight w, int k, int n, int block)
    {
        int blocks = (k + block - 1) / block;
        var real = new float[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) real[p * n + j] = w.Scales[j * blocks + p / block] * w.Values[p * n + j];
        return real;
    }

    [Fact]
    public void A_node_without_an_int4_weight_runs_in_fp32_and_says_why()
    {
        var g = new TestGraph().Input("x", 1, 8).Const("W", Harness.Random(32, 1), 8, 4).Node("MatMul", ["x", "W"], "y", [1, 4]).Output("y").Build();
        var q = new QuantizationResult("Int4", ImmutableDictionary<string, QuantParams>.Empty, ImmutableDictionary<string, QuantizedWeight>.Empty,
            [new NodeDecision("/y/MatMul", NodePrecision.Int4, "test")]);
        var step = Assert.Single(Int8Harness.Lower(g, q).Plan.Steps);
        Assert.Equal((PlanCalls.Gemv, "MatMul 8→4 (fp32: the quantisation result has no int4 weight 'W')"), (step.Call, step.Comment));
    }
}
