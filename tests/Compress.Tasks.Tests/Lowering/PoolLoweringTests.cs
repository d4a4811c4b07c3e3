using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

public class PoolLoweringTests
{
    public sealed record Case(string Name, int H, int W, int Kh, int Kw, int S, int Pt, int Pl, int Pb, int Pr,
        int D = 1, bool Ceil = false, bool IncludePad = false)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases => new()
    {
        new Case("2x2 stride 2", 8, 8, 2, 2, 2, 0, 0, 0, 0),
        new Case("3x3 stride 2 pad 1", 9, 9, 3, 3, 2, 1, 1, 1, 1),
        new Case("3x3 stride 1 pad 1 count pads", 6, 5, 3, 3, 1, 1, 1, 1, 1, IncludePad: true),
        new Case("asymmetric pads", 7, 6, 3, 2, 1, 0, 1, 2, 0),
        new Case("ceil mode", 7, 7, 2, 2, 2, 0, 0, 0, 0, Ceil: true),
        new Case("ceil mode pads counted", 6, 6, 3, 3, 2, 1, 1, 1, 1, Ceil: true, IncludePad: true),
        new Case("dilation 2", 9, 9, 2, 2, 1, 0, 0, 0, 0, D: 2),
    };

    static (int Oh, int Ow) OutSize(Case c)
    {
        int Size(int input, int k, int pb, int pe)
        {
            int span = (k - 1) * c.D + 1, room = input + pb + pe - span;
            int o = (c.Ceil ? (room + c.S - 1) / c.S : room / c.S) + 1;
            if (c.Ceil && (o - 1) * c.S >= input + pb) o--;
            return o;
        }
        return (Size(c.H, c.Kh, c.Pt, c.Pb), Size(c.W, c.Kw, c.Pl, c.Pr));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MaxPool_matches_reference(Case c) => Check("MaxPool", c);

    [Theory]
    [MemberData(nameof(Cases))]
    public void AveragePool_matches_reference(Case c) => Check("AveragePool", c);

    static void Check(string op, Case c)
    {
        const int n = 1, ch = 3;
        var (oh, ow) = OutSize(c);
        float[] x = Harness.Random(n * ch * c.H * c.W, 1);
        var attrs = new List<(string, AttributeValue)>
        {
            Ints("kernel_shape", c.Kh, c.Kw), Ints("strides", c.S, c.S), Ints("pads", c.Pt, c.Pl, c.Pb, c.Pr),
            Ints("dilations", c.D, c.D), Attr("ceil_mode", c.Ceil ? 1L : 0L),
        };
        if (op == "AveragePool") attrs.Add(Attr("count_include_pad", c.IncludePad ? 1L : 0L));
        var g = new TestGraph().Input("x", n, ch, c.H, c.W).Node(op, ["x"], "y", [n, ch, oh, ow], attrs.ToArray()).Output("y").Build();
        var lowered = Harness.Lower(g);
        var expected = Reference.Pool(op == "MaxPool", x, n * ch, c.H, c.W, oh, ow, c.Kh, c.Kw, c.S, c.S, c.Pt, c.Pl, c.Pb, c.Pr, c.D, c.D,
            op == "AveragePool" && c.IncludePad);
        Harness.Close(expected, Harness.Run(lowered, x)[0]);
        Assert.Equal(op == "MaxPool" ? PlanCalls.MaxPool : PlanCalls.AveragePool, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void Pool_auto_pad_same_upper()
    {
        float[] x = Harness.Random(2 * 7 * 7, 1);
        var g = new TestGraph().Input("x", 1, 2, 7, 7)
            .Node("MaxPool", ["x"], "y", [1, 2, 4, 4], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Attr("auto_pad", "SAME_UPPER"))
            .Output("y").Build();
        // total pad (4-1)·2 + 3 − 7 = 2 → 1 before, 1 after.
        Harness.Close(Reference.Pool(true, x, 2, 7, 7, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false), Harness.Run(g, x)[0]);
    }

    [Fact]
    public void GlobalAveragePool_averages_each_plane()
    {
        float[] x = Harness.Random(2 * 5 * 3 * 4, 1);
        var g = new TestGraph().Input("x", 2, 5, 3, 4).Node("GlobalAveragePool", ["x"], "y", [2, 5, 1, 1]).Output("y").Build();
        var expected = Enumerable.Range(0, 10).Select(p => x.Skip(p * 12).Take(12).Average()).ToArray();
        var lowered = Harness.Lower(g);
        Harness.Close(expected, Harness.Run(lowered, x)[0]);
        Assert.Equal(PlanCalls.GlobalAveragePool, Assert.Single(lowered.Plan.Steps).Call);
    }

    [Fact]
    public void GlobalMaxPool_takes_each_plane_max()
    {
        float[] x = Harness.Random(3 * 4 * 5, 1);
        var g = new TestGraph().Input("x", 1, 3, 4, 5).Node("GlobalMaxPool", ["x"], "y", [1, 3, 1, 1]).Output("y").Build();
        var expected = Enumerable.Range(0, 3).Select(p => x.Skip(p * 20).Take(20).Max()).ToArray();
        Harness.Close(expected, Harness.Run(g, x)[0]);
    }

    [Fact]
    public void MaxPool_with_used_indices_is_unsupported()
    {
        var g = new TestGraph().Input("x", 1, 1, 4, 4)
            .Raw(global::Compress.Tasks.Graph.Node.Create("/pool", "MaxPool", ["x"], ["y", "idx"], [KeyValuePair.Create("kernel_shape", AttributeValue.Of(2L, 2L))]))
            .Value("y", DataType.Float, 1, 1, 3, 3).Value("idx", DataType.Float, 1, 1, 3, 3)
            .Node("Add", ["y", "idx"], "z", [1, 1, 3, 3])
            .Output("z").Build();
        var e = Assert.Throws<Diagnostics.CompressException>(() => Harness.Lower(g));
        Assert.Equal(Diagnostics.ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("'/pool' (MaxPool)", e.Message);
        Assert.Contains("idx", e.Message);
    }
}
