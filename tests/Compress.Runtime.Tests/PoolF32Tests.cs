using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class PoolF32Tests
{
    public readonly record struct Case(int N, int C, int H, int W, int KH, int KW, int SH, int SW, int PT, int PL, int PB, int PR, int DH, int DW, bool Ceil)
    {
        static int Out(int input, int k, int s, int pb, int pe, int d, bool ceil)
        {
            int span = input + pb + pe - ((k - 1) * d + 1);
            if (span < 0) return 0;
            int o = (ceil ? (span + s - 1) / s : span / s) + 1;
            if (ceil && (o - 1) * s >= input + pb) o--; // a window may not start in the end padding
            return o;
        }

        public Pool2dShape Shape => new(N, C, H, W, Out(H, KH, SH, PT, PB, DH, Ceil), Out(W, KW, SW, PL, PR, DW, Ceil), KH, KW, SH, SW, PT, PL, DH, DW);
        public override string ToString() => $"{N}x{C}x{H}x{W} k{KH}x{KW} s{SH},{SW} p{PT},{PL},{PB},{PR} d{DH},{DW}{(Ceil ? " ceil" : "")}";
    }

    public static TheoryData<Case> Cases() => new()
    {
        new(1, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),   // the CNN's MaxPool
        new(1, 3, 8, 40, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),   // wide: Vector512 stride-2 chunks
        new(2, 2, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),    // 2×2/2 fast path, odd input (last row/column unused)
        new(1, 2, 7, 7, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, true),     // 2×2/2 ceil mode: clipped windows, generic path
        new(1, 1, 4, 70, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),   // 2×2/2 fast path, 35 outputs: 16 + 16 + 3
        new(2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false),
        new(1, 2, 10, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false),  // stride 1 with pads
        new(1, 2, 7, 7, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true),     // ceil mode: clipped last window
        new(1, 2, 6, 6, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1, false),    // asymmetric pads at the end
        new(1, 2, 6, 6, 3, 3, 2, 2, 2, 0, 0, 2, 1, 1, false),    // asymmetric pads
        new(1, 1, 11, 23, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, true),   // stride 3 (scalar windows), ceil
        new(1, 2, 9, 33, 2, 3, 1, 2, 0, 1, 0, 1, 2, 2, false),   // dilation
        new(1, 1, 5, 5, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, false),    // global window
        new(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false),
        new(2, 1, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, true),
        // Separable MaxPool (stride 1 or 2 along rows, unit column dilation, every window has a tap inside).
        new(1, 3, 112, 112, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, false), // ResNet-18's stem MaxPool: pads 1,1,0,0
        new(1, 2, 13, 21, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false),   // odd width: one overlapping Vector128 chunk
        new(1, 2, 10, 11, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, true),    // ceil mode: last window clipped at the end
        new(1, 1, 6, 9, 3, 3, 2, 2, 0, 2, 2, 0, 1, 1, false),     // asymmetric pads, left pad 2 (= k − 1)
        new(1, 1, 9, 70, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, false),    // 5×5 stride 1
        new(1, 1, 11, 40, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, false),   // row stride 3, column stride 2
        new(1, 1, 11, 40, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1, false),   // row dilation 2
        new(1, 2, 2, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false),     // tiny plane: scalar row pass
        new(1, 1, 5, 150, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false),   // 75 outputs: Vector512 chunks + overlap
        new(1, 2, 6, 8, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, false),     // 2×2 stride 2 with pads
    };

    internal static float[] Naive(float[] x, in Case c, bool max, bool countIncludePad)
    {
        var s = c.Shape;
        var y = new float[c.N * c.C * s.OutHeight * s.OutWidth];
        for (int pl = 0; pl < c.N * c.C; pl++)
            for (int oh = 0; oh < s.OutHeight; oh++)
                for (int ow = 0; ow < s.OutWidth; ow++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    int inside = 0, padded = 0;
                    for (int ky = 0; ky < c.KH; ky++)
                        for (int kx = 0; kx < c.KW; kx++)
                        {
                            int ih = oh * c.SH - c.PT + ky * c.DH, iw = ow * c.SW - c.PL + kx * c.DW;
                            if (ih >= -c.PT && ih < c.H + c.PB && iw >= -c.PL && iw < c.W + c.PR) padded++;
                            if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                            double v = x[(pl * c.H + ih) * c.W + iw];
                            acc = max ? Math.Max(acc, v) : acc + v;
                            inside++;
                        }
                    y[(pl * s.OutHeight + oh) * s.OutWidth + ow] = (float)(max ? acc : acc / (countIncludePad ? padded : inside));
                }
        return y;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Max_MatchesNaive(Case c)
    {
        var s = c.Shape;
        var x = TestData.Random(new Random(c.H * 100 + c.W), c.N * c.C * c.H * c.W);
        int n = c.N * c.C * s.OutHeight * s.OutWidth;
        var y = TestData.Output(n, out var backing);
        PoolF32.Max(TestData.Misaligned(x, out _), y, s);
        TestData.AssertClose(Naive(x, c, true, false), y, 0f, $"{c}");
        TestData.AssertGuards(backing, n);
        var reference = new float[n];
        PoolF32.Max_F32_Scalar(x, reference, s);
        TestData.AssertClose(reference, y, 0f, "scalar twin");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Average_MatchesNaive(Case c)
    {
        var s = c.Shape;
        var x = TestData.Random(new Random(c.H * 10 + c.W), c.N * c.C * c.H * c.W);
        int n = c.N * c.C * s.OutHeight * s.OutWidth;
        foreach (bool include in new[] { false, true })
        {
            var y = TestData.Output(n, out var backing);
            PoolF32.Average(TestData.Misaligned(x, out _), y, s, include, c.PB, c.PR);
            TestData.AssertClose(Naive(x, c, false, include), y, 1e-6f, $"{c} includePad={include}");
            TestData.AssertGuards(backing, n);
            var reference = new float[n];
            PoolF32.Average_F32_Scalar(x, reference, s, include, c.PB, c.PR);
            TestData.AssertClose(reference, y, 1e-6f, "scalar twin");
            if (!c.Ceil)
            {
                // Without ceil mode the implied end pads give the same divisors as the real ones.
                var implied = new float[n];
                PoolF32.Average(x, implied, s, include);
                TestData.AssertClose(y, implied, 0f, "implied pads");
            }
        }
    }

    [Fact]
    public void Max_PropagatesNaN_AndPadsNeverWin()
    {
        // All-negative input with padding: a padded zero must never be the max.
        var s = new Pool2dShape(1, 1, 4, 4, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1);
        var x = Enumerable.Range(0, 16).Select(i => -1f - i).ToArray();
        var y = new float[4];
        PoolF32.Max(x, y, s);
        Assert.Equal(new[] { -1f, -2f, -5f, -6f }, y);
        x[5] = float.NaN;
        PoolF32.Max(x, y, s);
        Assert.True(float.IsNaN(y[0]));
    }

    [Fact]
    public void SeparableMax_PropagatesNaN_AndPadsNeverWin()
    {
        var s = new Pool2dShape(1, 2, 16, 45, 8, 23, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.True(PoolF32.IsSeparableMax(s));
        var x = Enumerable.Range(0, 2 * 16 * 45).Select(i => -1f - i % 97).ToArray();
        x[0] = float.NaN;
        x[16 * 45 + 3 * 45 + 20] = float.NaN;
        x[5] = float.NegativeInfinity;
        var y = new float[2 * 8 * 23];
        var reference = new float[y.Length];
        PoolF32.Max(x, y, s);
        PoolF32.Max_F32_Scalar(x, reference, s);
        TestData.AssertClose(reference, y, 0f, "separable vs scalar");
        Assert.True(float.IsNaN(y[0]));
        Assert.All(y, v => Assert.True(float.IsNaN(v) || v < 0f)); // a padded −∞ or 0 never shows
    }

    public static TheoryData<int, int> GlobalShapes() => new() { { 0, 4 }, { 3, 0 }, { 1, 1 }, { 16, 64 }, { 32, 16 }, { 5, 7 }, { 2, 33 }, { 3, 49 }, { 1, 1000 } };

    [Theory]
    [MemberData(nameof(GlobalShapes))]
    public void GlobalAverage_MatchesNaive(int planes, int size)
    {
        var x = TestData.Random(new Random(planes * size), planes * size);
        var expected = new float[planes];
        var mag = new float[planes];
        for (int p = 0; p < planes; p++)
        {
            double sum = 0, abs = 0;
            for (int i = 0; i < size; i++) { sum += x[p * size + i]; abs += Math.Abs(x[p * size + i]); }
            expected[p] = size == 0 ? 0 : (float)(sum / size);
            mag[p] = size == 0 ? 0 : (float)(abs / size);
        }
        var y = TestData.Output(planes, out var backing);
        PoolF32.GlobalAverage(TestData.Misaligned(x, out _), y, planes, size);
        TestData.AssertClose(expected, y, mag, what: "GlobalAverage");
        TestData.AssertGuards(backing, planes);
        foreach (var (name, body) in new (string, Bodies.GlobalAverage)[]
        {
            ("Vector512", PoolF32.GlobalAverage_F32_Vector512), ("Vector256", PoolF32.GlobalAverage_F32_Vector256),
            ("Vector128", PoolF32.GlobalAverage_F32_Vector128),
        })
        {
            var z = new float[planes + 1];
            if (planes > 0) body(ref x.Length == 0 ? ref z[0] : ref x[0], ref z[0], planes, size);
            TestData.AssertClose(expected, z.AsSpan(0, planes), mag, what: name);
        }
    }

    [Fact]
    public void TooShortSpans_Throw()
    {
        var s = new Pool2dShape(1, 2, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1);
        Assert.Throws<ArgumentException>(() => PoolF32.Max(new float[31], new float[8], s));
        Assert.Throws<ArgumentException>(() => PoolF32.Average(new float[32], new float[7], s, false));
        Assert.Throws<ArgumentException>(() => PoolF32.GlobalAverage(new float[31], new float[2], 2, 16));
        Assert.Throws<ArgumentException>(() => PoolF32.Max(new float[32], new float[8], s with { StrideWidth = 0 }));
    }
}

internal static class Bodies
{
    public delegate void GlobalAverage(ref float x, ref float y, int planes, int planeSize);
}
