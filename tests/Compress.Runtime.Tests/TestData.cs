using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime.Tests;

/// <summary>Random inputs and fp32-aware comparisons shared by the kernel tests.</summary>
internal static class TestData
{
    /// <summary>Deterministic random floats in [-1, 1), returned as a slice starting one float past a 64-byte
    /// boundary when <paramref name="misaligned"/>, so kernels never rely on aligned input.</summary>
    public static float[] Random(Random rng, int length, float scale = 1f)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>A span view of <paramref name="data"/> that starts one element into a fresh buffer (misaligned start)
    /// and is followed by guard values, so out-of-bounds writes show up.</summary>
    public static Span<float> Misaligned(ReadOnlySpan<float> data, out float[] backing)
    {
        backing = new float[data.Length + 1 + Guard];
        backing.AsSpan().Fill(GuardValue);
        data.CopyTo(backing.AsSpan(1));
        return backing.AsSpan(1, data.Length);
    }

    /// <summary>An output buffer of <paramref name="length"/> floats, misaligned by one, filled with NaN (so unwritten
    /// outputs fail) and followed by guard values.</summary>
    public static Span<float> Output(int length, out float[] backing)
    {
        backing = new float[length + 1 + Guard];
        backing.AsSpan().Fill(GuardValue);
        backing.AsSpan(1, length).Fill(float.NaN);
        return backing.AsSpan(1, length);
    }

    public const int Guard = 17;
    public const float GuardValue = 12345.5f;

    /// <summary>Asserts that nothing was written before or after the <paramref name="length"/> floats at index 1.</summary>
    public static void AssertGuards(float[] backing, int length)
    {
        Assert.Equal(GuardValue, backing[0]);
        for (int i = 1 + length; i < backing.Length; i++)
            Assert.True(backing[i] == GuardValue, $"Write past the end at {i - 1} (length {length}).");
    }

    /// <summary>
    /// Asserts |actual − expected| ≤ tol·(1 + magnitude[i]), where magnitude is Σ|terms| of the reduction that produced
    /// element i (fp32 reassociation error grows with it). NaN expected values must be NaN.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, ReadOnlySpan<float> magnitude, float tol = 1e-5f, string? what = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e))
            {
                Assert.True(float.IsNaN(a), $"{what}[{i}]: expected NaN, got {a}");
                continue;
            }
            float m = magnitude.IsEmpty ? MathF.Abs(e) : magnitude[i];
            float bound = tol * (1f + m);
            if (!(MathF.Abs(a - e) <= bound))
                Assert.Fail($"{what}[{i}]: expected {e}, got {a} (|diff| {MathF.Abs(a - e)} > {bound})");
        }
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol = 1e-5f, string? what = null) =>
        AssertClose(expected, actual, default, tol, what);

    /// <summary>Sizes 0 and 1 up to three Vector512 widths (48) plus odd tails.</summary>
    public static readonly int[] Lengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 129];

    public static TheoryData<int> LengthData()
    {
        var d = new TheoryData<int>();
        foreach (int n in Lengths) d.Add(n);
        return d;
    }

    public static readonly FusedActivation[] Activations =
    [
        FusedActivation.None,
        new(ActivationKind.Relu, 0, 0),
        new(ActivationKind.LeakyRelu, 0.1f, 0),
        new(ActivationKind.Clip, -0.25f, 0.5f),
        new(ActivationKind.Sigmoid, 0, 0),
        new(ActivationKind.HardSigmoid, 0.2f, 0.5f),
        new(ActivationKind.HardSwish, 0, 0),
        new(ActivationKind.Tanh, 0, 0),
    ];

    /// <summary>The activation as ONNX defines it, in double.</summary>
    public static double Act(double x, FusedActivation a) => a.Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => Math.Max(x, 0),
        ActivationKind.LeakyRelu => x < 0 ? a.Alpha * x : x,
        ActivationKind.Clip => Math.Min(Math.Max(x, a.Alpha), a.Beta),
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        ActivationKind.HardSigmoid => Math.Max(0, Math.Min(1, a.Alpha * x + a.Beta)),
        ActivationKind.HardSwish => x * Math.Max(0, Math.Min(1, x / 6 + 0.5)),
        ActivationKind.Tanh => Math.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    /// <summary>Largest slope of the activation (bounds how it amplifies the pre-activation error).</summary>
    public static float Slope(FusedActivation a) => a.Kind switch
    {
        ActivationKind.HardSwish => 1.5f,
        ActivationKind.HardSigmoid => Math.Max(1f, Math.Abs(a.Alpha)),
        _ => 1f,
    };
}
