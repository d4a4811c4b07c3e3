using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class PlanInterpreterTests
{
    [Fact]
    public void Every_call_any_lowerer_can_emit_has_an_interpreter_entry()
    {
        foreach (var lowerer in OpLowerers.All)
            foreach (string call in lowerer.Calls)
                Assert.Contains(call, PlanInterpreter.SupportedCalls);
        Assert.All(PlanCalls.All, c => Assert.Contains(c, PlanInterpreter.SupportedCalls));
    }

    [Fact]
    public void Unknown_call_is_rejected()
    {
        var lowered = Harness.Lower(new TestGraph().Input("x", 4).Node("Relu", ["x"], "y", [4]).Output("y").Build());
        var plan = lowered.Plan with { Steps = new[] { lowered.Plan.Steps[0] with { Call = "Kernels.NopF32.Run" } } };
        var e = Assert.Throws<InvalidOperationException>(() => new PlanInterpreter(plan, lowered.Weights).Run([new float[4]]));
        Assert.Contains("Kernels.NopF32.Run", e.Message);
    }

    [Fact]
    public void Arguments_that_do_not_fit_the_kernel_are_rejected()
    {
        var lowered = Harness.Lower(new TestGraph().Input("x", 4).Node("Relu", ["x"], "y", [4]).Output("y").Build());
        var step = lowered.Plan.Steps[0];
        var wrongCount = lowered.Plan with { Steps = new[] { step with { Args = step.Args.Take(2).ToArray() } } };
        Assert.Throws<InvalidOperationException>(() => new PlanInterpreter(wrongCount, lowered.Weights));
        var outOfRange = lowered.Plan with { Steps = new[] { step with { Args = new PlanArg[] { PlanArg.Input(0, 2, 4), step.Args[1], step.Args[2] } } } };
        Assert.Throws<InvalidOperationException>(() => new PlanInterpreter(outOfRange, lowered.Weights));
        var writesInput = lowered.Plan with { Steps = new[] { step with { Args = new PlanArg[] { step.Args[0], PlanArg.Input(0, 0, 4), step.Args[2] } } } };
        Assert.Throws<InvalidOperationException>(() => new PlanInterpreter(writesInput, lowered.Weights));
        var badEnum = lowered.Plan with { Steps = new[] { step with { Args = new PlanArg[] { step.Args[0], step.Args[1],
            PlanArg.New("FusedActivation", PlanArg.Enum("ActivationKind.Gelu"), PlanArg.Float(0), PlanArg.Float(0)) } } } };
        Assert.Throws<InvalidOperationException>(() => new PlanInterpreter(badEnum, lowered.Weights));
    }

    [Fact]
    public void Wrong_inputs_are_rejected()
    {
        var lowered = Harness.Lower(new TestGraph().Input("x", 4).Node("Relu", ["x"], "y", [4]).Output("y").Build());
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        Assert.Throws<ArgumentException>(() => interpreter.Run([new float[3]]));
        Assert.Throws<ArgumentException>(() => interpreter.Run([]));
    }

    /// <summary>A graph using every supported op, lowered and run: every emitted call is interpretable and the output is finite.</summary>
    [Fact]
    public void A_graph_using_every_supported_op_lowers_and_runs()
    {
        var g = new TestGraph()
            .Input("x", 1, 4, 6, 6)
            .Const("cw", Harness.Random(8 * 4 * 9, 1, 0.3f), 8, 4, 3, 3).Const("cb", Harness.Random(8, 2), 8)
            .Node("Conv", ["x", "cw", "cb"], "c1", [1, 8, 6, 6], Ints("pads", 1, 1, 1, 1))
            .Const("dw", Harness.Random(8 * 9, 3, 0.3f), 8, 1, 3, 3)
            .Node("Conv", ["c1", "dw"], "c2", [1, 8, 6, 6], [Ints("pads", 1, 1, 1, 1), Attr("group", 8L), .. Fused("Relu")])
            .Const("bs", Harness.Random(8, 4), 8).Const("bb", Harness.Random(8, 5), 8).Const("bm", Harness.Random(8, 6), 8)
            .Const("bv", Harness.Random(8, 7).Select(v => v * v + 0.5f).ToArray(), 8)
            .Node("BatchNormalization", ["c2", "bs", "bb", "bm", "bv"], "bn", [1, 8, 6, 6])
            .Node("Relu", ["bn"], "r", [1, 8, 6, 6])
            .Node("LeakyRelu", ["r"], "lr", [1, 8, 6, 6], Attr("alpha", 0.1f))
            .Node("MaxPool", ["lr"], "mp", [1, 8, 3, 3], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("AveragePool", ["lr"], "ap", [1, 8, 3, 3], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Attr("count_include_pad", 1L))
            .Node("Add", ["mp", "ap"], "add", [1, 8, 3, 3])
            .Const("half", [0.5f])
            .Node("Mul", ["add", "half"], "mul", [1, 8, 3, 3])
            .Node("Sub", ["mul", "ap"], "sub", [1, 8, 3, 3])
            .Const("two", [2f])
            .Node("Div", ["sub", "two"], "div", [1, 8, 3, 3])
            .Node("Max", ["div", "mp"], "max", [1, 8, 3, 3])
            .Node("Min", ["max", "add"], "min", [1, 8, 3, 3])
            .Node("Sigmoid", ["min"], "sig", [1, 8, 3, 3])
            .Node("HardSigmoid", ["sig"], "hsig", [1, 8, 3, 3])
            .Node("HardSwish", ["hsig"], "hsw", [1, 8, 3, 3])
            .Node("Tanh", ["hsw"], "tanh", [1, 8, 3, 3])
            .Const("lo", [-0.5f]).Const("hi", [0.5f])
            .Node("Clip", ["tanh", "lo", "hi"], "clip", [1, 8, 3, 3])
            // The element-wise math ops, on a side branch that is a graph output of its own.
            .Node("Abs", ["clip"], "abs", [1, 8, 3, 3])
            .Node("Neg", ["abs"], "neg", [1, 8, 3, 3])
            .Node("Exp", ["neg"], "exp", [1, 8, 3, 3])
            .Node("Log", ["exp"], "log", [1, 8, 3, 3])
            .Node("Sqrt", ["exp"], "sqrt", [1, 8, 3, 3])
            .Node("Reciprocal", ["sqrt"], "rec", [1, 8, 3, 3])
            .Node("Floor", ["rec"], "floor", [1, 8, 3, 3])
            .Node("Ceil", ["rec"], "ceil", [1, 8, 3, 3])
            .Node("Erf", ["clip"], "erf", [1, 8, 3, 3])
            .Node("Gelu", ["erf"], "gelu", [1, 8, 3, 3], Attr("approximate", "tanh"))
            .Const("three", [3f])
            .Node("Pow", ["gelu", "three"], "pow", [1, 8, 3, 3])
            .Node("Where", ["mask", "pow", "floor"], "where", [1, 8, 3, 3])
            .Node("Cast", ["where"], "cast", [1, 8, 3, 3], Attr("to", (long)DataType.Float))
            .Node("Max", ["cast", "ceil", "log"], "math", [1, 8, 3, 3])
            .Node("Transpose", ["clip"], "tr", [1, 3, 3, 8], Ints("perm", 0, 2, 3, 1))
            .Node("GlobalAveragePool", ["clip"], "gap", [1, 8, 1, 1])
            .Node("GlobalMaxPool", ["clip"], "gmp", [1, 8, 1, 1])
            .Node("Squeeze", ["gap"], "sq", [1, 8], Ints("axes", 2, 3))
            .Node("Unsqueeze", ["sq"], "us", [1, 1, 8], Ints("axes", 1))
            .Node("Flatten", ["gmp"], "fl", [1, 8], Attr("axis", 1L))
            .ConstInt64("shape", [1, 72], 2)
            .Node("Reshape", ["tr", "shape"], "rs", [1, 72])
            .Node("Identity", ["rs"], "id", [1, 72])
            .Node("Dropout", ["id"], "do", [1, 72])
            .Node("Reshape", ["us", "shape"], "us2", [1, 8])
            .ConstInt64("rows", [9, 8], 2)
            .Node("Reshape", ["tr", "rows"], "tr9", [9, 8])
            .Const("rw", Harness.Random(8 * 4, 12, 0.3f), 8, 4)
            .Node("MatMul", ["tr9", "rw"], "mm9", [9, 4])
            .Node("Flatten", ["mm9"], "mmf", [1, 36], Attr("axis", 0L))
            // A wide 3×3 branch, so the Winograd kernel runs too.
            .Const("ww1", Harness.Random(64 * 4 * 9, 13, 0.3f), 64, 4, 3, 3)
            .Node("Conv", ["x", "ww1"], "wide1", [1, 64, 6, 6], Ints("pads", 1, 1, 1, 1))
            .Const("ww2", Harness.Random(64 * 64 * 9, 14, 0.05f), 64, 64, 3, 3)
            .Node("Conv", ["wide1", "ww2"], "wide2", [1, 64, 6, 6], [Ints("pads", 1, 1, 1, 1), .. Fused("Relu")])
            .Node("GlobalAveragePool", ["wide2"], "wgap", [1, 64, 1, 1])
            .Node("Flatten", ["wgap"], "wfl", [1, 64], Attr("axis", 1L))
            // The structural ops: Pad → Slice → Gather → reductions → Expand → Split → LayerNormalization; ConvTranspose →
            // nearest Resize; linear Resize; a MatMul of two activations.
            .ConstInt64("pads", [0, 0, 1, 1, 0, 0, 1, 1], 8)
            .Node("Pad", ["clip", "pads"], "pad", [1, 8, 5, 5], Attr("mode", "reflect"))
            .ConstInt64("st", [1], 1).ConstInt64("en", [4], 1).ConstInt64("sax", [2], 1)
            .Node("Slice", ["pad", "st", "en", "sax"], "sl", [1, 8, 3, 5])
            .ConstInt64("gi", [0, 2], 2)
            .Node("Gather", ["sl", "gi"], "ga", [1, 8, 3, 2], Attr("axis", 3L))
            .ConstInt64("rax", [3], 1)
            .Node("ReduceSum", ["ga", "rax"], "rsum", [1, 8, 3, 1])
            .Node("ReduceMean", ["rsum"], "rmean", [1, 8, 1, 1], Ints("axes", 2))
            .Node("ReduceMax", ["rmean"], "rmax", [1, 8, 1], Ints("axes", 3), Attr("keepdims", 0L))
            .Node("ReduceMin", ["rmax"], "rmin", [1, 8, 1], Ints("axes", 0, 1))
            .Node("ReduceProd", ["rmin"], "rprod", [1, 8], Ints("axes", 2), Attr("keepdims", 0L))
            .ConstInt64("exs", [2, 8], 2)
            .Node("Expand", ["rprod", "exs"], "ex", [2, 8])
            .ConstInt64("spl", [1, 1], 2)
            .Raw(global::Compress.Tasks.Graph.Node.Create("/split/Split", "Split", ["ex", "spl"], ["s0", "s1"], [KeyValuePair.Create("axis", global::Compress.Tasks.Graph.AttributeValue.Of(0L))]))
            .Value("s0", global::Compress.Tasks.Graph.DataType.Float, 1, 8).Value("s1", global::Compress.Tasks.Graph.DataType.Float, 1, 8)
            .Const("lng", Harness.Random(8, 15), 8).Const("lnb", Harness.Random(8, 16), 8)
            .Node("LayerNormalization", ["s0", "lng", "lnb"], "ln", [1, 8], Attr("axis", -1L))
            .Const("ctw", Harness.Random(8 * 2 * 4, 17, 0.3f), 8, 2, 2, 2)
            .Node("ConvTranspose", ["clip", "ctw"], "ct", [1, 2, 6, 6], Ints("strides", 2, 2))
            .Const("half2", [1, 1, 0.5f, 0.5f], 4)
            .Node("Resize", ["ct", "", "half2"], "rzn", [1, 2, 3, 3], Attr("mode", "nearest"))
            .Node("Flatten", ["rzn"], "rzf", [1, 18], Attr("axis", 1L))
            .Const("double2", [1, 1, 2, 2], 4)
            .Node("Resize", ["clip", "", "double2"], "rzl", [1, 8, 6, 6], Attr("mode", "linear"))
            .Node("GlobalAveragePool", ["rzl"], "rzg", [1, 8, 1, 1])
            .Node("Flatten", ["rzg"], "rzlf", [1, 8], Attr("axis", 1L))
            .Node("Transpose", ["tr9"], "trT", [8, 9], Ints("perm", 1, 0))
            .Node("MatMul", ["tr9", "trT"], "gram", [9, 9])
            .Node("Flatten", ["gram"], "gramf", [1, 81], Attr("axis", 0L))
            .Node("Concat", ["do", "us2", "fl", "mmf", "wfl", "ln", "s1", "rzf", "rzlf", "gramf"], "cat", [1, 311], Attr("axis", 1L))
            .Const("gw", Harness.Random(311 * 16, 8, 0.2f), 311, 16).Const("gb", Harness.Random(16, 9), 16)
            .Node("Gemm", ["cat", "gw", "gb"], "gemm", [1, 16], Fused("Relu"))
            .Const("mw", Harness.Random(16 * 10, 10, 0.3f), 16, 10)
            .Node("MatMul", ["gemm", "mw"], "logits", [1, 10])
            .Node("Softmax", ["logits"], "probs", [1, 10], Attr("axis", 1L))
            .Output("probs", "logits", "math");
        var graph = g.Build().WithInitializer(new Tensor("mask", DataType.Bool, [8, 1, 1], new byte[] { 1, 0, 1, 1, 0, 0, 1, 0 }));
        var used = graph.Nodes.Select(n => n.OpType).ToHashSet();
        Assert.Empty(ModelLowering.SupportedOps.Except(used)); // the graph really uses every supported op

        var lowered = Harness.Lower(graph);
        var outputs = Harness.Run(lowered, Harness.Random(4 * 36, 11));
        Assert.All(outputs.SelectMany(o => o), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f, outputs[0].Sum(), 4);
        // Every fp32 call but the sparse products, which need pruned weights: SparseLinearLoweringTests runs each of those.
        Assert.Empty(PlanCalls.All.Except(PlanCalls.SparseLinear).Except(lowered.Plan.Steps.Select(s => s.Call)));
    }
}
