using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

/// <summary>The element-wise math ops (issue 6 item 2): unary math, Gelu, Pow, Where, Cast, variadic Max/Min.</summary>
public class MathLoweringTests
{
    /// <summary>erf in double precision (series; ±1 beyond 4, where erfc &lt; 1.6e-8).</summary>
    static double Erf(double x)
    {
        if (Math.Abs(x) > 4) return Math.Sign(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200 && Math.Abs(term) > 1e-18; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    public static TheoryData<string> UnaryOps => new() { "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Sqrt", "Exp", "Log", "Erf" };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Unary_op_matches_its_definition_and_runs_in_place_after_a_producer(string op)
    {
        float[] x = Harness.Random(30, 1, scale: 1.2f); // h = x + 1.5 > 0, in the domain of Sqrt and Log
        var g = new TestGraph().Input("x", 2, 15).Const("one", [1.5f])
            .Node("Add", ["x", "one"], "h", [2, 15])
            .Node(op, ["h"], "y", [2, 15]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = lowered.Plan.Steps[1];
        Assert.Equal(PlanCalls.Unary, step.Call);
        Assert.Equal(new EnumArg("UnaryOp." + op), step.Args[0]);
        Assert.Equal(step.Args[1], step.Args[2]); // h dies here: in place
        Func<double, double> f = op switch
        {
            "Abs" => Math.Abs, "Neg" => v => -v, "Reciprocal" => v => 1 / v, "Floor" => Math.Floor, "Ceil" => Math.Ceiling,
            "Sqrt" => Math.Sqrt, "Exp" => Math.Exp, "Log" => Math.Log, _ => Erf,
        };
        var expected = x.Select(v => (float)f(v + 1.5f)).ToArray();
        Harness.Close(expected, Harness.Run(lowered, x)[0], 2e-6f);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void Gelu_matches_the_opset_20_formula(string approximate)
    {
        float[] x = Harness.Random(64, 3, scale: 4);
        var g = new TestGraph(opset: 20).Input("x", 1, 64).Node("Gelu", ["x"], "y", [1, 64], Attr("approximate", approximate)).Output("y").Build();
        var lowered = Harness.Lower(g);
        Assert.Equal(new EnumArg(approximate == "none" ? "UnaryOp.Gelu" : "UnaryOp.GeluTanh"), Assert.Single(lowered.Plan.Steps).Args[0]);
        var expected = x.Select(v => (float)(approximate == "none"
            ? 0.5 * v * (1 + Erf(v / Math.Sqrt(2)))
            : 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))))).ToArray();
        Harness.Close(expected, Harness.Run(lowered, x)[0], 2e-6f);
    }

    [Fact]
    public void Gelu_with_an_unknown_approximation_is_CMP004()
    {
        var g = new TestGraph(opset: 20).Input("x", 4).Node("Gelu", ["x"], "y", [4], Attr("approximate", "sigmoid")).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => Harness.Lower(g));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("sigmoid", e.Message);
    }

    [Fact]
    public void Pow_by_a_constant_2_is_a_mul_and_other_exponents_broadcast()
    {
        float[] x = Harness.Random(12, 1).Select(v => v + 1.5f).ToArray(), e = Harness.Random(4, 2);
        var square = new TestGraph().Input("x", 3, 4).Const("two", [2f]).Node("Pow", ["x", "two"], "y", [3, 4]).Output("y").Build();
        var lowered = Harness.Lower(square);
        Assert.Equal(new EnumArg("BinaryOp.Mul"), Assert.Single(lowered.Plan.Steps).Args[0]);
        Harness.Close(x.Select(v => v * v).ToArray(), Harness.Run(lowered, x)[0], 1e-6f);

        var rows = new TestGraph().Input("x", 3, 4).Input("e", 4).Node("Pow", ["x", "e"], "y", [3, 4]).Output("y").Build();
        lowered = Harness.Lower(rows);
        Assert.Equal(new EnumArg("BinaryOp.Pow"), Assert.Single(lowered.Plan.Steps).Args[0]);
        Harness.Close(x.Select((v, i) => MathF.Pow(v, e[i % 4])).ToArray(), Harness.Run(lowered, x, e)[0], 1e-6f);
    }

