using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Sparse;

[Trait(Simd.Category, Simd.Kernel)]
public class BlockSparseGemmF32Tests
{
    public static readonly (int R, int C)[] Shapes = [(1, 4), (4, 1), (8, 1)];

    public static TheoryData<int, int, int, int> GemvCases()
    {
        var d = new TheoryData<int, int, int, int>();
        foreach (var (r, c) in Shapes)
            foreach (var (k, n) in new[] { (0, 5), (1, 1), (3, 9), (4, 16), (17, 33), (30, 7), (64, 256), (101, 300), (10, 600) })
                d.Add(r, c, k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(GemvCases))]
    public void Gemv_MatchesNaiveAndDense(int r, int c, int k, int n)
    {
        var rng = new Random(r * 1000 + c * 100 + k * 7 + n);
        bool transposed = (k + n) % 2 == 0;
        foreach (double density in new[] { 0.0, 0.2, 1.0 })
        {
            var b = SparseData.Blocks(rng, k, n, r, c, density, transposed, holes: density < 1);
            var x = TestData.Random(rng, k);
            var bias = TestData.Random(rng, n);
            var p = SparseData.PackBlocks(b, transposed, k, n, r, c);
            foreach (var act in SparseData.Activations)
            {
                var (expected, mag) = GemmF32Tests.Naive(x, b, transposed, bias, 1, k, n, act);
                var y = TestData.Output(n, out var backing);
                BlockSparseGemmF32.Gemv(TestData.Misaligned(x, out _), TestData.Misaligned(p.Values, out _), p.Indices, p.Rows,
                    TestData.Misaligned(bias, out _), y, k, n, r, c, act);
                TestData.AssertClose(expected, y, mag, what: $"{r}x{c} k={k} n={n} d={density} {act.Kind}");
                TestData.AssertGuards(backing, n);
                TestData.AssertClose(SparseData.Dense(x, b, transposed, bias, 1, k, n, act), y, mag, what: "vs GemmF32");
            }
        }
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(4, 1)]
    [InlineData(8, 1)]
    public void Gemm_MatchesNaive(int r, int c)
    {
        var rng = new Random(r + 10 * c);
        foreach (int m in new[] { 0, 1, 3, 4, 6 })
            foreach (var (k, n) in new[] { (2, 3), (18, 17), (64, 40) })
            {
                var b = SparseData.Blocks(rng, k, n, r, c, 0.3, false, holes: true);
                var a = TestData.Random(rng, m * k);
                var p = SparseData.PackBlocks(b, false, k, n, r, c);
                var act = new FusedActivation(ActivationKind.Sigmoid, 0, 0);
                var (expected, mag) = GemmF32Tests.Naive(a, b, false, null, m, k, n, act);
                var cOut = TestData.Output(m * n, out var backing);
                BlockSparseGemmF32.Gemm(a, p.Values, p.Indices, p.Rows, default, cOut, m, k, n, r, c, act);
                TestData.AssertClose(expected, cOut, mag, what: $"{r}x{c} m={m} k={k} n={n}");
                TestData.AssertGuards(backing, m * n);
            }
    }

