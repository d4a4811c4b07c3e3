using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class ArenaPlannerTests
{
    [Fact]
    public void Buffers_alive_at_the_same_time_never_overlap_and_offsets_are_aligned()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            var buffers = Enumerable.Range(0, random.Next(1, 30)).Select(_ =>
            {
                int first = random.Next(0, 40);
                return new ArenaPlanner.Buffer(random.Next(0, 500), first, first + random.Next(0, 8));
            }).ToList();
            var placement = ArenaPlanner.Plan(buffers);
            for (int i = 0; i < buffers.Count; i++)
            {
                Assert.Equal(0, placement.Offsets[i] % ArenaPlanner.AlignmentFloats);
                Assert.True(placement.Offsets[i] + buffers[i].Length <= placement.TotalFloats);
                for (int j = i + 1; j < buffers.Count; j++)
                {
                    if (!buffers[i].Overlaps(buffers[j]) || buffers[i].Length == 0 || buffers[j].Length == 0) continue;
                    bool disjoint = placement.Offsets[i] + buffers[i].Length <= placement.Offsets[j]
                        || placement.Offsets[j] + buffers[j].Length <= placement.Offsets[i];
                    Assert.True(disjoint, $"trial {trial}: buffers {i} and {j} overlap in time and memory");
                }
            }
            Assert.Equal(0, placement.TotalFloats % ArenaPlanner.AlignmentFloats);
        }
    }

    [Fact]
    public void Buffers_with_disjoint_lifetimes_share_memory()
    {
        var placement = ArenaPlanner.Plan([new(100, 0, 1), new(100, 1, 2), new(100, 2, 3), new(100, 3, 4)]);
        // A chain: each buffer overlaps only its neighbours, so two slots suffice.
        Assert.Equal(2 * 112, placement.TotalFloats);
        Assert.Equal(placement.Offsets[0], placement.Offsets[2]);
        Assert.Equal(placement.Offsets[1], placement.Offsets[3]);
    }

    [Fact]
    public void Best_fit_picks_the_smallest_gap_that_holds_the_buffer()
    {
        // Long-lived a, c, f; b and d die at step 0 and leave gaps of 208 (at 304) and 48 (at 624) floats.
        var p = ArenaPlanner.Plan([
            new(300, 0, 9), // a
            new(200, 0, 0), // b
            new(100, 0, 9), // c
            new(48, 0, 0),  // d
            new(40, 0, 9),  // f
            new(32, 1, 9),  // e: alive from step 1
        ]);
        Assert.Equal([0, 304, 512, 624, 672], p.Offsets[..5]);
        Assert.Equal(624, p.Offsets[5]); // the 48-float gap, not the first (208-float) one
        Assert.Equal(720, p.TotalFloats);
    }
}

public class MemoryPlanningTests
{
    static global::Compress.Tasks.Graph.Graph ConvChain(int layers, int channels, int size)
    {
        var g = new TestGraph().Input("x", 1, channels, size, size);
        string previous = "x";
        for (int i = 0; i < layers; i++)
        {
            g.Const($"W{i}", Harness.Random(channels * channels * 9, 10 + i, 0.3f), channels, channels, 3, 3);
            string output = i == layers - 1 ? "y" : $"h{i}";
            g.Node("Conv", [previous, $"W{i}"], output, [1, channels, size, size], [Ints("pads", 1, 1, 1, 1), .. Fused("Relu")]);
            previous = output;
        }
        return g.Output("y").Build();
    }

