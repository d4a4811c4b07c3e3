using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class WhereF32Tests
{
    public static TheoryData<string, long[], long[], long[]> Cases() => new()
    {
        { "same shape", [2, 3, 5], [2, 3, 5], [2, 3, 5] },
        { "scalar y", [4, 17], [4, 17], [] },
        { "scalar x", [33], [1], [33] },
        { "row and column", [5, 7], [5, 1], [1, 7] },
        { "rank 5", [2, 3, 2, 2, 3], [2, 3, 2, 2, 3], [1, 3, 1, 1, 1] },
        { "empty", [3, 0], [3, 0], [1] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_selects_by_definition(string name, long[] outShape, long[] xShape, long[] yShape)
    {
        var rng = new Random(name.Length);
        int n = (int)outShape.Aggregate(1L, (a, d) => a * d);
        var x = TestData.Random(rng, (int)xShape.Aggregate(1L, (a, d) => a * d));
        var y = TestData.Random(rng, (int)yShape.Aggregate(1L, (a, d) => a * d));
        var condition = Enumerable.Range(0, n).Select(_ => (byte)(rng.Next(3) == 0 ? 0 : rng.Next(1, 256))).ToArray();
        var expected = new float[n];
        var idx = new long[outShape.Length];
        for (int o = 0; o < n; o++)
        {
            long rem = o;
            for (int d = outShape.Length - 1; d >= 0; d--) { idx[d] = rem % outShape[d]; rem /= outShape[d]; }
            expected[o] = condition[o] != 0 ? x[Offset(idx, xShape)] : y[Offset(idx, yShape)];
        }
        var output = TestData.Output(n, out var backing);
        WhereF32.Run(condition, TestData.Misaligned(x, out _), TestData.Misaligned(y, out _), output, Broadcast4.Create(outShape, xShape, yShape));
        Assert.Equal(expected, output.ToArray());
        TestData.AssertGuards(backing, n);
    }

    static long Offset(long[] outIndex, long[] shape)
    {
        long off = 0;
        int shift = outIndex.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++) off = off * shape[d] + (shape[d] == 1 ? 0 : outIndex[d + shift]);
        return off;
    }

    [Fact]
    public void Short_condition_throws()
    {
        Assert.Throws<ArgumentException>(() => WhereF32.Run(new byte[3], new float[4], new float[4], new float[4], Broadcast4.Create([4], [4], [4])));
    }
}
