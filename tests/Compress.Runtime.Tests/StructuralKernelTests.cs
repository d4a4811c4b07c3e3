using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

/// <summary>ReduceF32, GatherF32, LayerNormF32 and BatchedMatMulF32 against their scalar references, on odd shapes
/// around the vector widths, misaligned spans with guard values (re-run under each SIMD path).</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class ReduceF32Tests
{
    public static TheoryData<ReduceOp, int, int, int> Cases()
    {
        var data = new TheoryData<ReduceOp, int, int, int>();
        foreach (var op in Enum.GetValues<ReduceOp>())
            foreach (var (outer, axis, inner) in new[] { (1, 1, 1), (3, 7, 1), (2, 33, 1), (1, 129, 1), (2, 5, 3), (3, 4, 17), (1, 3, 65), (2, 1, 16), (0, 3, 4), (2, 0, 5) })
                data.Add(op, outer, axis, inner);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_scalar_reference(ReduceOp op, int outer, int axis, int inner)
    {
        var rng = new Random(outer * 1000 + axis * 10 + inner);
        // Prod of many values in [-1, 1) underflows; values near 1 keep it meaningful.
        float[] x = TestData.Random(rng, outer * axis * inner).Select(v => op == ReduceOp.Prod ? 1f + 0.05f * v : v).ToArray();
        var xs = TestData.Misaligned(x, out _);
        var y = TestData.Output(outer * inner, out var backing);
        var expected = new float[outer * inner];
        ReduceF32.Run_F32_Scalar(op, x, expected, outer, axis, inner);
        ReduceF32.Run(op, xs, y, outer, axis, inner);
        var magnitude = Enumerable.Repeat((float)axis, expected.Length).ToArray();
        if (axis == 0) Assert.Equal(expected, y.ToArray()); // the identities (±∞ for Max/Min) compare exactly
        else TestData.AssertClose(expected, y, magnitude, 2e-6f);
        TestData.AssertGuards(backing, outer * inner);
    }

    [Fact]
    public void Nan_propagates_through_max_and_min()
    {
        float[] x = [1f, float.NaN, 3f, 2f];
        var y = new float[2];
        ReduceF32.Run(ReduceOp.Max, x, y, 1, 4, 1);
        Assert.True(float.IsNaN(y[0]));
        ReduceF32.Run(ReduceOp.Min, x, y, 1, 2, 2); // columns {1, 3} and {NaN, 2}
        Assert.Equal(1f, y[0]);
        Assert.True(float.IsNaN(y[1]));
    }

    [Fact]
    public void Short_spans_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ReduceF32.Run(ReduceOp.Sum, new float[5], new float[2], 2, 3, 1));
        Assert.Throws<ArgumentException>(() => ReduceF32.Run(ReduceOp.Sum, new float[6], new float[1], 2, 3, 1));
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class GatherF32Tests
{
    public static TheoryData<int, int, int, int[]> Cases() => new()
    {
        { 1, 5, 1, [0, 1, 2, 3, 4] },
        { 2, 5, 3, [4, 3, 2, 1, 0] },
        { 3, 9, 1, [-1, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, -1] },
        { 2, 4, 17, [1, 0, 1, 2, 3, 2, 1] },
        { 1, 40, 1, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35] },
        { 4, 6, 5, [0, 0, 0, 5, 5] },
        { 2, 3, 4, [] },
        { 0, 3, 4, [1] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_scalar_reference(int outer, int axis, int inner, int[] indices)
    {
        var rng = new Random(axis * 31 + inner);
        float[] x = TestData.Random(rng, outer * axis * inner);
        var xs = TestData.Misaligned(x, out _);
        int n = outer * indices.Length * inner;
        var y = TestData.Output(n, out var backing);
        var expected = new float[n];
        GatherF32.Axis_F32_Scalar(x, indices, expected, outer, axis, inner, 0.25f);
        GatherF32.Axis(xs, indices, y, outer, axis, inner, 0.25f);
        Assert.Equal(expected, y.ToArray());
        TestData.AssertGuards(backing, n);
    }

    [Fact]
    public void Index_outside_the_axis_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GatherF32.Axis(new float[6], [3], new float[2], 2, 3, 1, 0f));
}

[Trait(Simd.Category, Simd.Kernel)]
public class LayerNormF32Tests
{
    [Theory]
    [InlineData(1, 1, true)]
    [InlineData(3, 7, true)]
    [InlineData(2, 16, false)]
    [InlineData(2, 33, true)]
    [InlineData(5, 64, true)]
    [InlineData(1, 129, false)]
    [InlineData(0, 8, true)]
    public void Matches_scalar_reference(int rows, int n, bool withBias)
    {
        var rng = new Random(rows * 100 + n);
        float[] x = TestData.Random(rng, rows * n, 3f).Select(v => v + 2f).ToArray(), scale = TestData.Random(rng, n), bias = withBias ? TestData.Random(rng, n) : [];
        var y = TestData.Output(rows * n, out var backing);
        var expected = new float[rows * n];
        LayerNormF32.Run_F32_Scalar(x, scale, bias, expected, rows, n, 1e-5f);
        LayerNormF32.Run(TestData.Misaligned(x, out _), scale, bias, y, rows, n, 1e-5f);
        TestData.AssertClose(expected, y, 1e-5f);
        TestData.AssertGuards(backing, rows * n);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(4, 33)]
    [InlineData(2, 129)]
    public void Writes_mean_and_inverse_standard_deviation_per_row(int rows, int n)
    {
        var rng = new Random(rows * 1000 + n);
        float[] x = TestData.Random(rng, rows * n, 3f).Select(v => v - 1.5f).ToArray(), scale = TestData.Random(rng, n), bias = TestData.Random(rng, n);
        var y = TestData.Output(rows * n, out var yBacking);
        var mean = TestData.Output(rows, out var meanBacking);
        var invStdDev = TestData.Output(rows, out var invBacking);
        float[] expectedY = new float[rows * n], expectedMean = new float[rows], expectedInv = new float[rows];
        LayerNormF32.Run_F32_Scalar(x, scale, bias, expectedY, expectedMean, expectedInv, rows, n, 1e-5f);
        LayerNormF32.Run(x, scale, bias, y, mean, invStdDev, rows, n, 1e-5f);
        TestData.AssertClose(expectedY, y, 1e-5f);
        TestData.AssertClose(expectedMean, mean, 1e-5f);
        TestData.AssertClose(expectedInv, invStdDev, 1e-4f);
        TestData.AssertGuards(yBacking, rows * n);
        TestData.AssertGuards(meanBacking, rows);
        TestData.AssertGuards(invBacking, rows);
        // The scalar reference's statistics are the definition's: mean = Σx/n, 1/√(Σ(x − mean)²/n + ε).
        for (int r = 0; r < rows; r++)
        {
            double m = x.Skip(r * n).Take(n).Average(v => (double)v);
            double v = x.Skip(r * n).Take(n).Average(e => (e - m) * (e - m));
            Assert.Equal(m, expectedMean[r], 1e-5);
            Assert.Equal(1 / Math.Sqrt(v + 1e-5), expectedInv[r], 1e-3);
        }
    }

    [Fact]
    public void Statistics_are_optional_and_checked()
    {
        float[] x = [1, 2, 3, 4, 5, 6], scale = [1, 1, 1], y = new float[6], invStdDev = new float[2];
        LayerNormF32.Run(x, scale, [], y, default, invStdDev, 2, 3, 0f);
        Assert.Equal(1 / MathF.Sqrt(2f / 3), invStdDev[0], 1e-5f);
        Assert.Equal(invStdDev[0], invStdDev[1], 1e-6f);
        Assert.Throws<ArgumentException>(() => LayerNormF32.Run(x, scale, [], new float[6], new float[1], default, 2, 3, 0f));
    }

    [Fact]
    public void Runs_in_place()
    {
        var rng = new Random(9);
        float[] x = TestData.Random(rng, 3 * 20), scale = TestData.Random(rng, 20), bias = TestData.Random(rng, 20);
        var expected = new float[x.Length];
        LayerNormF32.Run_F32_Scalar(x, scale, bias, expected, 3, 20, 1e-3f);
        LayerNormF32.Run(x, scale, bias, x, 3, 20, 1e-3f);
        TestData.AssertClose(expected, x, 1e-5f);
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class BatchedMatMulF32Tests
{
    [Theory]
    [InlineData(1, 1, 1, 1, true, true)]
    [InlineData(2, 3, 5, 7, true, true)]
    [InlineData(4, 1, 17, 33, true, true)]
    [InlineData(3, 9, 16, 5, true, false)]
    [InlineData(3, 6, 8, 20, false, true)]
    [InlineData(2, 17, 31, 65, true, true)]
    public void Matches_scalar_reference(int batch, int m, int k, int n, bool aBatched, bool bBatched)
    {
        var rng = new Random(batch + m * 7 + k * 13 + n * 17);
        int aStride = aBatched ? m * k : 0, bStride = bBatched ? k * n : 0;
        float[] a = TestData.Random(rng, (aBatched ? batch : 1) * m * k), b = TestData.Random(rng, (bBatched ? batch : 1) * k * n);
        var y = TestData.Output(batch * m * n, out var backing);
        var expected = new float[batch * m * n];
        BatchedMatMulF32.Run_F32_Scalar(a, b, expected, batch, m, k, n, aStride, bStride);
        var scratch = new float[BatchedMatMulF32.ScratchLength(k, n)];
        BatchedMatMulF32.Run(TestData.Misaligned(a, out _), TestData.Misaligned(b, out _), y, scratch, batch, m, k, n, aStride, bStride);
        TestData.AssertClose(expected, y, Enumerable.Repeat((float)k, expected.Length).ToArray(), 2e-6f);
        TestData.AssertGuards(backing, batch * m * n);
    }
}

[Trait(Simd.Category, Simd.Kernel)]
public class ResizeF32Tests
{
    [Theory]
    [InlineData(1, 4, 1, 9)]
    [InlineData(3, 5, 1, 2)]
    [InlineData(2, 4, 16, 8)]
    [InlineData(2, 7, 33, 13)]
    [InlineData(1, 3, 65, 5)]
    [InlineData(0, 3, 4, 6)]
    public void Linear_axis_matches_scalar_reference(int outer, int axis, int inner, int count)
    {
        var rng = new Random(outer + axis * 7 + inner * 11 + count);
        float[] x = TestData.Random(rng, outer * axis * inner);
        int[] first = Enumerable.Range(0, count).Select(_ => rng.Next(axis)).ToArray();
        int[] second = first.Select(f => Math.Min(f + 1, axis - 1)).ToArray();
        float[] weight = Enumerable.Range(0, count).Select(j => j % 3 == 0 ? 0f : (float)rng.NextDouble()).ToArray();
        int n = outer * count * inner;
        var y = TestData.Output(n, out var backing);
        var expected = new float[n];
        ResizeF32.LinearAxis_F32_Scalar(x, first, second, weight, expected, outer, axis, inner);
        ResizeF32.LinearAxis(TestData.Misaligned(x, out _), first, second, weight, y, outer, axis, inner);
        TestData.AssertClose(expected, y, 1e-6f);
        TestData.AssertGuards(backing, n);
    }

    [Fact]
    public void Position_outside_the_axis_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ResizeF32.LinearAxis(new float[4], [0], [4], [0.5f], new float[1], 1, 4, 1));
}

[Trait(Simd.Category, Simd.Kernel)]
public class ConvTranspose2dF32Tests
{
    public static TheoryData<Conv2dShape> Shapes() => new()
    {
        // Batch, Cin, H, W, Cout, OH, OW, kH, kW, sH, sW, padTop, padLeft, dH, dW, groups
        new Conv2dShape(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1),
        new Conv2dShape(1, 3, 4, 5, 2, 6, 7, 3, 3, 1, 1, 0, 0, 1, 1, 1),
        new Conv2dShape(2, 4, 5, 5, 6, 10, 10, 2, 2, 2, 2, 0, 0, 1, 1, 1),           // the U-Net upsampler
        new Conv2dShape(1, 4, 5, 6, 4, 10, 12, 4, 4, 2, 2, 1, 1, 1, 1, 2),           // groups 2, pads 1
        new Conv2dShape(1, 2, 3, 17, 3, 8, 36, 3, 3, 2, 2, 0, 0, 2, 1, 1),           // dilation, output_padding via sizes
        new Conv2dShape(1, 6, 4, 4, 6, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 6),             // depthwise
        new Conv2dShape(1, 16, 3, 3, 33, 7, 7, 3, 3, 2, 2, 0, 0, 1, 1, 1),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_scalar_reference(Conv2dShape s)
    {
        var rng = new Random(s.InChannels * 31 + s.OutChannels * 7 + s.Groups);
        float[] x = TestData.Random(rng, s.InputLength), w = TestData.Random(rng, s.InChannels * (s.OutChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        float[] bias = TestData.Random(rng, s.OutChannels);
        var expected = new float[s.OutputLength];
        ConvTranspose2dF32.Run_F32_Scalar(x, w, bias, expected, s);
        var packed = new float[ConvTranspose2dF32.WeightsLength(s)];
        ConvTranspose2dF32.PackWeights(w, s, packed);
        var y = TestData.Output(s.OutputLength, out var backing);
        ConvTranspose2dF32.Run(TestData.Misaligned(x, out _), packed, bias, y, new float[ConvTranspose2dF32.ScratchLength(s)], s);
        float k = s.InChannels / s.Groups * s.KernelHeight * s.KernelWidth;
        TestData.AssertClose(expected, y, Enumerable.Repeat(k, expected.Length).ToArray(), 2e-6f);
        TestData.AssertGuards(backing, s.OutputLength);
    }
}
