using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Int8;

/// <summary>The 1×4 block-sparse int8 kernel: exact s32 sums, so every body and every epilogue must match the naive loop bit for bit.
/// In this namespace so the AvxVnni-off child (<see cref="Int8SimdPathTests"/>) re-runs it on the vpmaddwd fallback.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class SparseQGemmU8S8Tests
{
    /// <summary>B (k×n, or n×k when transposed) whose 4-aligned k-groups of each column are kept with probability
    /// <paramref name="density"/>; kept groups have random bytes (zeros included).</summary>
    internal static sbyte[] BlockSparse(Random rng, int k, int n, double density, bool transposed)
    {
        var b = new sbyte[k * n];
        for (int j = 0; j < n; j++)
            for (int g = 0; g < k; g += 4)
            {
                if (rng.NextDouble() >= density) continue;
                for (int kk = g; kk < Math.Min(k, g + 4); kk++) b[transposed ? j * k + kk : kk * n + j] = (sbyte)rng.Next(-128, 128);
            }
        return b;
    }

    internal sealed record Packed(sbyte[] Values, ushort[] Indices, int[] Rows);

    internal static Packed Pack(sbyte[] b, bool transposed, int k, int n)
    {
        var lengths = SparseQGemmU8S8.PackedLengths(b, transposed, k, n);
        var p = new Packed(new sbyte[lengths.Values], new ushort[lengths.Indices], new int[lengths.Rows]);
        SparseQGemmU8S8.Pack(b, transposed, k, n, p.Values, p.Indices, p.Rows);
        return p;
    }

    private static sbyte[] ToKxN(sbyte[] b, bool transposed, int k, int n)
    {
        if (!transposed) return b;
        var t = new sbyte[k * n];
        for (int j = 0; j < n; j++)
            for (int kk = 0; kk < k; kk++) t[kk * n + j] = b[j * k + kk];
        return t;
    }

    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int k in new[] { 0, 1, 3, 4, 5, 63, 64, 65, 130, 300 })
            foreach (int n in new[] { 0, 1, 15, 16, 17, 100, 257 })
                d.Add(1, k, n);
        foreach (int m in new[] { 2, 3, 5 })
            foreach (var (k, n) in new[] { (7, 9), (64, 33), (129, 40) })
                d.Add(m, k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m * 100000 + k * 1000 + n);
        bool transposed = (k + n) % 2 == 1;
        var b = BlockSparse(rng, k, n, 0.3, transposed);
        var p = Pack(b, transposed, k, n);
        var a = Int8Data.Bytes(rng, m * k);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        var (mult, shift) = Int8Data.Multipliers(rng, n, 1e-4, 0.05);
        var bKxN = ToKxN(b, transposed, k, n);
        foreach (var rq in new[] { new Requant(128, 0, 255), new Requant(3, 3, 200) })
            foreach (bool withBias in new[] { true, false })
            {
                var expected = QGemmU8S8Tests.NaiveRequant(QGemmU8S8Tests.NaiveAcc(a, bKxN, false, withBias ? bias : null, m, k, n), mult, shift, m, n, rq);
                var c = Int8Data.Output(m * n, out var backing);
                if (m == 1)
                    SparseQGemmU8S8.Gemv(Int8Data.Misaligned<byte>(a), Int8Data.Misaligned<sbyte>(p.Values), p.Indices, p.Rows, withBias ? bias : default, mult, shift, c, k, n, rq);
                else
                    SparseQGemmU8S8.Gemm(Int8Data.Misaligned<byte>(a), p.Values, p.Indices, p.Rows, withBias ? bias : default, mult, shift, c, m, k, n, rq);
                Int8Data.AssertEqual(expected, c, $"m={m} k={k} n={n} {rq} bias={withBias}");
                Int8Data.AssertGuards(backing, m * n);
            }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 67, 33)]
    [InlineData(3, 256, 100)]
    public void GemmToF32_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m + k + n);
        var b = BlockSparse(rng, k, n, 0.4, false);
        var p = Pack(b, false, k, n);
        var a = Int8Data.Bytes(rng, m * k);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        var scale = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 1e-4)).ToArray();
        var acc = QGemmU8S8Tests.NaiveAcc(a, b, false, bias, m, k, n);
        foreach (var act in TestData.Activations)
        {
            var expected = new float[m * n];
            for (int i = 0; i < m * n; i++) expected[i] = (float)TestData.Act((double)acc[i] * scale[i % n], act);
            var c = TestData.Output(m * n, out var backing);
            if (m == 1) SparseQGemmU8S8.GemvToF32(a, p.Values, p.Indices, p.Rows, bias, scale, c, k, n, act);
            else SparseQGemmU8S8.GemmToF32(a, p.Values, p.Indices, p.Rows, bias, scale, c, m, k, n, act);
            TestData.AssertClose(expected, c, 1e-5f, act.Kind.ToString());
            TestData.AssertGuards(backing, m * n);
        }
    }

    private delegate void Body(ref byte x, ref sbyte values, ref ushort indices, ref int rows, ref RawEpilogue e, int row, int k, int n);

    private static IEnumerable<(string, Body)> Bodies()
    {
        yield return ("Scalar", SparseQGemmU8S8.Gemv_U8S8I32_Scalar);
        if (Sse2.IsSupported) yield return ("Vector128", SparseQGemmU8S8.Gemv_U8S8I32_16_Vector128);
        if (Avx2.IsSupported) yield return ("Avx2", SparseQGemmU8S8.Gemv_U8S8I32_16_Avx2);
        if (Avx512F.IsSupported && AvxVnni.IsSupported) yield return ("Avx512Vnni", SparseQGemmU8S8.Gemv_U8S8I32_16_Avx512Vnni);
    }

    /// <summary>Every body this CPU runs against the naive s32 sums, with 255 × ±128/127 extremes (no saturation anywhere).</summary>
    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(65, 17, false)]
    [InlineData(300, 270, false)]
    [InlineData(1024, 64, true)]
    [InlineData(130, 40, true)]
    public void EveryBody_MatchesNaiveSums(int k, int n, bool extremes)
    {
        var rng = new Random(k * 3 + n);
        var b = BlockSparse(rng, k, n, 0.35, false);
        var x = Int8Data.Bytes(rng, k);
        if (extremes)
        {
            for (int i = 0; i < b.Length; i++) if (b[i] != 0) b[i] = (i / n) % 2 == 0 ? (sbyte)-128 : (sbyte)127;
            for (int i = 0; i < k; i++) x[i] = rng.Next(4) == 0 ? (byte)0 : (byte)255;
        }
        var p = Pack(b, false, k, n);
        var expected = QGemmU8S8Tests.NaiveAcc(x, b, false, null, 1, k, n);
        foreach (var (name, body) in Bodies())
        {
            var acc = new int[n + 1];
            var e = new RawEpilogue(ref acc[1]);
            body(ref MemoryMarshal.GetArrayDataReference(x), ref MemoryMarshal.GetArrayDataReference(p.Values), ref MemoryMarshal.GetArrayDataReference(p.Indices),
                ref MemoryMarshal.GetArrayDataReference(p.Rows), ref e, 0, k, n);
            Assert.True(expected.AsSpan().SequenceEqual(acc.AsSpan(1)), $"{name}: s32 sums differ (k={k} n={n})");
            Assert.Equal(0, acc[0]);
        }
    }

    /// <summary>Rows of very different lengths: the packer sorts them; every body must put the sums back in order.</summary>
    [Theory]
    [InlineData(200, 300)]
    [InlineData(400, 530)]
    public void SortedLayout_EveryBodyMatchesNaiveSums(int k, int n)
    {
        var rng = new Random(k + n);
        var b = new sbyte[k * n];
        for (int j = 0; j < n; j++)
            for (int g = 0; g < k; g += 4)
                if (rng.NextDouble() < (j % 3 == 0 ? 0.9 : 0.03))
                    for (int kk = g; kk < Math.Min(k, g + 4); kk++) b[kk * n + j] = (sbyte)rng.Next(-128, 128);
        var p = Pack(b, false, k, n);
        int slices = (n + 15) / 16;
        Assert.Contains(Enumerable.Range(0, slices * 16), q => p.Rows[slices + 1 + q] >= 0 && p.Rows[slices + 1 + q] != q);
        var x = Int8Data.Bytes(rng, k);
        var expected = QGemmU8S8Tests.NaiveAcc(x, b, false, null, 1, k, n);
        foreach (var (name, body) in Bodies())
        {
            var acc = new int[n];
            var e = new RawEpilogue(ref acc[0]);
            body(ref MemoryMarshal.GetArrayDataReference(x), ref MemoryMarshal.GetArrayDataReference(p.Values), ref MemoryMarshal.GetArrayDataReference(p.Indices),
                ref MemoryMarshal.GetArrayDataReference(p.Rows), ref e, 0, k, n);
            Assert.True(expected.AsSpan().SequenceEqual(acc), $"{name}: s32 sums differ");
        }
    }

    /// <summary>Writes the raw s32 sums of row 0.</summary>
    private ref struct RawEpilogue(ref int c) : IQEpilogue
    {
        private readonly ref int _c = ref c;

        public void Store(int acc, int row, int j) => Unsafe.Add(ref _c, j) = acc;

        public void Store(Vector512<int> acc, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(acc.GetElement(i), row, j + i);
        }

        public void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(i < 8 ? lo.GetElement(i) : hi.GetElement(i - 8), row, j + i);
        }

        public void Store(Vector128<int> acc, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(acc.GetElement(i), row, j + i);
        }
    }

    [Fact]
    public void BlockDensity_CountsFourAlignedGroupsHoldingANonZero()
    {
        // k = 6 (groups {0..3}, {4, 5}), n = 2, W[k, n] row-major: column 0 has non-zeros at k = 1 and 2 (one group),
        // column 1 at k = 5 (the short last group): 2 of 4 groups.
        var b = new sbyte[12];
        b[1 * 2 + 0] = 3;
        b[2 * 2 + 0] = -1;
        b[5 * 2 + 1] = 7;
        Assert.Equal(0.5, SparseQGemmU8S8.BlockDensity(b, transposed: false, 6, 2));
        var bt = new sbyte[12]; // the same W stored [n, k]
        for (int kk = 0; kk < 6; kk++) for (int j = 0; j < 2; j++) bt[j * 6 + kk] = b[kk * 2 + j];
        Assert.Equal(0.5, SparseQGemmU8S8.BlockDensity(bt, transposed: true, 6, 2));
        Assert.Equal(0.0, SparseQGemmU8S8.BlockDensity(new sbyte[12], transposed: false, 6, 2));
    }

    [Fact]
    public void Pack_RoundTrips()
    {
        var rng = new Random(12);
        foreach (var (k, n) in new[] { (1, 1), (5, 3), (66, 70), (257, 20) })
            foreach (bool transposed in new[] { false, true })
            {
                var b = BlockSparse(rng, k, n, 0.3, transposed);
                var p = Pack(b, transposed, k, n);
                var back = new sbyte[k * n];
                SparseQGemmU8S8.Unpack(p.Values, p.Indices, p.Rows, transposed, k, n, back);
                Assert.Equal(b, back);
                int slices = (n + 15) / 16;
                for (int t = 0; t < p.Rows[slices]; t++) Assert.Equal(0, p.Indices[t * 5] % 4);
            }
    }

    [Fact]
    public void BadArguments_Throw_AndCorruptIndicesStayInBounds()
    {
        var rng = new Random(13);
        int k = 70, n = 20;
        var b = BlockSparse(rng, k, n, 0.5, false);
        var p = Pack(b, false, k, n);
        var mult = Enumerable.Repeat(1 << 30, n).ToArray();
        var shift = new int[n];
        var rq = new Requant(0, 0, 255);
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Gemv(new byte[k - 1], p.Values, p.Indices, p.Rows, default, mult, shift, new byte[n], k, n, rq));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Gemv(new byte[k], p.Values.AsSpan(1), p.Indices, p.Rows, default, mult, shift, new byte[n], k, n, rq));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Gemv(new byte[k], p.Values, p.Indices.AsSpan(1), p.Rows, default, mult, shift, new byte[n], k, n, rq));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Gemv(new byte[k], p.Values, p.Indices, p.Rows.AsSpan(1), default, mult, shift, new byte[n], k, n, rq));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Gemv(new byte[k], p.Values, p.Indices, p.Rows, default, mult.AsSpan(1), shift, new byte[n], k, n, rq));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Gemv(new byte[k], p.Values, p.Indices, p.Rows, default, mult, shift, new byte[n - 1], k, n, rq));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.GemvToF32(new byte[k], p.Values, p.Indices, p.Rows, default, new float[n - 1], new float[n], k, n, default));
        Assert.Throws<ArgumentException>(() => SparseQGemmU8S8.Pack(b, false, k, n, new sbyte[p.Values.Length - 1], p.Indices, p.Rows));
        for (int i = 0; i < p.Indices.Length; i++) p.Indices[i] = (ushort)rng.Next(65536);
        for (int i = 2 + 1; i < p.Rows.Length; i++) p.Rows[i] = rng.Next(-3, 3 * n);
        var y = Int8Data.Output(n, out var backing);
        SparseQGemmU8S8.Gemv(Int8Data.Bytes(rng, k), p.Values, p.Indices, p.Rows, default, mult, shift, y, k, n, rq);
        Int8Data.AssertGuards(backing, n);
    }
}
