using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class Permute6Tests
{
    [Fact]
    public void Identity_IsOneContiguousDim()
    {
        Assert.Equal(new Permute6(1, 1, 1, 1, 1, 24, 0, 0, 0, 0, 0, 1), Permute6.Create([2, 3, 4], [0, 1, 2]));
    }

    [Fact]
    public void NchwToNhwc_MergesSpatialDims()
    {
        // [N,C,H,W] → [N,H,W,C]: H and W stay adjacent in the input, so they merge.
        Assert.Equal(new Permute6(1, 1, 1, 2, 20, 3, 0, 0, 0, 60, 1, 20), Permute6.Create([2, 3, 4, 5], [0, 2, 3, 1]));
    }

    [Fact]
    public void InvalidPerm_Throws()
    {
        Assert.Throws<ArgumentException>(() => Permute6.Create([2, 3], [0, 0]));
        Assert.Throws<ArgumentException>(() => Permute6.Create([2, 3], [0, 2]));
        Assert.Throws<ArgumentException>(() => Permute6.Create([2, 3], [0]));
        Assert.Throws<ArgumentException>(() => Permute6.Create([2, 2, 2, 2, 2, 2, 2], [6, 5, 4, 3, 2, 1, 0]));
    }

    public static TheoryData<long[], int[]> Cases() => new()
    {
        { [2, 3, 4, 5], [0, 2, 3, 1] },
        { [2, 3, 4, 5], [3, 2, 1, 0] },
        { [6, 7], [1, 0] },
        { [1, 17, 1, 3], [3, 1, 2, 0] },
        { [2, 3, 2, 3, 2, 3, 2], [0, 1, 2, 3, 4, 6, 5] },
        { [2, 2, 3, 2, 2, 3], [5, 4, 3, 2, 1, 0] },
        { [4, 0, 3], [2, 1, 0] },
        { [33], [0] },
    };

    /// <summary>Transpose by definition: output coordinate i reads input coordinate j with j[perm[d]] = i[d].</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void CopyPermute_MatchesDefinition(long[] shape, int[] perm)
    {
        int rank = shape.Length;
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var x = Enumerable.Range(0, (int)n).Select(i => (float)i).ToArray();
        var outShape = perm.Select(p => shape[p]).ToArray();
        var expected = new float[n];
        var idx = new long[rank];
        for (long o = 0; o < n; o++)
        {
            long rem = o;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = rem % outShape[d]; rem /= outShape[d]; }
            var inIdx = new long[rank];
            for (int d = 0; d < rank; d++) inIdx[perm[d]] = idx[d];
            long off = 0;
            for (int d = 0; d < rank; d++) off = off * shape[d] + inIdx[d];
            expected[o] = x[off];
        }
        var p6 = Permute6.Create(shape, perm);
        var y = TestData.Output((int)n, out var backing);
        CopyF32.Permute(TestData.Misaligned(x, out _), y, p6);
        Assert.Equal(expected, y.ToArray());
        TestData.AssertGuards(backing, (int)n);
        var reference = new float[n];
        CopyF32.Permute_F32_Scalar(x, reference, p6);
        Assert.Equal(expected, reference);
    }
}