    /// <summary>Block rows of very different lengths: sorted by the packer, put back in order by every path.</summary>
    [Theory]
    [InlineData(1, 4, 200, 300)]
    [InlineData(4, 1, 90, 530)]
    [InlineData(8, 1, 120, 600)]
    public void SortedLayout_MatchesNaive(int r, int c, int k, int n)
    {
        var rng = new Random(r + c + k + n);
        var b = SparseData.SkewedBlocks(rng, k, n, r, c, false);
        var p = SparseData.PackBlocks(b, false, k, n, r, c);
        Assert.True(SparseData.IsSorted(p.Rows, n, 16 / r));
        var x = TestData.Random(rng, k);
        var bias = TestData.Random(rng, n);
        var (expected, mag) = GemmF32Tests.Naive(x, b, false, bias, 1, k, n, FusedActivation.Relu);
        var y = TestData.Output(n, out var backing);
        BlockSparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, bias, y, k, n, r, c, FusedActivation.Relu);
        TestData.AssertClose(expected, y, mag, what: $"{r}x{c}");
        TestData.AssertGuards(backing, n);
        var shape = new BlockSparseGemmF32.Shape(k, n, r, c);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(x);
        ref float vs = ref MemoryMarshal.GetArrayDataReference(p.Values);
        ref ushort ix = ref MemoryMarshal.GetArrayDataReference(p.Indices);
        ref int rs = ref MemoryMarshal.GetArrayDataReference(p.Rows);
        ref float bi = ref MemoryMarshal.GetArrayDataReference(bias);
        var narrow = new float[n];
        if (Vector256.IsHardwareAccelerated)
        {
            BlockSparseGemmF32.Gemv_F32_16_Vector256(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref narrow[0], shape, FusedActivation.Relu);
            TestData.AssertClose(expected, narrow, mag, what: "Vector256");
        }
        if (Vector128.IsHardwareAccelerated)
        {
            BlockSparseGemmF32.Gemv_F32_16_Vector128(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref narrow[0], shape, FusedActivation.Relu);
            TestData.AssertClose(expected, narrow, mag, what: "Vector128");
        }
    }

    /// <summary>Successive calls walk the weights in alternating directions; the results must not change by a bit.</summary>
    [Theory]
    [InlineData(1, 4)]
    [InlineData(8, 1)]
    public void RepeatedCalls_AreBitIdentical(int r, int c)
    {
        var rng = new Random(23);
        int k = 200, n = 600;
        var b = SparseData.SkewedBlocks(rng, k, n, r, c, true);
        var p = SparseData.PackBlocks(b, true, k, n, r, c);
        var x = TestData.Random(rng, k);
        var first = new float[n];
        BlockSparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, default, first, k, n, r, c, default);
        for (int call = 0; call < 3; call++)
        {
            var again = new float[n];
            BlockSparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, default, again, k, n, r, c, default);
            Assert.Equal(first, again);
        }
    }

    public static TheoryData<string> Bodies() => new() { "Vector512", "Vector256", "Vector128", "Scalar" };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Bodies_MatchScalarTwin(string isa)
    {
        bool supported = isa switch
        {
            "Vector512" => Avx512F.IsSupported,
            "Vector256" => Vector256.IsHardwareAccelerated,
            "Vector128" => Vector128.IsHardwareAccelerated,
            _ => true,
        };
        if (!supported) return;
        var rng = new Random(8);
        foreach (var (r, c) in Shapes)
            foreach (var (k, n) in new[] { (4, 16), (9, 17), (66, 100), (200, 530) })
            {
                var b = SparseData.Blocks(rng, k, n, r, c, 0.25, true, holes: true);
                var p = SparseData.PackBlocks(b, true, k, n, r, c);
                var x = TestData.Random(rng, k);
                var bias = TestData.Random(rng, n);
                var act = FusedActivation.Relu;
                var shape = new BlockSparseGemmF32.Shape(k, n, r, c);
                var expected = new float[n];
                var actual = new float[n + 1];
                ref float xs = ref MemoryMarshal.GetArrayDataReference(x);
                ref float vs = ref MemoryMarshal.GetArrayDataReference(p.Values);
                ref ushort ix = ref MemoryMarshal.GetArrayDataReference(p.Indices);
                ref int rs = ref MemoryMarshal.GetArrayDataReference(p.Rows);
                ref float bi = ref MemoryMarshal.GetArrayDataReference(bias);
                BlockSparseGemmF32.Gemv_F32_Scalar(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref expected[0], shape, act);
                switch (isa)
                {
                    case "Vector512" when c == 4: BlockSparseGemmF32.Gemv_F32_1x4_Vector512(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref actual[1], shape, act); break;
                    case "Vector512": BlockSparseGemmF32.Gemv_F32_Rx1_Vector512(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref actual[1], shape, act); break;
                    case "Vector256": BlockSparseGemmF32.Gemv_F32_16_Vector256(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref actual[1], shape, act); break;
                    case "Vector128": BlockSparseGemmF32.Gemv_F32_16_Vector128(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref actual[1], shape, act); break;
                    default: BlockSparseGemmF32.Gemv_F32_Scalar(ref xs, ref vs, ref ix, ref rs, ref bi, true, ref actual[1], shape, act); break;
                }
                TestData.AssertClose(expected, actual.AsSpan(1), 1e-5f * Math.Max(1, k), $"{isa} {r}x{c} k={k} n={n}");
                Assert.Equal(0f, actual[0]);
            }
    }

    [Fact]
    public void Pack_RoundTrips_WithPartialBlocksAtTheEdges()
    {
        var rng = new Random(6);
        foreach (var (r, c) in Shapes)
            foreach (var (k, n) in new[] { (1, 1), (3, 3), (6, 9), (17, 33), (64, 300) })
                foreach (bool transposed in new[] { false, true })
                {
                    var b = SparseData.Blocks(rng, k, n, r, c, 0.4, transposed, holes: true);
                    var p = SparseData.PackBlocks(b, transposed, k, n, r, c);
                    var back = new float[k * n];
                    BlockSparseGemmF32.Unpack(p.Values, p.Indices, p.Rows, transposed, k, n, r, c, back);
                    Assert.Equal(b, back);
                    int slices = (n + 15) / 16, steps = p.Rows[slices];
                    Assert.Equal(steps * 16 * c, p.Values.Length);
                    Assert.Equal(steps * 16 / r, p.Indices.Length);
                    for (int i = 0; i < steps * 16 / r; i++) Assert.InRange(p.Indices[i], 0, Math.Max(0, k - c));
                }
    }

    /// <summary>A 1×4 matrix with 90 % of its blocks pruned stores 10 % of the values and one index per block.</summary>
    [Fact]
    public void PackedLengths_CountWholeBlocks()
    {
        int k = 64, n = 32;
        var b = new float[k * n];
        // Row j keeps blocks 0 and j % 16 (one block when j % 16 == 0): W is n×k (transposed layout).
        for (int j = 0; j < n; j++)
        {
            b[j * k] = 1f;
            b[j * k + 4 * (j % 16) + 3] = 2f;
        }
        var lengths = BlockSparseGemmF32.PackedLengths(b, true, k, n, 1, 4);
        Assert.Equal(2 * 2 * 64, lengths.Values); // 2 slices × 2 steps × 64 values
        Assert.Equal(2 * 2 * 16, lengths.Indices);
        Assert.Equal(2 + 1 + 2 * 16, lengths.Rows);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        int k = 12, n = 20;
        var b = SparseData.Blocks(new Random(1), k, n, 4, 1, 0.5, false);
        var p = SparseData.PackBlocks(b, false, k, n, 4, 1);
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.PackedLengths(b, false, k, n, 2, 2));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.PackedLengths(b, false, k, n, 1, 1));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.Gemv(new float[k], p.Values.AsSpan(1), p.Indices, p.Rows, default, new float[n], k, n, 4, 1, default));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.Gemv(new float[k], p.Values, p.Indices.AsSpan(1), p.Rows, default, new float[n], k, n, 4, 1, default));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.Gemv(new float[k], p.Values, p.Indices, p.Rows.AsSpan(1), default, new float[n], k, n, 4, 1, default));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.Gemv(new float[k - 1], p.Values, p.Indices, p.Rows, default, new float[n], k, n, 4, 1, default));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.Gemv(new float[k], p.Values, p.Indices, p.Rows, default, new float[n - 1], k, n, 4, 1, default));
        Assert.Throws<ArgumentException>(() => BlockSparseGemmF32.Pack(b, false, k, n, 4, 1, new float[p.Values.Length - 1], p.Indices, p.Rows));
        // Corrupt block columns are clamped: garbage out, but nothing outside the spans is touched.
        for (int i = 0; i < p.Indices.Length; i++) p.Indices[i] = 60000;
        var y = TestData.Output(n, out var backing);
        BlockSparseGemmF32.Gemv(new float[k], p.Values, p.Indices, p.Rows, default, y, k, n, 4, 1, default);
        TestData.AssertGuards(backing, n);
    }
}
