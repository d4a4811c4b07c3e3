using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

public class Int8ArenaPlanningTests
{
    [Fact]
    public void Byte_buffers_alive_at_the_same_time_never_overlap_and_start_on_64_byte_boundaries()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 300; trial++)
        {
            // Mixed element sizes: f32 values (4·n bytes), u8 values and byte scratch of any length.
            var buffers = Enumerable.Range(0, random.Next(1, 40)).Select(_ =>
            {
                int first = random.Next(0, 30);
                int length = random.Next(3) == 0 ? 4 * random.Next(0, 300) : random.Next(0, 1200);
                return new ArenaPlanner.Buffer(length, first, first + random.Next(0, 6));
            }).ToList();
            var p = ArenaPlanner.PlanBytes(buffers);
            Assert.Equal(0, p.TotalBytes % ArenaPlanner.AlignmentBytes);
            for (int i = 0; i < buffers.Count; i++)
            {
                Assert.Equal(0, p.ByteOffsets[i] % ArenaPlanner.AlignmentBytes);
                Assert.True(p.ByteOffsets[i] + buffers[i].Length <= p.TotalBytes);
                for (int j = i + 1; j < buffers.Count; j++)
                {
                    if (!buffers[i].Overlaps(buffers[j]) || buffers[i].Length == 0 || buffers[j].Length == 0) continue;
                    Assert.True(p.ByteOffsets[i] + buffers[i].Length <= p.ByteOffsets[j] || p.ByteOffsets[j] + buffers[j].Length <= p.ByteOffsets[i],
                        $"trial {trial}: buffers {i} and {j} are alive together and overlap");
                }
            }
        }
    }

    [Fact]
    public void Float_buffers_planned_in_bytes_land_where_the_float_planner_puts_them()
    {
        // What keeps fp32 plans byte-identical: bytes = 4 × floats, 64 bytes = 16 floats.
        var random = new Random(12);
        for (int trial = 0; trial < 100; trial++)
        {
            var floats = Enumerable.Range(0, random.Next(1, 25)).Select(_ =>
            {
                int first = random.Next(0, 20);
                return new ArenaPlanner.Buffer(random.Next(0, 700), first, first + random.Next(0, 5));
            }).ToList();
            var inFloats = ArenaPlanner.Plan(floats);
            var inBytes = ArenaPlanner.PlanBytes(floats.Select(b => b with { Length = 4 * b.Length }).ToList());
            Assert.Equal(inFloats.Offsets.Select(o => 4 * o), inBytes.ByteOffsets);
            Assert.Equal(4 * inFloats.TotalFloats, inBytes.TotalBytes);
        }
    }

    [Fact]
    public void Simultaneously_live_u8_values_f32_values_and_byte_scratch_do_not_overlap()
    {
        // x (f32 input) → quantised once; Conv a (u8, with byte scratch) and Conv b (u8) both alive at the Add; the Add's
        // u8 result dequantised into the output.
        var samples = Int8Harness.Samples(4, 4 * 6 * 6, seed: 400);
        var g = new TestGraph().Input("x", 1, 4, 6, 6)
            .Const("Wa", Harness.Random(4 * 4 * 9, 1, 0.3f), 4, 4, 3, 3).Const("Wb", Harness.Random(4 * 4 * 9, 2, 0.3f), 4, 4, 3, 3)
            .Node("Conv", ["x", "Wa"], "a", [1, 4, 6, 6], [Ints("pads", 1, 1, 1, 1), .. Fused("Relu")])
            .Node("Conv", ["x", "Wb"], "b", [1, 4, 3, 3], [Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)])
            .Node("MaxPool", ["a"], "ap", [1, 4, 3, 3], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("Add", ["ap", "b"], "y", [1, 4, 3, 3])
            .Output("y").Build();
        var q = Int8Harness.Result(g, samples);
        var lowered = Int8Harness.Lower(g, q);
        Assert.Equal([PlanCalls.Quantize, PlanCalls.QConv2d, PlanCalls.QConv2d, PlanCalls.MaxPoolU8, PlanCalls.QBinary, PlanCalls.Dequantize],
            Int8Harness.Calls(lowered));

        var steps = lowered.Plan.Steps;
        var xq = (SpanArg)steps[0].Args[1];
        var (a, scratchA) = ((SpanArg)steps[1].Args[5], (SpanArg)steps[1].Args[6]);
        var (b, scratchB) = ((SpanArg)steps[2].Args[5], (SpanArg)steps[2].Args[6]);
        var ap = (SpanArg)steps[3].Args[1];
        // Alive together: xq with a, b and both scratches; a with b (until the pool); ap with b (at the Add).
        AssertDisjoint(xq, a, scratchA, b);
        AssertDisjoint(xq, scratchB, b, a);
        AssertDisjoint(a, b, ap);
        foreach (var s in new[] { xq, a, b, ap, scratchA, scratchB }) Assert.Equal(SpanArg.U8, s.ElementType);
        foreach (var sample in samples) Int8Harness.Run(lowered, sample);
    }

    [Fact]
    public void An_int8_mlp_needs_a_quarter_of_the_fp32_arena_for_its_activations()
    {
        var samples = Int8Harness.Samples(4, 256, seed: 410);
        var g = new TestGraph().Input("x", 1, 256)
            .Const("W1", Harness.Random(256 * 512, 1, 0.1f), 256, 512).Const("W2", Harness.Random(512 * 256, 2, 0.1f), 512, 256)
            .Const("W3", Harness.Random(256 * 10, 3, 0.1f), 256, 10)
            .Node("Gemm", ["x", "W1"], "h1", [1, 512], Fused("Relu"))
            .Node("Gemm", ["h1", "W2"], "h2", [1, 256], Fused("Relu"))
            .Node("Gemm", ["h2", "W3"], "y", [1, 10])
            .Output("y").Build();
        var fp32 = Harness.Lower(g);
        var int8 = Int8Harness.Lower(g, Int8Harness.Result(g, samples));
        // fp32: h1 and h2 alive together, 768 floats. int8: x, h1, h2 as bytes, 64-byte aligned: (256 + 512 + 256) / 4 floats at most.
        Assert.Equal(768, fp32.Plan.ArenaFloats);
        Assert.True(int8.Plan.ArenaFloats <= (256 + 512 + 256) / 4, $"int8 arena {int8.Plan.ArenaFloats} floats");
    }

    static void AssertDisjoint(params SpanArg[] spans)
    {
        for (int i = 0; i < spans.Length; i++)
            for (int j = i + 1; j < spans.Length; j++)
            {
                long a0 = (long)spans[i].Offset * spans[i].ElementBytes, a1 = a0 + (long)spans[i].Length * spans[i].ElementBytes;
                long b0 = (long)spans[j].Offset * spans[j].ElementBytes, b1 = b0 + (long)spans[j].Length * spans[j].ElementBytes;
                Assert.True(a1 <= b0 || b1 <= a0, $"{spans[i]} and {spans[j]} overlap");
            }
    }
}

