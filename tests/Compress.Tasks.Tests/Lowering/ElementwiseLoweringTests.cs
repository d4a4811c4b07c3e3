using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class BinaryLoweringTests
{
    static readonly Dictionary<string, Func<float, float, float>> Ops = new()
    {
        ["Add"] = (a, b) => a + b,
        ["Sub"] = (a, b) => a - b,
        ["Mul"] = (a, b) => a * b,
        ["Div"] = (a, b) => a / b,
        ["Max"] = Math.Max,
        ["Min"] = Math.Min,
    };

    public static TheoryData<string, long[], long[]> Cases()
    {
        var data = new TheoryData<string, long[], long[]>();
        foreach (string op in Ops.Keys)
        {
            data.Add(op, [1, 4, 3, 5], [1, 4, 3, 5]);
            data.Add(op, [1, 4, 3, 5], [1, 4, 1, 1]);
            data.Add(op, [2, 1, 5], [3, 1]);
            data.Add(op, [4, 1], [1, 6]);
            data.Add(op, [7], []);
        }
        return data;
    }

    static long[] BroadcastShape(long[] a, long[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        return Enumerable.Range(0, r).Select(i =>
        {
            long da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1, db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            return Math.Max(da, db);
        }).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Binary_broadcasts_like_numpy(string op, long[] aDims, long[] bDims)
    {
        long[] yDims = BroadcastShape(aDims, bDims);
        float[] a = Harness.Random((int)Reference.Count(aDims), 1), b = Harness.Random((int)Reference.Count(bDims), 2).Select(v => v + 2.5f).ToArray();
        var g = new TestGraph().Input("a", aDims).Input("b", bDims).Node(op, ["a", "b"], "y", yDims).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(Reference.Binary(Ops[op], a, aDims, b, bDims, yDims), Harness.Run(lowered, a, b)[0]);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanCalls.Binary, step.Call);
        Assert.Equal(new EnumArg("BinaryOp." + op), step.Args[0]);
    }

    [Fact]
    public void Constant_operand_comes_from_the_weights()
    {
        float[] x = Harness.Random(2 * 3 * 4, 1), scale = [0.5f, 2f, -1f];
        var g = new TestGraph().Input("x", 1, 3, 2, 4).Const("s", scale, 3, 1, 1)
            .Node("Mul", ["s", "x"], "y", [1, 3, 2, 4], Fused("Relu")).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(SpanSource.Weights, Assert.IsType<SpanArg>(step.Args[1]).Source);
        Assert.Equal(SpanSource.Input, Assert.IsType<SpanArg>(step.Args[2]).Source);
        Assert.EndsWith("+ Relu", step.Comment);
        var expected = Reference.Binary((a, b) => Math.Max(0, a * b), scale, [3, 1, 1], x, [1, 3, 2, 4], [1, 3, 2, 4]);
        Harness.Close(expected, Harness.Run(lowered, x)[0]);
    }
}

public class ActivationLoweringTests
{
    public static TheoryData<string, float, float> Cases => new()
    {
        { "Relu", 0, 0 }, { "LeakyRelu", 0.1f, 0 }, { "Sigmoid", 0, 0 }, { "HardSigmoid", 0.2f, 0.5f },
        { "HardSwish", 0, 0 }, { "Tanh", 0, 0 }, { "Clip", -0.5f, 0.5f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Standalone_activation_matches_reference(string op, float alpha, float beta)
    {
        float[] x = Harness.Random(40, 1, scale: 5);
        var attrs = op switch
        {
            "LeakyRelu" => new[] { Attr("alpha", alpha) },
            "HardSigmoid" => [Attr("alpha", alpha), Attr("beta", beta)],
            _ => [],
        };
        var g = new TestGraph().Input("x", 1, 40);
        string[] inputs = ["x"];
        if (op == "Clip") { g.Const("min", [alpha]).Const("max", [beta]); inputs = ["x", "min", "max"]; }
        g.Node(op, inputs, "y", [1, 40], attrs).Output("y");
        var lowered = Harness.Lower(g.Build());
        Harness.Close(x.Select(v => Reference.Activation(op, v, alpha, beta)).ToArray(), Harness.Run(lowered, x)[0]);
        Assert.Equal(PlanCalls.Activation, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void Clip_reads_attributes_in_old_opsets_and_defaults_to_the_float_range()
    {
        float[] x = Harness.Random(10, 1, scale: 5);
        var g = new TestGraph(opset: 6).Input("x", 10).Node("Clip", ["x"], "y", [10], Attr("min", 0f)).Output("y").Build();
        Harness.Close(x.Select(v => Math.Max(v, 0)).ToArray(), Harness.Run(g, x)[0]);
    }

    [Fact]
    public void Activation_runs_in_place_when_its_input_dies()
    {
        float[] x = Harness.Random(64, 1), w = Harness.Random(64 * 32, 2);
        var g = new TestGraph().Input("x", 1, 64).Const("W", w, 64, 32)
            .Node("MatMul", ["x", "W"], "h", [1, 32])
            .Node("Sigmoid", ["h"], "s", [1, 32])
            .Node("Tanh", ["s"], "y", [1, 32]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var sigmoid = lowered.Plan.Steps[1];
        Assert.Equal(PlanCalls.Activation, sigmoid.Call);
        Assert.Equal(sigmoid.Args[0], sigmoid.Args[1]); // same span: in place
        // The whole chain lives in the output: MatMul writes y's span, both activations run in place there.
        Assert.All(lowered.Plan.Steps, s => Assert.Equal(SpanSource.Output, PlanInvariants.WrittenSpans(s)[0].Source));
        Assert.Equal(0, lowered.Plan.ArenaFloats);
        var h = Reference.Gemm(x, w, null, [], 1, 64, 32, false, false, 1, 1);
        Harness.Close(h.Select(v => MathF.Tanh(1 / (1 + MathF.Exp(-v)))).ToArray(), Harness.Run(lowered, x)[0]);
    }

    [Fact]
    public void Activation_is_not_in_place_when_its_input_is_read_later()
    {
        float[] x = Harness.Random(16, 1);
        var g = new TestGraph().Input("x", 16).Const("one", [1f])
            .Node("Add", ["x", "one"], "h", [16])
            .Node("Relu", ["h"], "r", [16])
            .Node("Sub", ["r", "h"], "y", [16]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var relu = lowered.Plan.Steps[1];
        Assert.NotEqual(relu.Args[0], relu.Args[1]);
        Harness.Close(x.Select(v => Math.Max(v + 1, 0) - (v + 1)).ToArray(), Harness.Run(lowered, x)[0]);
    }

    [Fact]
    public void Fused_activation_on_an_op_without_an_epilogue_becomes_an_in_place_apply()
    {
        float[] x = Harness.Random(12, 1, scale: 3);
        var g = new TestGraph().Input("x", 1, 12)
            .Node("Softmax", ["x"], "y", [1, 12], Fused("Clip", 0.05f, 0.2f)).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.Equal([PlanCalls.Softmax, PlanCalls.Activation], lowered.Plan.Steps.Select(s => s.Call));
        var expected = Reference.Softmax(x, 1, 12, 1).Select(v => Math.Clamp(v, 0.05f, 0.2f)).ToArray();
        Harness.Close(expected, Harness.Run(lowered, x)[0]);
    }
}

public class SoftmaxLoweringTests
{
    [Theory]
    [InlineData(13, 1, 2, 3, 4)]   // opset 13: only axis 1 → outer 2, n 3, inner 4
    [InlineData(13, -1, 6, 4, 1)]  // last axis
    [InlineData(13, 0, 1, 2, 12)]
    [InlineData(11, 1, 2, 12, 1)]  // opset 11: coerced to 2-D at axis 1 → outer 2, n 12
    [InlineData(11, 2, 6, 4, 1)]
    public void Softmax_axis_semantics_follow_the_opset(long opset, long axis, int outer, int n, int inner)
    {
        float[] x = Harness.Random(24, 1, scale: 3);
        var g = new TestGraph(opset).Input("x", 2, 3, 4).Node("Softmax", ["x"], "y", [2, 3, 4], Attr("axis", axis)).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(Reference.Softmax(x, outer, n, inner), Harness.Run(lowered, x)[0]);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal([PlanArg.Int(outer), PlanArg.Int(n), PlanArg.Int(inner)], step.Args.Skip(2));
    }
}

public class BatchNormalizationLoweringTests
{
    [Fact]
    public void Standalone_batchnorm_is_a_precomputed_channel_affine()
    {
        float[] x = Harness.Random(2 * 3 * 4, 1);
        float[] scale = [1f, 2f, 0.5f], bias = [0.1f, -0.2f, 0.3f], mean = [0.05f, 0f, -0.1f], variance = [1f, 0.25f, 4f];
        var g = new TestGraph().Input("x", 2, 3, 4).Const("s", scale, 3).Const("b", bias, 3).Const("m", mean, 3).Const("v", variance, 3)
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], "y", [2, 3, 4], Attr("epsilon", 1e-3f)).Output("y").Build();
        var lowered = Harness.Lower(g);
        var expected = x.Select((v, i) => { int c = i / 4 % 3; return (float)((v - mean[c]) / Math.Sqrt(variance[c] + 1e-3) * scale[c] + bias[c]); }).ToArray();
        Harness.Close(expected, Harness.Run(lowered, x)[0]);
        Assert.Equal(PlanCalls.ChannelAffine, Assert.Single(lowered.Plan.Steps).Call);
    }
}
