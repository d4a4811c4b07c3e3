using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Sparse;

[Trait(Simd.Category, Simd.Kernel)]
public class NmGemmF32Tests
{
    public static readonly (int N, int M)[] Patterns = [(2, 4), (1, 4), (4, 8), (2, 8), (1, 2), (3, 7), (1, 16), (5, 16), (16, 16), (1, 1), (2, 3)];

    public static TheoryData<int, int, int, int> GemvCases()
    {
        var d = new TheoryData<int, int, int, int>();
        foreach (var (nmN, nmM) in Patterns)
            foreach (var (k, n) in new[] { (1, 1), (3, 5), (16, 16), (17, 33), (31, 17), (64, 64), (100, 129), (130, 40) })
                d.Add(nmN, nmM, k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(GemvCases))]
    public void Gemv_MatchesNaiveAndDense(int nmN, int nmM, int k, int n)
    {
        var rng = new Random(nmN * 100 + nmM * 10000 + k * 7 + n);
        bool transposed = (k + n + nmN) % 2 == 1;
        var b = SparseData.NM(rng, k, n, nmN, nmM, transposed, full: (k + n) % 3 != 0);
        var x = TestData.Random(rng, k);
        var bias = TestData.Random(rng, n);
        var p = SparseData.PackNM(b, transposed, k, n, nmN, nmM);
        foreach (var act in SparseData.Activations)
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = GemmF32Tests.Naive(x, b, transposed, withBias ? bias : null, 1, k, n, act);
                var y = TestData.Output(n, out var backing);
                NmGemmF32.Gemv(TestData.Misaligned(x, out _), TestData.Misaligned(p.Values, out _), p.Indices,
                    withBias ? TestData.Misaligned(bias, out _) : default, y, k, n, nmN, nmM, act);
                TestData.AssertClose(expected, y, mag, what: $"{nmN}:{nmM} k={k} n={n} {act.Kind} bias={withBias}");
                TestData.AssertGuards(backing, n);
                TestData.AssertClose(SparseData.Dense(x, b, transposed, withBias ? bias : null, 1, k, n, act), y, mag, what: "vs GemmF32");
            }
    }

    [Theory]
    [InlineData(0, 2, 4)]
    [InlineData(2, 2, 4)]
    [InlineData(4, 2, 4)]
    [InlineData(5, 1, 4)]
    [InlineData(9, 3, 7)]
    [InlineData(7, 4, 8)]
    public void Gemm_MatchesNaive(int m, int nmN, int nmM)
    {
        var rng = new Random(m * 31 + nmN * 7 + nmM);
        foreach (var (k, n) in new[] { (1, 1), (20, 17), (64, 48), (33, 100) })
        {
            var b = SparseData.NM(rng, k, n, nmN, nmM, false);
            var a = TestData.Random(rng, m * k);
            var bias = TestData.Random(rng, n);
            var p = SparseData.PackNM(b, false, k, n, nmN, nmM);
            foreach (var act in new[] { FusedActivation.None, FusedActivation.Relu, new FusedActivation(ActivationKind.Tanh, 0, 0) })
            {
                var (expected, mag) = GemmF32Tests.Naive(a, b, false, bias, m, k, n, act);
                var c = TestData.Output(m * n, out var backing);
                NmGemmF32.Gemm(TestData.Misaligned(a, out _), p.Values, p.Indices, bias, c, m, k, n, nmN, nmM, act);
                TestData.AssertClose(expected, c, mag, what: $"m={m} {nmN}:{nmM} k={k} n={n} {act.Kind}");
                TestData.AssertGuards(backing, m * n);
            }
        }
    }

    /// <summary>Successive calls walk the weights in alternating directions; the results must not change by a bit.</summary>
    [Fact]
    public void RepeatedCalls_AreBitIdentical()
    {
        var rng = new Random(22);
        int k = 300, n = 100;
        var p = SparseData.PackNM(SparseData.NM(rng, k, n, 2, 4, true), true, k, n, 2, 4);
        var x = TestData.Random(rng, k);
        var first = new float[n];
        NmGemmF32.Gemv(x, p.Values, p.Indices, default, first, k, n, 2, 4, default);
        for (int call = 0; call < 3; call++)
        {
            var again = new float[n];
            NmGemmF32.Gemv(x, p.Values, p.Indices, default, again, k, n, 2, 4, default);
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
            "Vector256" => Avx2.IsSupported,
            "Vector128" => Vector128.IsHardwareAccelerated,
            _ => true,
        };
        if (!supported) return;
        var rng = new Random(5);
        foreach (var (nmN, nmM) in Patterns)
            foreach (var (k, n) in new[] { (1, 3), (17, 16), (40, 33), (300, 70) })
            {
                var b = SparseData.NM(rng, k, n, nmN, nmM, true);
                var p = SparseData.PackNM(b, true, k, n, nmN, nmM);
                var x = TestData.Random(rng, k);
                var bias = TestData.Random(rng, n);
                var act = new FusedActivation(ActivationKind.LeakyRelu, 0.1f, 0);
                var pattern = new NmGemmF32.Pattern(k, n, nmN, nmM);
                var expected = new float[n];
                var actual = new float[n + 1];
                ref float xs = ref MemoryMarshal.GetArrayDataReference(x);
                ref float vs = ref MemoryMarshal.GetArrayDataReference(p.Values);
                ref ushort ix = ref MemoryMarshal.GetArrayDataReference(p.Indices);
                ref float bi = ref MemoryMarshal.GetArrayDataReference(bias);
                NmGemmF32.Gemv_F32_Scalar(ref xs, ref vs, ref ix, ref bi, true, ref expected[0], pattern, act);
                switch (isa)
                {
                    case "Vector512": NmGemmF32.Gemv_F32_16_Vector512(ref xs, ref vs, ref ix, ref bi, true, ref actual[1], pattern, act); break;
                    case "Vector256": NmGemmF32.Gemv_F32_16_Vector256(ref xs, ref vs, ref ix, ref bi, true, ref actual[1], pattern, act); break;
                    case "Vector128": NmGemmF32.Gemv_F32_16_Vector128(ref xs, ref vs, ref ix, ref bi, true, ref actual[1], pattern, act); break;
                    default: NmGemmF32.Gemv_F32_Scalar(ref xs, ref vs, ref ix, ref bi, true, ref actual[1], pattern, act); break;
                }
                TestData.AssertClose(expected, actual.AsSpan(1), 1e-5f * Math.Max(1, k), $"{isa} {nmN}:{nmM} k={k} n={n}");
                Assert.Equal(0f, actual[0]);
            }
    }

    [Fact]
    public void Pack_RoundTrips_AndSizesAreDataIndependent()
    {
        var rng = new Random(2);
        foreach (var (nmN, nmM) in Patterns)
            foreach (var (k, n) in new[] { (1, 1), (13, 17), (64, 33) })
                foreach (bool transposed in new[] { false, true })
                {
                    var b = SparseData.NM(rng, k, n, nmN, nmM, transposed, full: false);
                    Assert.True(NmGemmF32.Fits(b, transposed, k, n, nmN, nmM));
                    var p = SparseData.PackNM(b, transposed, k, n, nmN, nmM);
                    int steps = (n + 15) / 16 * ((k + nmM - 1) / nmM * nmN);
                    Assert.Equal(steps * 16, p.Values.Length);
                    Assert.Equal(steps * 4, p.Indices.Length);
                    var back = new float[k * n];
                    NmGemmF32.Unpack(p.Values, p.Indices, transposed, k, n, nmN, nmM, back);
                    Assert.Equal(b, back);
                }
    }

    /// <summary>2:4 at K = 1024: half the values of dense, plus 4 bits of position each.</summary>
    [Fact]
    public void PackedLengths_2of4_AreHalfTheDenseValues()
    {
        var lengths = NmGemmF32.PackedLengths(1024, 1024, 2, 4);
        Assert.Equal(512 * 1024, lengths.Values);
        Assert.Equal(512 * 1024 / 4, lengths.Indices);
        Assert.Equal(2L * 1024 * 1024 + 256 * 1024, lengths.Bytes(4));
    }

    [Fact]
    public void PatternViolations_AndBadArguments_Throw()
    {
        var rng = new Random(4);
        int k = 12, n = 5;
        var b = SparseData.NM(rng, k, n, 2, 4, false);
        b[SparseData.Index(false, k, n, 3, 8)] = b[SparseData.Index(false, k, n, 3, 9)] = b[SparseData.Index(false, k, n, 3, 10)] = 1f;
        Assert.False(NmGemmF32.Fits(b, false, k, n, 2, 4));
        Assert.True(NmGemmF32.Fits(b, false, k, n, 3, 4));
        var lengths = NmGemmF32.PackedLengths(k, n, 2, 4);
        var e = Assert.Throws<ArgumentException>(() => NmGemmF32.Pack(b, false, k, n, 2, 4, new float[lengths.Values], new ushort[lengths.Indices]));
        Assert.Contains("Column 3", e.Message);
        Assert.Throws<ArgumentException>(() => NmGemmF32.PackedLengths(k, n, 5, 4));
        Assert.Throws<ArgumentException>(() => NmGemmF32.PackedLengths(k, n, 0, 4));
        Assert.Throws<ArgumentException>(() => NmGemmF32.PackedLengths(k, n, 2, 17));
        var good = SparseData.NM(rng, k, n, 2, 4, false);
        var p = SparseData.PackNM(good, false, k, n, 2, 4);
        Assert.Throws<ArgumentException>(() => NmGemmF32.Pack(good, false, k, n, 2, 4, new float[lengths.Values - 1], new ushort[lengths.Indices]));
        Assert.Throws<ArgumentException>(() => NmGemmF32.Pack(good, false, k, n, 2, 4, new float[lengths.Values], new ushort[lengths.Indices - 1]));
        Assert.Throws<ArgumentException>(() => NmGemmF32.Gemv(new float[k], p.Values.AsSpan(1), p.Indices, default, new float[n], k, n, 2, 4, default));
        Assert.Throws<ArgumentException>(() => NmGemmF32.Gemv(new float[k], p.Values, p.Indices.AsSpan(1), default, new float[n], k, n, 2, 4, default));
        Assert.Throws<ArgumentException>(() => NmGemmF32.Gemv(new float[k - 1], p.Values, p.Indices, default, new float[n], k, n, 2, 4, default));
        Assert.Throws<ArgumentException>(() => NmGemmF32.Gemv(new float[k], p.Values, p.Indices, new float[n - 1], new float[n], k, n, 2, 4, default));
        Assert.Throws<ArgumentException>(() => NmGemmF32.Gemv(new float[k], p.Values, p.Indices, default, new float[n - 1], k, n, 2, 4, default));
    }
}
