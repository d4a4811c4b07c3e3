using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class ActivationF32Tests
{
    [Theory]
    [MemberData(nameof(TestData.LengthData), MemberType = typeof(TestData))]
    public void Apply_MatchesDefinition(int n)
    {
        var x = TestData.Random(new Random(n), n, 8f); // wide enough to reach every clip and saturation
        foreach (var act in TestData.Activations)
        {
            var expected = x.Select(v => (float)TestData.Act(v, act)).ToArray();
            var y = TestData.Output(n, out var backing);
            ActivationF32.Apply(TestData.Misaligned(x, out _), y, act);
            TestData.AssertClose(expected, y, 2e-6f, $"{act.Kind} n={n}");
            TestData.AssertGuards(backing, n);

            // In place.
            var inPlace = x.ToArray();
            ActivationF32.Apply(inPlace, inPlace, act);
            TestData.AssertClose(expected, inPlace, 2e-6f, $"{act.Kind} in place");

            // Every ISA body against the scalar twin (register-fusable kinds only: Sigmoid/Tanh go to TensorPrimitives).
            if (!ActivationF32.IsRegisterFusable(act.Kind) || n == 0) continue;
            var reference = new float[n];
            ActivationF32.Apply_F32_Scalar(ref x[0], ref reference[0], n, act);
            foreach (var (isa, body) in new (string, Body)[]
            {
                ("Vector512", ActivationF32.Apply_F32_Vector512), ("Vector256", ActivationF32.Apply_F32_Vector256), ("Vector128", ActivationF32.Apply_F32_Vector128),
            })
            {
                var z = new float[n];
                body(ref x[0], ref z[0], n, act);
                TestData.AssertClose(reference, z, 1e-6f, $"{isa} {act.Kind}");
            }
        }
    }

    public delegate void Body(ref float x, ref float y, int n, in FusedActivation act);

    [Fact]
    public void TooShortOutput_Throws()
    {
        Assert.Throws<ArgumentException>(() => ActivationF32.Apply(new float[5], new float[4], FusedActivation.Relu));
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class SoftmaxF32Tests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 10, 1 }, { 3, 17, 1 }, { 1, 1, 1 }, { 2, 5, 3 }, { 1, 4, 16 }, { 2, 7, 37 }, { 1, 3, 8 }, { 0, 4, 4 }, { 2, 0, 3 }, { 1, 100, 5 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Run_MatchesDefinition(int outer, int axis, int inner)
    {
        int n = outer * axis * inner;
        var x = TestData.Random(new Random(n), n, 10f);
        var expected = new float[n];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int a = 0; a < axis; a++) max = Math.Max(max, x[(o * axis + a) * inner + i]);
                for (int a = 0; a < axis; a++) sum += Math.Exp(x[(o * axis + a) * inner + i] - max);
                for (int a = 0; a < axis; a++) expected[(o * axis + a) * inner + i] = (float)(Math.Exp(x[(o * axis + a) * inner + i] - max) / sum);
            }
        var y = TestData.Output(n, out var backing);
        SoftmaxF32.Run(TestData.Misaligned(x, out _), y, outer, axis, inner);
        TestData.AssertClose(expected, y, 2e-6f, $"softmax {outer}x{axis}x{inner}");
        TestData.AssertGuards(backing, n);
        var reference = new float[n];
        SoftmaxF32.Softmax_F32_Scalar(x, reference, outer, axis, inner);
        TestData.AssertClose(expected, reference, 2e-6f, "scalar twin");
        var inPlace = x.ToArray();
        SoftmaxF32.Run(inPlace, inPlace, outer, axis, inner);
        TestData.AssertClose(expected, inPlace, 2e-6f, "in place");
    }

    /// <summary>Logits far above exp's range (e^89 overflows float) must not overflow: the max is subtracted first (ONNX test_softmax_large_number).</summary>
    [Theory]
    [InlineData(2, 37, 1)]
    [InlineData(1, 4, 1)]
    [InlineData(2, 5, 19)]
    public void Run_LargeLogits_SubtractsTheMaxFirst(int outer, int axis, int inner)
    {
        int n = outer * axis * inner;
        var x = TestData.Random(new Random(n), n, 10f).Select(v => v + 10000f).ToArray();
        var y = new float[n];
        SoftmaxF32.Run(x, y, outer, axis, inner);
        var reference = new float[n];
        SoftmaxF32.Softmax_F32_Scalar(x, reference, outer, axis, inner);
        Assert.All(reference, v => Assert.True(float.IsFinite(v)));
        TestData.AssertClose(reference, y, 2e-6f, $"softmax of large logits {outer}x{axis}x{inner}");
    }

    [Fact]
    public void TooShort_Throws()
    {
        Assert.Throws<ArgumentException>(() => SoftmaxF32.Run(new float[11], new float[12], 1, 4, 3));
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class ChannelAffineF32Tests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 16, 64 }, { 2, 3, 17 }, { 1, 1, 1 }, { 3, 5, 1 }, { 1, 32, 16 }, { 0, 3, 3 }, { 1, 4, 0 }, { 1, 2, 100 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Run_MatchesDefinition(int outer, int channels, int inner)
    {
        var rng = new Random(outer * 100 + channels * 10 + inner);
        int n = outer * channels * inner;
        var x = TestData.Random(rng, n, 4f);
        var scale = TestData.Random(rng, channels);
        var shift = TestData.Random(rng, channels);
        foreach (var act in TestData.Activations)
        {
            var expected = new float[n];
            var mag = new float[n];
            for (int i = 0; i < n; i++)
            {
                int c = i / inner % channels;
                expected[i] = (float)TestData.Act((double)x[i] * scale[c] + shift[c], act);
                mag[i] = Math.Abs(x[i] * scale[c]) + Math.Abs(shift[c]);
            }
            var y = TestData.Output(n, out var backing);
            ChannelAffineF32.Run(TestData.Misaligned(x, out _), scale, shift, y, outer, channels, inner, act);
            TestData.AssertClose(expected, y, mag, 2e-6f, $"{act.Kind}");
            TestData.AssertGuards(backing, n);
            var reference = new float[n];
            ChannelAffineF32.ChannelAffine_F32_Scalar(x, scale, shift, reference, outer, channels, inner, act);
            TestData.AssertClose(expected, reference, mag, 2e-6f, "scalar twin");
        }
    }

    [Fact]
    public void TooShort_Throws()
    {
        Assert.Throws<ArgumentException>(() => ChannelAffineF32.Run(new float[12], new float[2], new float[3], new float[12], 1, 3, 4, default));
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class CopyF32Tests
{
    [Fact]
    public void Rows_CopiesWithStrides()
    {
        var x = Enumerable.Range(0, 30).Select(i => (float)i).ToArray();
        var y = Enumerable.Repeat(-1f, 20).ToArray();
        CopyF32.Rows(x, y, 3, 4, 10, 6); // 3 rows of 4 from stride 10 into stride 6 (e.g. Concat along the last axis)
        Assert.Equal(new float[] { 0, 1, 2, 3, -1, -1, 10, 11, 12, 13, -1, -1, 20, 21, 22, 23, -1, -1, -1, -1 }, y);
        CopyF32.Rows(x, y, 0, 4, 10, 6);
        CopyF32.Rows(x, y, 3, 0, 10, 6);
        Assert.Throws<ArgumentException>(() => CopyF32.Rows(x, y, 3, 4, 10, 9));
        Assert.Throws<ArgumentException>(() => CopyF32.Rows(x.AsSpan(0, 23), y, 3, 4, 10, 6));
    }
}