public class Int8PlanFormatTests
{
    static ModelPlan PlanWith(params PlanArg[] args) => new()
    {
        Producer = "test", Source = new PlanSource("m.onnx", "00", "p", 8, "ai.onnx:13"), Namespace = "N", ClassName = "C", Summary = "s",
        Weights = new PlanWeights("N.C.weights", 256, "00"), ArenaFloats = 64, BatchDynamic = false,
        Inputs = new[] { new PlanTensor("x", "x", [1, 4], 4) }, Outputs = new[] { new PlanTensor("y", "y", [1, 4], 4) },
        Steps = new[] { new PlanStep("n", "Op", "", "Kernels.X.Y", args) },
    };

    [Fact]
    public void Typed_arena_spans_round_trip_and_float_arena_spans_are_written_as_before()
    {
        var plan = PlanWith(PlanArg.Arena(128, 64, SpanArg.U8), PlanArg.Arena(16, 8), PlanArg.Arena(4, 4, SpanArg.I32),
            PlanArg.Weights(64, 10, SpanArg.I8), PlanArg.New("Requant", PlanArg.Int(3), PlanArg.Int(3), PlanArg.Int(255)));
        string json = PlanJsonWriter.Write(plan);
        Assert.Contains("{ \"span\": \"arena\", \"type\": \"u8\", \"offset\": 128, \"length\": 64 }", json);
        Assert.Contains("{ \"span\": \"arena\", \"offset\": 16, \"length\": 8 }", json);
        Assert.Contains("{ \"span\": \"arena\", \"type\": \"i32\", \"offset\": 4, \"length\": 4 }", json);
        Assert.Contains("{ \"new\": \"Requant\", \"args\": [ { \"int\": 3 }, { \"int\": 3 }, { \"int\": 255 } ] }", json);
        Assert.Equal(plan, PlanJsonReader.Read(json));
    }

    [Fact]
    public void An_explicit_f32_arena_type_is_the_untyped_arena()
    {
        Assert.Equal(PlanArg.Arena(16, 8), PlanArg.Arena(16, 8, SpanArg.F32));
        string json = PlanJsonWriter.Write(PlanWith(PlanArg.Arena(16, 8))).Replace("\"span\": \"arena\",", "\"span\": \"arena\", \"type\": \"f32\",");
        Assert.Equal(PlanArg.Arena(16, 8), PlanJsonReader.Read(json).Steps[0].Args[0]);
    }

    [Theory]
    [InlineData("arena")]
    [InlineData("weights")]
    public void An_unknown_element_type_is_rejected_with_its_path(string span)
    {
        string json = PlanJsonWriter.Write(PlanWith(span == "arena" ? PlanArg.Arena(0, 4, SpanArg.U8) : PlanArg.Weights(0, 4, SpanArg.U8)))
            .Replace("\"type\": \"u8\"", "\"type\": \"f16\"");
        var e = Assert.Throws<InvalidDataException>(() => PlanJsonReader.Read(json));
        Assert.Contains("$.steps[0].args[0].type is 'f16'", e.Message);
    }

    [Fact]
    public void Element_sizes()
    {
        Assert.Equal([4, 1, 1, 4, 4], new string?[] { SpanArg.F32, SpanArg.I8, SpanArg.U8, SpanArg.I32, null }.Select(SpanArg.ElementSize));
        Assert.Equal("arena.u8[128..+64]", PlanArg.Arena(128, 64, SpanArg.U8).ToString());
    }
}