    [Fact]
    public void Intermediate_values_reuse_arena_memory()
    {
        const int layers = 6, channels = 4, size = 8;
        var lowered = Harness.Lower(ConvChain(layers, channels, size));
        int value = channels * size * size;
        var shape = new Runtime.Conv2dShape(1, channels, size, size, channels, size, size, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        // The scratch of the kernel the lowering picks (8×8 maps with 4 input channels run Winograd's tile-major path).
        int scratch = global::Compress.Tasks.Lowering.Ops.ConvLowerer.UseWinograd(shape)
            ? Runtime.Kernels.WinogradConv2dF32.ScratchLength(shape) : Runtime.Kernels.Conv2dF32.ScratchLength(shape);
        // Without reuse: 5 intermediates + 6 scratch buffers. With it: at most two values and one scratch at a time.
        Assert.True(lowered.Plan.ArenaFloats <= 2 * value + scratch + 32, $"arena {lowered.Plan.ArenaFloats} floats");
        Assert.True(lowered.Plan.ArenaFloats < (layers - 1) * value + layers * scratch);
        Assert.Equal(PlanArg.Input(0, 0, value), lowered.Plan.Steps[0].Args[0]);
        Assert.Equal(PlanArg.Output(0, 0, value), lowered.Plan.Steps[^1].Args[3]);
    }

    [Fact]
    public void Simultaneously_live_values_do_not_overlap()
    {
        // A diamond: a and b are both alive when Add reads them.
        float[] x = Harness.Random(32, 1);
        var g = new TestGraph().Input("x", 1, 32).Const("W1", Harness.Random(32 * 32, 2), 32, 32).Const("W2", Harness.Random(32 * 32, 3), 32, 32)
            .Node("MatMul", ["x", "W1"], "a", [1, 32])
            .Node("MatMul", ["x", "W2"], "b", [1, 32])
            .Node("Add", ["a", "b"], "y", [1, 32]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var a = (SpanArg)lowered.Plan.Steps[0].Args[3];
        var b = (SpanArg)lowered.Plan.Steps[1].Args[3];
        Assert.Equal(SpanSource.Arena, a.Source);
        Assert.False(PlanInvariants.Overlap(a, b));
        Assert.Equal(0, a.Offset % 16);
        Assert.Equal(0, b.Offset % 16);
    }

    [Fact]
    public void Dynamic_batch_is_lowered_as_batch_one()
    {
        float[] x = Harness.Random(10, 1);
        var g = new TestGraph().BatchInput("x", 10).Const("W", Harness.Random(30, 2), 10, 3)
            .Node("MatMul", ["x", "W"], "y", new Shape([Dim.Symbolic("N"), Dim.Known(3)])).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.True(lowered.Plan.BatchDynamic);
        Assert.Equal([1L, 10L], lowered.Plan.Inputs[0].Shape);
        Assert.Equal(3, lowered.Plan.Outputs[0].Length);
        Assert.Equal(PlanCalls.Gemv, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void Static_batch_is_not_dynamic()
    {
        var g = new TestGraph().Input("x", 2, 10).Node("Relu", ["x"], "y", [2, 10]).Output("y").Build();
        Assert.False(Harness.Lower(g).Plan.BatchDynamic);
    }

    [Fact]
    public void Dead_nodes_are_not_lowered()
    {
        var g = new TestGraph().Input("x", 4)
            .Node("Relu", ["x"], "y", [4])
            .Node("Tanh", ["x"], "unused", [4])
            .Output("y").Build();
        Assert.Single(Harness.Lower(g).Plan.Steps);
    }
}

public class WeightsBlobTests
{
    [Fact]
    public void Identical_constants_are_stored_once_and_every_tensor_is_64_byte_aligned()
    {
        float[] shared = [1f, 2f, 3f];
        var g = new TestGraph().Input("x", 3)
            .Const("c1", shared, 3).Const("c2", (float[])shared.Clone(), 3).Const("c3", [5f], 1)
            .Node("Add", ["x", "c1"], "a", [3])
            .Node("Mul", ["a", "c2"], "b", [3])
            .Node("Sub", ["b", "c3"], "y", [3]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var w1 = (SpanArg)lowered.Plan.Steps[0].Args[2];
        var w2 = (SpanArg)lowered.Plan.Steps[1].Args[2];
        var w3 = (SpanArg)lowered.Plan.Steps[2].Args[2];
        Assert.Equal(w1, w2);
        Assert.NotEqual(w1.Offset, w3.Offset);
        Assert.All(new[] { w1, w3 }, w => Assert.Equal(0, w.Offset * 4 % 64));
        Assert.Equal(64 + 4, lowered.Weights.Length); // [1,2,3] at 0, padding, [5] at byte 64
        var f32 = Runtime.ModelWeights.FromBytes(lowered.Weights).F32;
        Assert.Equal(shared, f32.Slice(w1.Offset, 3).ToArray());
        Assert.Equal(5f, f32[w3.Offset]);
        Assert.Equal(lowered.Weights.Length, lowered.Plan.Weights.Bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(lowered.Weights)), lowered.Plan.Weights.Sha256);
        var x = Harness.Random(3, 1);
        Harness.Close(x.Select((v, i) => (v + shared[i]) * shared[i] - 5).ToArray(), Harness.Run(lowered, x)[0]);
    }

    [Fact]
    public void Weights_are_little_endian_float32()
    {
        var g = new TestGraph().Input("x", 2).Const("c", [1f, -2.5f], 2).Node("Add", ["x", "c"], "y", [2]).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.Equal(new byte[] { 0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0 }, lowered.Weights);
    }

    [Fact]
    public void Graph_without_constants_has_an_empty_blob()
    {
        var g = new TestGraph().Input("x", 2).Node("Relu", ["x"], "y", [2]).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.Empty(lowered.Weights);
        Assert.Equal(0, lowered.Plan.Weights.Bytes);
        Assert.Equal("Tests.Model.weights", lowered.Plan.Weights.Resource);
    }
}
