using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Sparse;

[Trait(Simd.Category, Simd.Kernel)]
public class SparseGemmF32Tests
{
    public static TheoryData<int, int, double> GemvShapes()
    {
        var d = new TheoryData<int, int, double>();
        foreach (int k in new[] { 0, 1, 2, 3, 5, 15, 16, 17, 31, 33, 64, 100 })
            foreach (int n in new[] { 0, 1, 5, 16, 17, 33, 100, 255, 256, 257, 300 })
                d.Add(k, n, (k * 7 + n) % 4 switch { 0 => 0.0, 1 => 0.05, 2 => 0.3, _ => 1.0 });
        return d;
    }

    [Theory]
    [MemberData(nameof(GemvShapes))]
    public void Gemv_MatchesNaiveAndDense(int k, int n, double density)
    {
        var rng = new Random(k * 1000 + n);
        bool transposed = (k + n) % 2 == 1;
        var b = SparseData.Unstructured(rng, k, n, density, transposed, emptyRows: [1, 7], denseRows: [2, 40]);
        var x = TestData.Random(rng, k);
        var bias = TestData.Random(rng, n);
        var p = SparseData.PackUnstructured(b, transposed, k, n);
        foreach (var act in SparseData.Activations)
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = GemmF32Tests.Naive(x, b, transposed, withBias ? bias : null, 1, k, n, act);
                var y = TestData.Output(n, out var backing);
                SparseGemmF32.Gemv(TestData.Misaligned(x, out _), TestData.Misaligned(p.Values, out _), p.Indices, p.Rows,
                    withBias ? TestData.Misaligned(bias, out _) : default, y, k, n, act);
                TestData.AssertClose(expected, y, mag, what: $"k={k} n={n} d={density} {act.Kind} bias={withBias}");
                TestData.AssertGuards(backing, n);
                TestData.AssertClose(SparseData.Dense(x, b, transposed, withBias ? bias : null, 1, k, n, act), y, mag, what: "vs GemmF32");
            }
    }

    /// <summary>Rows of very different lengths: the packer sorts them, and every path must put the results back in order.</summary>
    [Theory]
    [InlineData(1, 40, 300)]
    [InlineData(1, 90, 530)]
    [InlineData(1, 200, 100)]
    [InlineData(5, 90, 530)]
    [InlineData(3, 33, 257)]
    public void SortedLayout_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m + k + n);
        bool transposed = n % 2 == 0;
        var b = SparseData.Skewed(rng, k, n, transposed);
        var p = SparseData.PackUnstructured(b, transposed, k, n);
        Assert.True(SparseData.IsSorted(p.Rows, n, 16));
        var a = TestData.Random(rng, m * k);
        var bias = TestData.Random(rng, n);
        foreach (var act in new[] { FusedActivation.Relu, new FusedActivation(ActivationKind.Sigmoid, 0, 0) })
        {
            var (expected, mag) = GemmF32Tests.Naive(a, b, transposed, bias, m, k, n, act);
            var c = TestData.Output(m * n, out var backing);
            SparseGemmF32.Gemm(a, p.Values, p.Indices, p.Rows, bias, c, m, k, n, act);
            TestData.AssertClose(expected, c, mag, what: $"m={m} k={k} n={n} {act.Kind}");
            TestData.AssertGuards(backing, m * n);
        }
        foreach (string isa in new[] { "Vector512", "Vector256", "Vector128" })
        {
            if (Body(isa) is not { } body) continue;
            var expected = new float[n];
            var actual = new float[n];
            Run(SparseGemmF32.Gemv_F32_Scalar, a, p, bias, expected, 0, k, n, FusedActivation.None);
            Run(body, a, p, bias, actual, 0, k, n, FusedActivation.None);
            TestData.AssertClose(expected, actual, 1e-5f * k, isa);
        }
    }

    /// <summary>Successive calls walk the weights in alternating directions; the results must not change by a bit.</summary>
    [Fact]
    public void RepeatedCalls_AreBitIdentical()
    {
        var rng = new Random(21);
        int k = 300, n = 700;
        foreach (var b in new[] { SparseData.Unstructured(rng, k, n, 0.1, true), SparseData.Skewed(rng, k, n, true) })
        {
            var p = SparseData.PackUnstructured(b, true, k, n);
            var x = TestData.Random(rng, k);
            var bias = TestData.Random(rng, n);
            var first = new float[n];
            SparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, bias, first, k, n, FusedActivation.Relu);
            for (int call = 0; call < 3; call++)
            {
                var again = new float[n];
                SparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, bias, again, k, n, FusedActivation.Relu);
                Assert.Equal(first, again);
            }
        }
    }

    public static TheoryData<int, int, int> GemmShapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int m in new[] { 0, 1, 2, 3, 4, 5, 7, 8, 9 })
            foreach (var (k, n) in new[] { (1, 1), (3, 17), (16, 16), (17, 33), (40, 64), (100, 257) })
                d.Add(m, k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void Gemm_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m * 7919 + k * 31 + n);
        bool transposed = n % 2 == 0;
        var b = SparseData.Unstructured(rng, k, n, 0.2, transposed, emptyRows: [0], denseRows: [3]);
        var a = TestData.Random(rng, m * k);
        var bias = TestData.Random(rng, n);
        var p = SparseData.PackUnstructured(b, transposed, k, n);
        foreach (var act in new[] { FusedActivation.None, FusedActivation.Relu, new FusedActivation(ActivationKind.Tanh, 0, 0) })
        {
            var (expected, mag) = GemmF32Tests.Naive(a, b, transposed, bias, m, k, n, act);
            var c = TestData.Output(m * n, out var backing);
            SparseGemmF32.Gemm(TestData.Misaligned(a, out _), p.Values, p.Indices, p.Rows, bias, c, m, k, n, act);
            TestData.AssertClose(expected, c, mag, what: $"m={m} k={k} n={n} {act.Kind}");
            TestData.AssertGuards(backing, m * n);
        }
    }

    public delegate void GemvBody(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act);

    public static TheoryData<string> Bodies() => new() { "Vector512", "Vector256", "Vector128", "Scalar" };

    /// <summary>The body, or null when this CPU (or this child process) cannot run it.</summary>
    internal static GemvBody? Body(string isa) => isa switch
    {
        "Vector512" => Avx512F.IsSupported ? SparseGemmF32.Gemv_F32_16_Vector512 : null,
        "Vector256" => Avx2.IsSupported ? SparseGemmF32.Gemv_F32_16_Vector256 : null,
        "Vector128" => Vector128.IsHardwareAccelerated ? SparseGemmF32.Gemv_F32_16_Vector128 : null,
        _ => SparseGemmF32.Gemv_F32_Scalar,
    };

    /// <summary>Every ISA body against the scalar twin (same summation per lane, so only FMA rounding differs).</summary>
    [Theory]
    [MemberData(nameof(Bodies))]
    public void Bodies_MatchScalarTwin(string isa)
    {
        if (Body(isa) is not { } body) return;
        var rng = new Random(7);
        foreach (int k in new[] { 1, 7, 16, 17, 40, 300 })
            foreach (int n in new[] { 1, 16, 17, 100, 256, 300, 530 })
            {
                var b = SparseData.Unstructured(rng, k, n, 0.15, true, emptyRows: [0], denseRows: [n - 1]);
                var p = SparseData.PackUnstructured(b, true, k, n);
                var x = TestData.Random(rng, k);
                var bias = TestData.Random(rng, n);
                var act = new FusedActivation(ActivationKind.LeakyRelu, 0.1f, 0);
                var expected = new float[n];
                var actual = new float[n + 1];
                Run(SparseGemmF32.Gemv_F32_Scalar, x, p, bias, expected, 0, k, n, act);
                Run(body, x, p, bias, actual, 1, k, n, act);
                TestData.AssertClose(expected, actual.AsSpan(1), 1e-5f * Math.Max(1, k), $"{isa} k={k} n={n}");
                Assert.Equal(0f, actual[0]);
            }
    }

    private static void Run(GemvBody body, float[] x, SparseData.Packed p, float[] bias, float[] y, int offset, int k, int n, in FusedActivation act) =>
        body(ref MemoryMarshal.GetArrayDataReference(x), ref MemoryMarshal.GetArrayDataReference(p.Values), ref MemoryMarshal.GetArrayDataReference(p.Indices),
            ref MemoryMarshal.GetArrayDataReference(p.Rows), ref MemoryMarshal.GetArrayDataReference(bias), true, ref y[offset], k, n, act);

    [Theory]
    [InlineData(1, 1, 1.0)]
    [InlineData(17, 33, 0.3)]
    [InlineData(300, 40, 0.05)]
    [InlineData(16, 600, 0.5)]
    [InlineData(64, 64, 0.0)]
    public void Pack_RoundTrips_AndFillsExactlyTheReportedLengths(int k, int n, double density)
    {
        var rng = new Random(k + n);
        foreach (bool transposed in new[] { false, true })
        {
            var b = SparseData.Unstructured(rng, k, n, density, transposed, emptyRows: [0], denseRows: [n - 1]);
            var p = SparseData.PackUnstructured(b, transposed, k, n);
            var back = new float[k * n];
            SparseGemmF32.Unpack(p.Values, p.Indices, p.Rows, transposed, k, n, back);
            Assert.Equal(b, back);
            int slices = (n + 15) / 16, steps = p.Rows[slices];
            Assert.Equal(steps * 16, p.Values.Length);
            Assert.Equal(steps * 5, p.Indices.Length);
            Assert.Equal(slices + 1 + slices * 16, p.Rows.Length);
            Assert.Equal(b.Count(v => v != 0f), p.Values.Count(v => v != 0f));
        }
    }

    /// <summary>
    /// Windows stay inside x (base ≤ k − 16 when k ≥ 16) and every row appears once. Rows whose lengths vary a lot are
    /// sorted by decreasing non-zero count inside each window of 256 rows (the padding saved pays for putting the
    /// results back in order); uniformly random rows keep their order (the kernels then skip the unpermuting).
    /// </summary>
    [Fact]
    public void Layout_WindowsInsideX_RowsSortedOnlyWhereItPays()
    {
        var rng = new Random(3);
        int k = 90, n = 530, slices = (n + 15) / 16;
        // Skewed: every third row 90 % dense, the others 2 %.
        var skewed = new float[k * n];
        for (int row = 0; row < n; row++)
            for (int col = 0; col < k; col++)
                if (rng.NextDouble() < (row % 3 == 0 ? 0.9 : 0.02)) skewed[row * k + col] = 1f;
        var p = SparseData.PackUnstructured(skewed, true, k, n);
        for (int t = 0; t < p.Rows[slices]; t++) Assert.InRange(p.Indices[t * 5], 0, k - 16);
        var laneRows = p.Rows.AsSpan(slices + 1).ToArray();
        Assert.Equal(Enumerable.Range(0, n), laneRows.Where(r => r >= 0).Order());
        // The two full windows save far more than they cost and are sorted; the last (18 rows) is not worth it.
        for (int i = 0; i < laneRows.Length; i++)
        {
            if (laneRows[i] < 0) continue;
            Assert.Equal(i / 256, laneRows[i] / 256);
            if (i < 512 && i % 256 != 0) Assert.True(Count(skewed, k, laneRows[i - 1]) >= Count(skewed, k, laneRows[i]), $"lane {i}");
            if (i >= 512) Assert.Equal(i, laneRows[i]);
        }
        Assert.NotEqual(Enumerable.Range(0, n), laneRows.Take(n));
        // Uniform: identity order, padding lanes −1.
        var uniform = SparseData.Unstructured(rng, k, n, 0.1, true);
        p = SparseData.PackUnstructured(uniform, true, k, n);
        Assert.Equal(Enumerable.Range(0, n).Concat(Enumerable.Repeat(-1, slices * 16 - n)), p.Rows.Skip(slices + 1));
    }

    private static int Count(float[] b, int k, int row) => b.AsSpan(row * k, k).ToArray().Count(v => v != 0f);

    [Fact]
    public void TooShortSpans_AndBadShapes_Throw()
    {
        int k = 20, n = 18;
        var b = SparseData.Unstructured(new Random(1), k, n, 0.5, false);
        var p = SparseData.PackUnstructured(b, false, k, n);
        var x = new float[k];
        var y = new float[n];
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(new float[k - 1], p.Values, p.Indices, p.Rows, default, y, k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values.AsSpan(1), p.Indices, p.Rows, default, y, k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices.AsSpan(1), p.Rows, default, y, k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows.AsSpan(1), default, y, k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, new float[n - 1], y, k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices, p.Rows, default, new float[n - 1], k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemm(new float[2 * k - 1], p.Values, p.Indices, p.Rows, default, new float[2 * n], 2, k, n, default));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Pack(b, false, k, n, new float[p.Values.Length - 1], p.Indices, p.Rows));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Pack(b, false, k, n, p.Values, new ushort[p.Indices.Length - 1], p.Rows));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Pack(b, false, k, n, p.Values, p.Indices, new int[p.Rows.Length - 1]));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.PackedLengths(b.AsSpan(1), false, k, n));
        Assert.Throws<ArgumentException>(() => SparseGemmF32.PackedLengths(new float[65537], false, 65537, 1));
        Assert.ThrowsAny<ArgumentException>(() => SparseGemmF32.PackedLengths(b, false, -1, n));
        // Offsets that decrease, do not start at 0 or run past the arrays are rejected on every call.
        var bad = (int[])p.Rows.Clone();
        bad[1] = bad[2] + 1;
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices, bad, default, y, k, n, default));
        bad = (int[])p.Rows.Clone();
        bad[(n + 15) / 16] += 1;
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices, bad, default, y, k, n, default));
        bad = (int[])p.Rows.Clone();
        bad[0] = 1;
        Assert.Throws<ArgumentException>(() => SparseGemmF32.Gemv(x, p.Values, p.Indices, bad, default, y, k, n, default));
    }

    /// <summary>Garbage window bases and lane rows (valid offsets) give garbage outputs but never read or write outside the spans.</summary>
    [Fact]
    public void CorruptIndices_StayInBounds()
    {
        var rng = new Random(9);
        foreach (int k in new[] { 3, 20, 100 })
        {
            int n = 40;
            var p = SparseData.PackUnstructured(SparseData.Unstructured(rng, k, n, 0.5, true), true, k, n);
            for (int i = 0; i < p.Indices.Length; i++) p.Indices[i] = (ushort)rng.Next(65536);
            int slices = (n + 15) / 16;
            for (int i = slices + 1; i < p.Rows.Length; i++) p.Rows[i] = rng.Next(-5, 2 * n);
            var y = TestData.Output(n, out var backing);
            SparseGemmF32.Gemv(TestData.Random(rng, k), p.Values, p.Indices, p.Rows, default, y, k, n, default);
            TestData.AssertGuards(backing, n);
            var c = TestData.Output(5 * n, out backing);
            SparseGemmF32.Gemm(TestData.Random(rng, 5 * k), p.Values, p.Indices, p.Rows, default, c, 5, k, n, default);
            TestData.AssertGuards(backing, 5 * n);
        }
    }
}