    [Fact]
    public void Pow_takes_an_integer_constant_exponent_as_float()
    {
        float[] x = Harness.Random(6, 1, scale: 2);
        var g = new TestGraph().Input("x", 6).ConstInt64("three", [3], []).Node("Pow", ["x", "three"], "y", [6]).Output("y").Build();
        Harness.Close(x.Select(v => v * v * v).ToArray(), Harness.Run(g, x)[0], 1e-6f);
    }

    [Fact]
    public void Where_with_a_constant_condition_selects_with_broadcasting()
    {
        float[] x = Harness.Random(2 * 3, 1), y = Harness.Random(3, 2);
        bool[] c = [true, false, true];
        var condition = new Tensor("c", DataType.Bool, [1, 3], c.Select(b => b ? (byte)1 : (byte)0).ToArray());
        var g = new TestGraph().Input("x", 2, 3).Input("y", 3).Node("Where", ["c", "x", "y"], "z", [2, 3]).Output("z").Build();
        g = g.WithInitializer(condition);
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanCalls.Where, step.Call);
        Assert.Equal(SpanSource.Weights, Assert.IsType<SpanArg>(step.Args[0]).Source);
        Harness.Close(x.Select((v, i) => c[i % 3] ? v : y[i % 3]).ToArray(), Harness.Run(lowered, x, y)[0], 0f);
    }

    [Fact]
    public void Where_with_a_computed_condition_is_CMP004()
    {
        var g = new TestGraph().Input("c", Shape.Of(3), DataType.Bool).Input("x", 3).Input("y", 3)
            .Node("Where", ["c", "x", "y"], "z", [3]).Output("z").Build();
        var e = Assert.Throws<CompressException>(() => Harness.Lower(g));
        Assert.Contains(e.Code, new[] { ErrorCodes.UnsupportedOp, ErrorCodes.UnsupportedType });
    }

    [Fact]
    public void Cast_float_to_float_aliases_and_other_run_time_casts_are_CMP004()
    {
        float[] x = Harness.Random(5, 1);
        var identity = new TestGraph().Input("x", 5).Const("one", [1f]).Node("Add", ["x", "one"], "h", [5])
            .Node("Cast", ["h"], "y", [5], Attr("to", (long)DataType.Float)).Output("y").Build();
        var lowered = Harness.Lower(identity);
        Assert.Equal([PlanCalls.Binary], lowered.Plan.Steps.Select(s => s.Call));
        Harness.Close(x.Select(v => v + 1).ToArray(), Harness.Run(lowered, x)[0], 0f);

        var toInt = new TestGraph().Input("x", 5).Node("Cast", ["x"], "i", Shape.Of(5), Attr("to", (long)DataType.Int64)).Value("i", DataType.Int64, 5)
            .Node("Cast", ["i"], "y", [5], Attr("to", (long)DataType.Float)).Output("y").Build();
        var e = Assert.Throws<CompressException>(() => Harness.Lower(toInt));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("Int64", e.Message);
    }

    [Fact]
    public void Max_and_min_of_three_broadcast_inputs_fold_left()
    {
        float[] a = Harness.Random(3, 1), b = Harness.Random(2 * 3, 2), c = Harness.Random(2 * 1, 3);
        foreach (var (op, f) in new (string, Func<float, float, float>)[] { ("Max", MathF.Max), ("Min", MathF.Min) })
        {
            var g = new TestGraph().Input("a", 3).Input("b", 2, 3).Input("c", 2, 1).Node(op, ["a", "b", "c"], "y", [2, 3]).Output("y").Build();
            var lowered = Harness.Lower(g);
            Assert.Equal(2, lowered.Plan.Steps.Count);
            var expected = Enumerable.Range(0, 6).Select(i => f(f(a[i % 3], b[i]), c[i / 3])).ToArray();
            Harness.Close(expected, Harness.Run(lowered, a, b, c)[0], 0f);
        }
    }

    [Fact]
    public void Gemm_with_a_computed_C_and_beta_scales_C_first()
    {
        float[] a = Harness.Random(2 * 3, 1), w = Harness.Random(3 * 4, 2), c = Harness.Random(2 * 4, 3);
        var g = new TestGraph().Input("a", 2, 3).Const("w", w, 3, 4).Input("c", 2, 4)
            .Node("Gemm", ["a", "w", "c"], "y", [2, 4], Attr("beta", 0.5f)).Output("y").Build();
        var expected = Reference.Gemm(a, w, c, [2, 4], 2, 3, 4, false, false, 1, 0.5f);
        Harness.Close(expected, Harness.Run(g, a, c)[0]);
    }
}
