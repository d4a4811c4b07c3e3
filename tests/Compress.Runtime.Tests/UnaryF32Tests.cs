using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class UnaryF32Tests
{
    /// <summary>The definition in double precision (erf by <see cref="ErfReference"/>).</summary>
    static double Definition(UnaryOp op, double x) => op switch
    {
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Neg => -x,
        UnaryOp.Reciprocal => 1 / x,
        UnaryOp.Floor => Math.Floor(x),
        UnaryOp.Ceil => Math.Ceiling(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Erf => ErfReference.Erf(x),
        UnaryOp.Gelu => 0.5 * x * (1 + ErfReference.Erf(x / Math.Sqrt(2))),
        UnaryOp.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    [Theory]
    [MemberData(nameof(TestData.LengthData), MemberType = typeof(TestData))]
    public void Run_MatchesDefinition(int n)
    {
        foreach (UnaryOp op in Enum.GetValues<UnaryOp>())
        {
            // Wide values (Floor/Ceil/Exp/Erf see both signs and fractions); Sqrt, Log and Reciprocal positive, away from 0.
            var x = TestData.Random(new Random(n + (int)op), n, 4f);
            if (op is UnaryOp.Sqrt or UnaryOp.Log or UnaryOp.Reciprocal) x = x.Select(v => 0.25f + Math.Abs(v)).ToArray();
            var expected = x.Select(v => (float)Definition(op, v)).ToArray();
            var y = TestData.Output(n, out var backing);
            UnaryF32.Run(op, TestData.Misaligned(x, out _), y);
            // 1e-6 absolute (the Erf bound) plus 2e-6 relative for the large Exp/Gelu values.
            TestData.AssertClose(expected, y, 2e-6f, $"{op} n={n}");
            TestData.AssertGuards(backing, n);

            var reference = x.Select(v => UnaryF32.Scalar(op, v)).ToArray();
            TestData.AssertClose(expected, reference, 2e-6f, $"{op} scalar reference");

            var inPlace = x.ToArray();
            UnaryF32.Run(op, inPlace, inPlace);
            TestData.AssertClose(expected, inPlace, 2e-6f, $"{op} in place");
        }
    }

    [Fact]
    public void Special_values_follow_IEEE()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, -1f];
        foreach (UnaryOp op in Enum.GetValues<UnaryOp>())
        {
            var y = new float[x.Length];
            UnaryF32.Run(op, x, y);
            for (int i = 0; i < x.Length; i++)
            {
                // Gelu(−∞) = −∞·0 is NaN by the formula; ONNX Runtime returns NaN (0.5·x·(1 + erf)) as well.
                float want = op is UnaryOp.Gelu or UnaryOp.GeluTanh && float.IsNegativeInfinity(x[i]) ? float.NaN : (float)Definition(op, x[i]);
                // Infinities and NaN exactly; finite results within an ulp (TensorPrimitives.Exp(0) is 1 + 2⁻²³).
                bool ok = float.IsFinite(want) ? MathF.Abs(y[i] - want) <= 1.2e-7f * MathF.Max(1f, MathF.Abs(want)) : want.Equals(y[i]);
                Assert.True(ok, $"{op}({x[i]}) = {y[i]}, expected {want}");
            }
        }
    }

    [Fact]
    public void TooShortOutput_Throws()
    {
        Assert.Throws<ArgumentException>(() => UnaryF32.Run(UnaryOp.Exp, new float[5], new float[4]));
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class ErfF32Tests
{
    public delegate void Body(ref float x, ref float y, int n);

    /// <summary>Every ISA body and the scalar reference within 1e-6 of erf in double precision, on a dense grid over [−6, 6].</summary>
    [Fact]
    public void Every_body_is_within_1e6_of_the_double_reference()
    {
        var x = Enumerable.Range(-60_000, 120_001).Select(i => i * 1e-4f).Concat([1e-30f, -1e-30f, 1e-8f, 3.9999f, 4.0001f, 30f, -30f]).ToArray();
        var expected = x.Select(v => ErfReference.Erf(v)).ToArray();
        foreach (var (isa, body) in new (string, Body)[]
        {
            ("Vector512", ErfF32.Erf_F32_Vector512), ("Vector256", ErfF32.Erf_F32_Vector256), ("Vector128", ErfF32.Erf_F32_Vector128), ("Scalar", ErfF32.Erf_F32_Scalar),
        })
        {
            var y = new float[x.Length];
            body(ref x[0], ref y[0], x.Length);
            double worst = 0;
            int at = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double e = Math.Abs(y[i] - expected[i]);
                if (e > worst) (worst, at) = (e, i);
            }
            Assert.True(worst <= 1e-6, $"{isa}: |erf error| {worst:G3} at x = {x[at]}");
        }
    }

    [Fact]
    public void Small_arguments_keep_their_relative_accuracy()
    {
        // erf(x) ≈ 2x/√π near 0: the approximation is x·P/Q, so tiny inputs are not rounded to 0 (ONNX's rtol 1e-3 needs this).
        float[] x = [1e-30f, 1e-10f, 1e-5f, -3e-4f];
        var y = new float[x.Length];
        ErfF32.Run(x, y);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(y[i] / ErfReference.Erf(x[i]) - 1) < 1e-6, $"erf({x[i]}) = {y[i]}");
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class GeluF32Tests
{
    [Theory]
    [MemberData(nameof(TestData.LengthData), MemberType = typeof(TestData))]
    public void Both_forms_match_their_formulas(int n)
    {
        var x = TestData.Random(new Random(n), n, 6f);
        var exact = x.Select(v => (float)(0.5 * v * (1 + ErfReference.Erf(v / Math.Sqrt(2))))).ToArray();
        var tanh = x.Select(v => (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))))).ToArray();
        var y = TestData.Output(n, out var backing);
        GeluF32.Exact(TestData.Misaligned(x, out _), y);
        TestData.AssertClose(exact, y, 2e-6f, $"exact n={n}");
        TestData.AssertGuards(backing, n);
        var z = TestData.Output(n, out backing);
        GeluF32.Tanh(TestData.Misaligned(x, out _), z);
        TestData.AssertClose(tanh, z, 2e-6f, $"tanh n={n}");
        TestData.AssertGuards(backing, n);
        TestData.AssertClose(exact, x.Select(GeluF32.ExactScalar).ToArray(), 2e-6f, "exact scalar reference");
        TestData.AssertClose(tanh, x.Select(GeluF32.TanhScalar).ToArray(), 2e-6f, "tanh scalar reference");
    }

    [Fact]
    public void Tanh_form_in_place_over_several_chunks()
    {
        var x = TestData.Random(new Random(7), 1000, 5f);
        var expected = x.Select(GeluF32.TanhScalar).ToArray();
        GeluF32.Tanh(x, x);
        TestData.AssertClose(expected, x, 2e-6f, "in place");
    }
}

/// <summary>erf in double precision: the Maclaurin series 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)) for |x| ≤ 4, ±1 beyond.</summary>
/// <remarks>
/// For |x| ≤ 4 the largest term is about e^(x²)/√π ≈ 5e6, so cancellation leaves ≈ 1e-9 absolute accuracy, far
/// below the 1e-6 bound under test. For 4 &lt; |x| the series would cancel too much; there erfc(x) &lt; 1.6e-8, so ±1
/// (within 1.6e-8) is the reference.
/// </remarks>
internal static class ErfReference
{
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        if (Math.Abs(x) > 4) return Math.Sign(x);
        double sum = 0, term = x; // term = (−1)ⁿ x^(2n+1) / n!
        for (int n = 0; n < 200; n++)
        {
            double next = term / (2 * n + 1);
            sum += next;
            if (Math.Abs(next) < 1e-17 * Math.Abs(sum)) break;
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
