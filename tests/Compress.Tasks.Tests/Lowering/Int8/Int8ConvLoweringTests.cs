using Compress.Runtime.Kernels;
using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

public class Int8ConvLoweringTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Conv_relu_maxpool_flatten_gemm_runs_u8_end_to_end(int stride)
    {
        // x [1,3,8,8] → Conv 3→8 3×3 pad 1 (Relu) → MaxPool 2×2 → Flatten → Gemm → 10 logits.
        int o = stride == 1 ? 8 : 4, p = o / 2;
        var samples = Int8Harness.Samples(6, 3 * 8 * 8, seed: 60);
        var g = new TestGraph().Input("x", 1, 3, 8, 8)
            .Const("W", Harness.Random(8 * 3 * 9, 1, 0.4f), 8, 3, 3, 3).Const("B", Harness.Random(8, 2, 0.1f), 8)
            .Const("Wf", Harness.Random(8 * p * p * 10, 3, 0.2f), 8 * p * p, 10).Const("bf", Harness.Random(10, 4, 0.1f), 10)
            .Node("Conv", ["x", "W", "B"], "c", [1, 8, o, o], [Ints("pads", 1, 1, 1, 1), Ints("strides", stride, stride), .. Fused("Relu")])
            .Node("MaxPool", ["c"], "mp", [1, 8, p, p], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("Flatten", ["mp"], "fl", [1, 8 * p * p], Attr("axis", 1L))
            .Node("Gemm", ["fl", "Wf", "bf"], "y", [1, 10])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QConv2d, PlanCalls.MaxPoolU8, PlanCalls.QGemvToF32], Int8Harness.Calls(lowered));
        Assert.Equal($"Conv 3→8 3×3{(stride == 1 ? "" : " stride 2")} pad 1 int8 u8×s8→u8, bias + Relu as clamp", lowered.Plan.Steps[1].Comment);
        Assert.Equal("MaxPool 2×2 stride 2 on u8", lowered.Plan.Steps[2].Comment);
        // The conv's scratch is bytes in the arena; the pool reads the conv's u8 output and the Gemm reads the pool's.
        var scratch = Assert.IsType<SpanArg>(lowered.Plan.Steps[1].Args[6]);
        var shape = new Runtime.Conv2dShape(1, 3, 8, 8, 8, o, o, 3, 3, stride, stride, 1, 1, 1, 1, 1);
        Assert.Equal((SpanArg.U8, QConv2dU8S8.ScratchLength(shape)), (scratch.ElementType, scratch.Length));
        Assert.Equal(lowered.Plan.Steps[1].Args[5], lowered.Plan.Steps[2].Args[0]);
        Assert.Equal(lowered.Plan.Steps[2].Args[1], lowered.Plan.Steps[3].Args[0]);
        Assert.Equal(PlanArg.Int(q.Activations["x"].ZeroPoint), lowered.Plan.Steps[1].Args[8]);

        var (px, pc) = (q.Activations["x"], q.Activations["c"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double ec = Int8Harness.ConvBound(sample[0], 3, 8, 8, q.Weights["W"], 8, 3, 3, o, o, stride, 1, 1, px.Scale, px.Scale, pc.Scale);
            // MaxPool and Flatten keep the error; the Gemm reads the pool's u8 (scale of c) and writes floats.
            double ey = Int8Harness.GemmBound(values["fl"], 1, 8 * p * p, 10, q.Weights["Wf"], false, pc.Scale, ec, 0);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], ey);

            var trace = Int8Simulation.Trace(lowered, sample);
            var acc = Int8Simulation.ConvAccumulate(Assert.IsType<byte[]>(trace.Before[1][0]), 3, 8, 8, q.Weights["W"], 8, 3, 3, o, o, stride, 1, 1, px.ZeroPoint);
            double[] sw = Int8Simulation.Scales(q.Weights["W"], 8);
            var bias = Int8Simulation.FoldBias(Harness.Random(8, 2, 0.1f), px, sw, Int8Simulation.ChannelSums(q.Weights["W"], 8));
            Assert.Equal(Int8Simulation.Requantize(acc, bias, i => i / (o * o), px, sw, pc, pc.ZeroPoint, 255), trace.After[1][5]);
            var conv = (byte[])trace.After[1][5];
            var pooled = Reference.Pool(true, conv.Select(v => (float)v).ToArray(), 8, o, o, p, p, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false);
            Assert.Equal(pooled.Select(v => (byte)v).ToArray(), trace.After[2][1]);
            Int8Simulation.CheckGemmStep(trace, 3, 1, 8 * p * p, 10, q.Weights["Wf"], false, Harness.Random(10, 4, 0.1f), 1, pc, null);
        }
    }

    [Fact]
    public void Depthwise_conv_runs_the_depthwise_kernel_and_dequantises_into_the_output()
    {
        var samples = Int8Harness.Samples(6, 6 * 7 * 7, seed: 70);
        var g = new TestGraph().Input("x", 1, 6, 7, 7)
            .Const("W", Harness.Random(6 * 9, 1, 0.5f), 6, 1, 3, 3).Const("B", Harness.Random(6, 2, 0.1f), 6)
            .Node("Conv", ["x", "W", "B"], "y", [1, 6, 7, 7], [Attr("group", 6L), Ints("pads", 1, 1, 1, 1), .. Fused("Relu")])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QDepthwiseConv2d, PlanCalls.Dequantize], Int8Harness.Calls(lowered));
        Assert.Equal("DepthwiseConv 6 3×3 pad 1 int8 u8×s8→u8, bias + Relu as clamp", lowered.Plan.Steps[1].Comment);
        Assert.StartsWith("Dequantize 'y' u8 → f32", lowered.Plan.Steps[2].Comment);
        Assert.Equal(PlanArg.Output(0, 0, 6 * 49), lowered.Plan.Steps[2].Args[1]);

        var (px, py) = (q.Activations["x"], q.Activations["y"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double bound = Int8Harness.ConvBound(sample[0], 6, 7, 7, q.Weights["W"], 6, 3, 3, 7, 7, 1, 1, 6, px.Scale, px.Scale, py.Scale);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], bound);

            var trace = Int8Simulation.Trace(lowered, sample);
            var acc = Int8Simulation.ConvAccumulate(Assert.IsType<byte[]>(trace.Before[1][0]), 6, 7, 7, q.Weights["W"], 6, 3, 3, 7, 7, 1, 1, 6, px.ZeroPoint);
            double[] sw = Int8Simulation.Scales(q.Weights["W"], 6);
            var bias = Int8Simulation.FoldBias(Harness.Random(6, 2, 0.1f), px, sw, Int8Simulation.ChannelSums(q.Weights["W"], 6));
            var u8 = Int8Simulation.Requantize(acc, bias, i => i / 49, px, sw, py, py.ZeroPoint, 255);
            Assert.Equal(u8, trace.After[1][5]);
            Assert.Equal(Int8Simulation.Dequantize(u8, py), trace.Outputs[0]);
        }
    }

    [Fact]
    public void Global_average_pool_on_u8_feeds_an_int8_gemm()
    {
        var samples = Int8Harness.Samples(6, 4 * 5 * 5, seed: 80);
        var g = new TestGraph().Input("x", 1, 4, 5, 5)
            .Const("W", Harness.Random(16 * 4 * 9, 1, 0.4f), 16, 4, 3, 3)
            .Const("Wf", Harness.Random(16 * 5, 2, 0.4f), 16, 5)
            .Node("Conv", ["x", "W"], "c", [1, 16, 3, 3], Fused("Relu"))
            .Node("GlobalAveragePool", ["c"], "gap", [1, 16, 1, 1])
            .Node("Flatten", ["gap"], "fl", [1, 16], Attr("axis", 1L))
            .Node("Gemm", ["fl", "Wf"], "y", [1, 5])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);

        Assert.Equal([PlanCalls.Quantize, PlanCalls.QConv2d, PlanCalls.GlobalAveragePoolU8, PlanCalls.QGemvToF32], Int8Harness.Calls(lowered));
        var (px, pc) = (q.Activations["x"], q.Activations["c"]);
        foreach (var sample in samples)
        {
            var values = Int8Harness.AllValues(g, sample);
            double ec = Int8Harness.ConvBound(sample[0], 4, 5, 5, q.Weights["W"], 16, 3, 3, 3, 3, 1, 0, 1, px.Scale, px.Scale, pc.Scale);
            // The u8 mean is rounded to a step of c's scale.
            double ey = Int8Harness.GemmBound(values["fl"], 1, 16, 5, q.Weights["Wf"], false, pc.Scale, ec + pc.Scale / 2, 0);
            Int8Harness.Within(values["y"], Int8Harness.Run(lowered, sample)[0], ey);

            var trace = Int8Simulation.Trace(lowered, sample);
            var conv = Assert.IsType<byte[]>(trace.After[1][5]);
            var means = Enumerable.Range(0, 16).Select(ch => (byte)((conv.Skip(ch * 9).Take(9).Sum(v => v) + 4) / 9)).ToArray();
            Assert.Equal(means, trace.After[2][1]);
            Int8Simulation.CheckGemmStep(trace, 3, 1, 16, 5, q.Weights["Wf"], false, null, 1, pc, null);
        }
    }

    [Fact]
    public void A_conv_with_a_fused_activation_that_is_not_a_clamp_runs_in_fp32()
    {
        var samples = Int8Harness.Samples(4, 2 * 4 * 4, seed: 90);
        var g = new TestGraph().Input("x", 1, 2, 4, 4)
            .Const("W", Harness.Random(3 * 2 * 9, 1, 0.4f), 3, 2, 3, 3)
            .Node("Conv", ["x", "W"], "y", [1, 3, 2, 2], Fused("Sigmoid"))
            .Output("y").Build();
        var lowered = Int8Harness.Lower(g, Int8Harness.Result(g, samples));
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanCalls.Conv2d, step.Call);
        Assert.Equal("Conv 2→3 3×3 + Sigmoid (fp32: the fused Sigmoid is not a clamp)", step.Comment);
        Assert.StartsWith("fp32 · ", lowered.Plan.Summary);
        foreach (var sample in samples)
            Harness.Close(Int8Harness.AllValues(g, sample)["y"], Int8Harness.Run(lowered, sample)[0]);
    }
}
