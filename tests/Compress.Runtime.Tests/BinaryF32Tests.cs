using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class BinaryF32Tests
{
    public static TheoryData<string, long[], long[], long[]> Cases() => new()
    {
        { "same shape", [1, 3, 5, 7], [1, 3, 5, 7], [1, 3, 5, 7] },
        { "same shape long", [100], [100], [100] },
        { "scalar b", [2, 3, 17], [2, 3, 17], [] },
        { "scalar a", [33], [1], [33] },
        { "per-channel [1,C,1,1]x[1,C,H,W]", [1, 16, 8, 8], [1, 16, 1, 1], [1, 16, 8, 8] },
        { "per-channel [1,C,H,W]x[1,C,1,1]", [1, 32, 4, 4], [1, 32, 4, 4], [1, 32, 1, 1] },
        { "row [N,C]+[C]", [5, 19], [5, 19], [19] },
        { "column [N,C]+[N,1]", [5, 19], [5, 19], [5, 1] },
        { "outer product [N,1]x[1,C]", [9, 13], [9, 1], [1, 13] },
        { "both broadcast 3-d", [4, 5, 6], [4, 1, 6], [1, 5, 1] },
        { "rank 5 collapsing", [2, 3, 4, 5, 6], [2, 3, 4, 5, 6], [1, 3, 4, 1, 1] },
        { "empty", [3, 0, 4], [3, 0, 4], [1, 1, 4] },
        { "all ones", [1, 1], [1], [1, 1] },
    };

    static float[] Values(Random rng, long[] shape, bool positive)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        var v = TestData.Random(rng, (int)n);
        if (positive) for (int i = 0; i < v.Length; i++) v[i] = 0.5f + Math.Abs(v[i]); // keep Div well conditioned
        return v;
    }

    /// <summary>Numpy broadcasting by definition: index each input by the output's coordinates, clamped to 0 where its dim is 1.</summary>
    static float[] Naive(BinaryOp op, float[] a, long[] aShape, float[] b, long[] bShape, long[] outShape, FusedActivation act)
    {
        long n = 1;
        foreach (long d in outShape) n *= d;
        var y = new float[n];
        var idx = new long[outShape.Length];
        for (long o = 0; o < n; o++)
        {
            long rem = o;
            for (int d = outShape.Length - 1; d >= 0; d--) { idx[d] = rem % outShape[d]; rem /= outShape[d]; }
            double av = a[Offset(idx, aShape)], bv = b[Offset(idx, bShape)];
            double r = op switch
            {
                BinaryOp.Add => av + bv,
                BinaryOp.Sub => av - bv,
                BinaryOp.Mul => av * bv,
                BinaryOp.Div => av / bv,
                BinaryOp.Max => Math.Max(av, bv),
                BinaryOp.Min => Math.Min(av, bv),
                BinaryOp.Pow => Math.Pow(av, bv),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
            y[o] = (float)TestData.Act((float)r, act);
        }
        return y;
    }

    static long Offset(long[] outIndex, long[] shape)
    {
        long off = 0;
        int shift = outIndex.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++)
            off = off * shape[d] + (shape[d] == 1 ? 0 : outIndex[d + shift]);
        return off;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_MatchesNumpyBroadcasting(string name, long[] outShape, long[] aShape, long[] bShape)
    {
        var rng = new Random(name.Length);
        var bc = Broadcast4.Create(outShape, aShape, bShape);
        foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
            foreach (var act in TestData.Activations)
            {
                var a = Values(rng, aShape, op == BinaryOp.Pow); // a positive base: a negative one with a fractional exponent is NaN
                var b = Values(rng, bShape, op == BinaryOp.Div);
                var expected = Naive(op, a, aShape, b, bShape, outShape, act);
                var y = TestData.Output(expected.Length, out var backing);
                BinaryF32.Run(op, TestData.Misaligned(a, out _), TestData.Misaligned(b, out _), y, bc, act);
                TestData.AssertClose(expected, y, 2e-6f, $"{name} {op} {act.Kind}");
                TestData.AssertGuards(backing, expected.Length);
                var reference = new float[expected.Length];
                BinaryF32.Binary_F32_Scalar(op, a, b, reference, bc, act);
                TestData.AssertClose(expected, reference, 2e-6f, $"{name} {op} {act.Kind} scalar twin");
            }
    }

    internal delegate void RowBody(BinaryF32.RowKind kind, ref float a, ref float b, ref float y, int n, in FusedActivation act);

    [Theory]
    [MemberData(nameof(TestData.LengthData), MemberType = typeof(TestData))]
    public void RowBodies_MatchScalar(int n)
    {
        var rng = new Random(n);
        var a = TestData.Random(rng, n + 2);
        var b = TestData.Random(rng, n + 2);
        var act = new FusedActivation(ActivationKind.LeakyRelu, 0.3f, 0);
        foreach (var kind in new[] { BinaryF32.RowKind.VectorVector, BinaryF32.RowKind.ScalarVector, BinaryF32.RowKind.VectorScalar })
        {
            var expected = new float[n + 2];
            BinaryF32.Row_F32_Scalar<SubtractOperator>(kind, ref a[1], ref b[1], ref expected[1], n, act);
            foreach (var (isa, body) in new (string, RowBody)[]
            {
                ("Vector512", BinaryF32.Row_F32_Vector512<SubtractOperator>), ("Vector256", BinaryF32.Row_F32_Vector256<SubtractOperator>),
                ("Vector128", BinaryF32.Row_F32_Vector128<SubtractOperator>),
            })
            {
                var y = new float[n + 2];
                body(kind, ref a[1], ref b[1], ref y[1], n, act);
                TestData.AssertClose(expected.AsSpan(1, n), y.AsSpan(1, n), 0f, $"{isa} {kind} n={n}");
                Assert.Equal(0f, y[0]);
                Assert.Equal(0f, y[n + 1]);
            }
        }
    }

    [Fact]
    public void HandMadeStrides_UseTheStridedPath()
    {
        // y[i] = a[2i] + b[3i]: strides Create never produces, still correct.
        var a = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        var b = Enumerable.Range(0, 15).Select(i => (float)(100 * i)).ToArray();
        var y = new float[5];
        BinaryF32.Run(BinaryOp.Add, a, b, y, new Broadcast4(1, 1, 1, 5, 0, 0, 0, 2, 0, 0, 0, 3), default);
        Assert.Equal(new[] { 0f, 302f, 604f, 906f, 1208f }, y);
    }

    [Fact]
    public void InPlace_SameShape()
    {
        var a = TestData.Random(new Random(1), 37);
        var b = TestData.Random(new Random(2), 37);
        var expected = a.Zip(b, (x, z) => Math.Max(0, x * z)).ToArray();
        BinaryF32.Run(BinaryOp.Mul, a, b, a, Broadcast4.Create([37], [37], [37]), FusedActivation.Relu);
        Assert.Equal(expected, a);
    }

    [Fact]
    public void TooShortSpans_Throw()
    {
        var bc = Broadcast4.Create([4, 8], [4, 8], [8]);
        Assert.Throws<ArgumentException>(() => BinaryF32.Run(BinaryOp.Add, new float[31], new float[8], new float[32], bc, default));
        Assert.Throws<ArgumentException>(() => BinaryF32.Run(BinaryOp.Add, new float[32], new float[7], new float[32], bc, default));
        Assert.Throws<ArgumentException>(() => BinaryF32.Run(BinaryOp.Add, new float[32], new float[8], new float[31], bc, default));
    }
}
