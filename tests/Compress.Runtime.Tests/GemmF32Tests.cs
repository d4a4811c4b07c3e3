using System.Runtime.InteropServices;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class GemmF32Tests
{
    /// <summary>C = act(A·B + bias) by the textbook triple loop in double, on the unpacked B; also Σ|terms| per output.</summary>
    internal static (float[] C, float[] Magnitude) Naive(float[] a, float[] b, bool transposed, float[]? bias, int m, int k, int n, FusedActivation act)
    {
        var c = new float[m * n];
        var mag = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = bias?[j] ?? 0, abs = Math.Abs(bias?[j] ?? 0);
                for (int kk = 0; kk < k; kk++)
                {
                    double t = (double)a[i * k + kk] * (transposed ? b[j * k + kk] : b[kk * n + j]);
                    sum += t;
                    abs += Math.Abs(t);
                }
                c[i * n + j] = (float)TestData.Act(sum, act);
                mag[i * n + j] = (float)abs * TestData.Slope(act);
            }
        return (c, mag);
    }

    internal static float[] Pack(float[] b, bool transposed, int k, int n)
    {
        var packed = new float[GemmF32.PackedLength(k, n)];
        GemmF32.PackB(b, transposed, k, n, packed);
        return packed;
    }

    public static TheoryData<int, int> GemvShapes()
    {
        var d = new TheoryData<int, int>();
        foreach (int k in new[] { 0, 1, 2, 3, 5, 16, 17, 64 })
            foreach (int n in new[] { 0, 1, 5, 15, 16, 17, 31, 33, 48, 63, 64, 65, 100, 127, 128, 129, 200, 256 })
                d.Add(k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(GemvShapes))]
    public void Gemv_MatchesNaive(int k, int n)
    {
        var rng = new Random(k * 1000 + n);
        var x = TestData.Random(rng, k);
        var b = TestData.Random(rng, k * n);
        var bias = TestData.Random(rng, n);
        bool transposed = (k + n) % 2 == 1;
        var packed = Pack(b, transposed, k, n);
        foreach (var act in TestData.Activations)
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = Naive(x, b, transposed, withBias ? bias : null, 1, k, n, act);
                var y = TestData.Output(n, out var backing);
                GemmF32.Gemv(TestData.Misaligned(x, out _), TestData.Misaligned(packed, out _), withBias ? TestData.Misaligned(bias, out _) : default, y, k, n, act);
                TestData.AssertClose(expected, y, mag, what: $"Gemv k={k} n={n} {act.Kind} bias={withBias}");
                TestData.AssertGuards(backing, n);
            }
    }

    public delegate void GemvBody(ref float x, ref float b, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act);

    public static TheoryData<string> GemvBodies() => new() { "Vector512", "Vector256", "Vector128", "Scalar" };

    internal static GemvBody Body(string isa) => isa switch
    {
        "Vector512" => GemmF32.Gemv_F32_8x16_Vector512,
        "Vector256" => GemmF32.Gemv_F32_4x16_Vector256,
        "Vector128" => GemmF32.Gemv_F32_2x16_Vector128,
        _ => GemmF32.Gemv_F32_Scalar,
    };

    /// <summary>Every ISA body against the scalar twin, whatever the CPU picks (narrower vectors run everywhere).</summary>
    [Theory]
    [MemberData(nameof(GemvBodies))]
    public void GemvBodies_MatchScalarTwin(string isa)
    {
        var body = Body(isa);
        var rng = new Random(7);
        foreach (int k in new[] { 1, 3, 8, 33 })
            foreach (int n in new[] { 1, 16, 17, 40, 64, 80, 129, 255, 256, 300 })
                foreach (var act in new[] { FusedActivation.None, new FusedActivation(ActivationKind.Relu, 0, 0), new FusedActivation(ActivationKind.HardSwish, 0, 0) })
                {
                    var x = TestData.Random(rng, k);
                    var packed = Pack(TestData.Random(rng, k * n), false, k, n);
                    var bias = TestData.Random(rng, n);
                    var expected = new float[n];
                    var actual = new float[n + 1];
                    GemmF32.Gemv_F32_Scalar(ref x[0], ref packed[0], ref bias[0], true, ref expected[0], k, n, act);
                    body(ref x[0], ref packed[0], ref bias[0], true, ref actual[1], k, n, act);
                    TestData.AssertClose(expected, actual.AsSpan(1), 1e-5f * k, $"{isa} k={k} n={n}");
                    Assert.Equal(0f, actual[0]);
                }
    }

    public static TheoryData<int, int, int> GemmShapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int m in new[] { 0, 1, 2, 3, 4, 5, 7, 8, 9 })
            foreach (var (k, n) in new[] { (1, 1), (3, 17), (16, 16), (17, 33), (8, 64), (5, 100), (32, 129) })
                d.Add(m, k, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void Gemm_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m * 7919 + k * 31 + n);
        var a = TestData.Random(rng, m * k);
        var b = TestData.Random(rng, k * n);
        var bias = TestData.Random(rng, n);
        bool transposed = n % 2 == 0;
        var packed = Pack(b, transposed, k, n);
        foreach (var act in new[] { FusedActivation.None, FusedActivation.Relu, new FusedActivation(ActivationKind.Sigmoid, 0, 0), new FusedActivation(ActivationKind.Clip, -0.5f, 0.5f) })
            foreach (bool withBias in new[] { true, false })
            {
                var (expected, mag) = Naive(a, b, transposed, withBias ? bias : null, m, k, n, act);
                var c = TestData.Output(m * n, out var backing);
                GemmF32.Gemm(TestData.Misaligned(a, out _), packed, withBias ? bias : default, c, m, k, n, act);
                TestData.AssertClose(expected, c, mag, what: $"Gemm m={m} k={k} n={n} {act.Kind}");
                TestData.AssertGuards(backing, m * n);
            }
    }

    public delegate void GemmBody(ref float a, ref float b, ref float bias, bool hasBias, ref float c, int m, int k, int n, in FusedActivation act);

    [Theory]
    [MemberData(nameof(GemvBodies))]
    public void GemmBodies_MatchScalarTwin(string isa)
    {
        GemmBody body = isa switch
        {
            "Vector512" => GemmF32.Gemm_F32_4x32_Vector512,
            "Vector256" => GemmF32.Gemm_F32_4x16_Vector256,
            "Vector128" => GemmF32.Gemm_F32_2x16_Vector128,
            _ => GemmF32.Gemm_F32_Scalar,
        };
        var rng = new Random(11);
        foreach (int m in new[] { 1, 2, 4, 5, 9 })
            foreach (var (k, n) in new[] { (1, 1), (7, 16), (9, 33), (16, 48), (3, 70) })
            {
                var a = TestData.Random(rng, m * k);
                var packed = Pack(TestData.Random(rng, k * n), false, k, n);
                var bias = TestData.Random(rng, n);
                var expected = new float[m * n];
                var actual = new float[m * n];
                var act = new FusedActivation(ActivationKind.LeakyRelu, 0.2f, 0);
                GemmF32.Gemm_F32_Scalar(ref a[0], ref packed[0], ref bias[0], true, ref expected[0], m, k, n, act);
                body(ref a[0], ref packed[0], ref bias[0], true, ref actual[0], m, k, n, act);
                TestData.AssertClose(expected, actual, 1e-5f * k, $"{isa} m={m} k={k} n={n}");
            }
    }

    [Fact]
    public void PackB_LayoutIsColumnPanelsOf16_ZeroPadded()
    {
        int k = 3, n = 20;
        var b = new float[k * n];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) b[kk * n + j] = kk * 100 + j;
        var packed = Pack(b, false, k, n);
        Assert.Equal(2 * k * 16, packed.Length);
        Assert.Equal(GemmF32.PackedLength(k, n), packed.Length);
        for (int p = 0; p < 2; p++)
            for (int kk = 0; kk < k; kk++)
                for (int j = 0; j < 16; j++)
                {
                    int col = p * 16 + j;
                    Assert.Equal(col < n ? kk * 100 + col : 0, packed[(p * k + kk) * 16 + j]);
                }
        // Transposed input (n×k) packs to the same layout.
        var bt = new float[n * k];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) bt[j * k + kk] = b[kk * n + j];
        Assert.Equal(packed, Pack(bt, true, k, n));
    }

    [Fact]
    public void TooShortSpans_Throw()
    {
        var packed = new float[GemmF32.PackedLength(4, 20)];
        var y = new float[20];
        Assert.Throws<ArgumentException>(() => GemmF32.Gemv(new float[3], packed, default, y, 4, 20, default));
        Assert.Throws<ArgumentException>(() => GemmF32.Gemv(new float[4], packed.AsSpan(1), default, y, 4, 20, default));
        Assert.Throws<ArgumentException>(() => GemmF32.Gemv(new float[4], packed, new float[19], y, 4, 20, default));
        Assert.Throws<ArgumentException>(() => GemmF32.Gemv(new float[4], packed, default, new float[19], 4, 20, default));
        Assert.Throws<ArgumentException>(() => GemmF32.Gemm(new float[7], packed, default, new float[40], 2, 4, 20, default));
        Assert.Throws<ArgumentException>(() => GemmF32.PackB(new float[79], false, 4, 20, packed));
        Assert.ThrowsAny<ArgumentException>(() => GemmF32.PackedLength(-1, 3));
    }
}
