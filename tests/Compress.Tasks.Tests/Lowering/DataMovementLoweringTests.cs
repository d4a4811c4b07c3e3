using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class TransposeLoweringTests
{
    [Theory]
    [InlineData(new long[] { 3, 4 }, new[] { 1, 0 })]
    [InlineData(new long[] { 1, 3, 4, 5 }, new[] { 0, 2, 3, 1 })]
    [InlineData(new long[] { 2, 3, 4, 5 }, new[] { 3, 1, 0, 2 })]
    [InlineData(new long[] { 2, 3, 2, 3, 2 }, new[] { 4, 2, 0, 3, 1 })]
    public void Transpose_matches_reference(long[] dims, int[] perm)
    {
        float[] x = Harness.Random((int)Reference.Count(dims), 1);
        long[] yDims = perm.Select(p => dims[p]).ToArray();
        var g = new TestGraph().Input("x", dims).Node("Transpose", ["x"], "y", yDims, Ints("perm", perm.Select(p => (long)p).ToArray())).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(Reference.Transpose(x, dims, perm), Harness.Run(lowered, x)[0]);
        Assert.Equal(PlanCalls.Permute, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void Transpose_that_moves_only_unit_dims_is_an_alias()
    {
        float[] x = Harness.Random(12, 1);
        var g = new TestGraph().Input("x", 1, 12).Const("W", Harness.Random(12 * 5, 2), 12, 5)
            .Node("Transpose", ["x"], "t", [12, 1], Ints("perm", 1, 0))
            .Node("Reshape", ["t"], "r", [1, 12])
            .Node("MatMul", ["r", "W"], "y", [1, 5]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanArg.Input(0, 0, 12), step.Args[0]);
    }
}

public class ConcatLoweringTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    [InlineData(0)]
    public void Concat_copies_each_input_into_its_slice(long axis)
    {
        long[] aDims = [2, 3, 4], bDims = [2, 3, 4], cDims = [2, 3, 4];
        int ax = axis < 0 ? (int)axis + 3 : (int)axis;
        aDims[ax] = 1; bDims[ax] = 2; cDims[ax] = 3;
        long[] yDims = [2, 3, 4];
        yDims[ax] = 6;
        float[] a = Harness.Random((int)Reference.Count(aDims), 1), b = Harness.Random((int)Reference.Count(bDims), 2), c = Harness.Random((int)Reference.Count(cDims), 3);
        var g = new TestGraph().Input("a", aDims).Const("b", b, bDims).Input("c", cDims)
            .Node("Concat", ["a", "b", "c"], "y", yDims, Attr("axis", axis)).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(Reference.Concat([(a, aDims), (b, bDims), (c, cDims)], ax), Harness.Run(lowered, a, c)[0]);
        Assert.Equal(3, lowered.Plan.Steps.Count(s => s.Call == PlanCalls.CopyRows));
        Assert.Equal(SpanSource.Weights, Assert.IsType<SpanArg>(lowered.Plan.Steps[1].Args[0]).Source);
    }

    [Fact]
    public void Concat_into_the_arena_feeds_the_next_node()
    {
        float[] a = Harness.Random(4, 1), b = Harness.Random(6, 2);
        var g = new TestGraph().Input("a", 1, 4).Input("b", 1, 6)
            .Node("Concat", ["a", "b"], "cat", [1, 10], Attr("axis", 1L))
            .Node("Relu", ["cat"], "y", [1, 10]).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(a.Concat(b).Select(v => Math.Max(v, 0)).ToArray(), Harness.Run(lowered, a, b)[0]);
    }
}

public class AliasLoweringTests
{
    [Fact]
    public void Reshape_chain_emits_no_steps_and_reads_the_input_directly()
    {
        float[] x = Harness.Random(2 * 3 * 4, 1), w = Harness.Random(24 * 5, 2);
        var g = new TestGraph().Input("x", 1, 2, 3, 4).Const("W", w, 24, 5).ConstInt64("shape", [1, -1], 2)
            .Node("Reshape", ["x", "shape"], "r", [1, 24])
            .Node("Unsqueeze", ["r"], "u", [1, 1, 24], Ints("axes", 1))
            .Node("Squeeze", ["u"], "s", [1, 24], Ints("axes", 1))
            .Node("Flatten", ["s"], "f", [1, 24], Attr("axis", 1L))
            .Node("Identity", ["f"], "i", [1, 24])
            .Node("MatMul", ["i", "W"], "y", [1, 5]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanArg.Input(0, 0, 24), step.Args[0]);
        Harness.Close(Reference.Gemm(x, w, null, [], 1, 24, 5, false, false, 1, 1), Harness.Run(lowered, x)[0]);
    }

    [Fact]
    public void Reshape_of_a_kernel_output_into_a_graph_output_lets_the_kernel_write_the_output()
    {
        float[] x = Harness.Random(8, 1);
        var g = new TestGraph().Input("x", 1, 8).Const("W", Harness.Random(8 * 6, 2), 8, 6)
            .Node("MatMul", ["x", "W"], "h", [1, 6])
            .Node("Reshape", ["h"], "y", [2, 3]).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanArg.Output(0, 0, 6), step.Args[3]);
        Assert.Equal(0, lowered.Plan.ArenaFloats);
    }

    [Fact]
    public void Reshape_of_a_graph_input_into_a_graph_output_is_copied()
    {
        float[] x = Harness.Random(6, 1);
        var g = new TestGraph().Input("x", 2, 3).Node("Flatten", ["x"], "y", [1, 6], Attr("axis", 0L)).Output("y").Build();
        var lowered = Harness.Lower(g);
        var step = Assert.Single(lowered.Plan.Steps);
        Assert.Equal(PlanCalls.CopyRows, step.Call);
        Assert.Equal(PlanArg.Input(0, 0, 6), step.Args[0]);
        Assert.Equal(PlanArg.Output(0, 0, 6), step.Args[1]);
        Assert.Equal(x, Harness.Run(lowered, x)[0]);
    }

    [Fact]
    public void Two_outputs_aliasing_one_value_get_their_own_copies()
    {
        float[] x = Harness.Random(6, 1);
        var g = new TestGraph().Input("x", 1, 6)
            .Node("Relu", ["x"], "r", [1, 6])
            .Node("Reshape", ["r"], "y1", [2, 3])
            .Node("Flatten", ["r"], "y2", [1, 6], Attr("axis", 1L)).Output("y1", "y2").Build();
        var lowered = Harness.Lower(g);
        Assert.Equal([PlanCalls.Activation, PlanCalls.CopyRows], lowered.Plan.Steps.Select(s => s.Call));
        var outputs = Harness.Run(lowered, x);
        float[] expected = x.Select(v => Math.Max(v, 0)).ToArray();
        Assert.Equal(expected, outputs[0]);
        Assert.Equal(expected, outputs[1]);
    }

    [Fact]
    public void Graph_output_that_is_a_graph_input_or_a_repeat_is_copied()
    {
        float[] x = Harness.Random(5, 1);
        var g = new TestGraph().Input("x", 5).Node("Relu", ["x"], "r", [5]).Output("x", "r", "r").Build();
        var lowered = Harness.Lower(g);
        var outputs = Harness.Run(lowered, x);
        Assert.Equal(x, outputs[0]);
        Assert.Equal(x.Select(v => Math.Max(v, 0)).ToArray(), outputs[1]);
        Assert.Equal(outputs[1], outputs[2]);
        Assert.Equal(["x_2", "r", "r_2"], lowered.Plan.Outputs.Select(o => o.Identifier)); // the input is "x"
    }

    [Fact]
    public void Alias_extends_the_lifetime_of_the_storage_it_shares()
    {
        // h is only read through its alias hr, three nodes later; nothing may reuse h's memory before that.
        float[] x = Harness.Random(16, 1);
        var g = new TestGraph().Input("x", 1, 16).Const("two", [2f])
            .Node("Mul", ["x", "two"], "h", [1, 16])
            .Node("Reshape", ["h"], "hr", [4, 4])
            .Node("Add", ["x", "two"], "a", [1, 16])
            .Node("Sub", ["a", "two"], "b", [1, 16])
            .Node("Mul", ["b", "two"], "c", [1, 16])
            .Node("Reshape", ["c"], "cr", [4, 4])
            .Node("Add", ["hr", "cr"], "y", [4, 4]).Output("y").Build();
        var lowered = Harness.Lower(g);
        Harness.Close(x.Select(v => 2 * v + ((v + 2) - 2) * 2).ToArray(), Harness.Run(lowered, x)[0]);
        var hSpan = (SpanArg)lowered.Plan.Steps[0].Args[3];
        foreach (var step in lowered.Plan.Steps.Skip(1).SkipLast(1))
            Assert.DoesNotContain(PlanInvariants.WrittenSpans(step), w => PlanInvariants.SameBuffer(w, hSpan) && PlanInvariants.Overlap(w, hSpan));
    }
}
