using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Int8;

[Trait(Simd.Category, Simd.Kernel)]
public class ElementwiseU8Tests
{
    private static readonly int[] Lengths = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 129, 200];

    public static TheoryData<int> LengthData()
    {
        var d = new TheoryData<int>();
        foreach (int n in Lengths) d.Add(n);
        return d;
    }

    [Theory]
    [MemberData(nameof(LengthData))]
    public void Quantize_MatchesDefinition(int n)
    {
        var rng = new Random(n);
        var x = TestData.Random(rng, n, 3f);
        const float scale = 0.025f;
        // Exact ties (k + 0.5)·scale must round to even; and values far outside the range must clamp.
        for (int i = 0; i < n; i += 5) x[i] = (rng.Next(-200, 200) + 0.5f) * 0.25f;
        if (n > 2) { x[1] = 1e9f; x[2] = -1e9f; }
        foreach (var (s, zp) in new[] { (scale, 128), (0.25f, 0), (0.25f, 255), (1f, 10) })
        {
            var y = Int8Data.Output(n, out var backing);
            QuantizeF32.Run(Int8Data.Misaligned<float>(x), y, s, zp);
            for (int i = 0; i < n; i++)
            {
                double q = Math.Round((double)(x[i] / s), MidpointRounding.ToEven) + zp;
                Assert.True(Math.Clamp(q, 0, 255) == y[i], $"x[{i}]={x[i]} s={s} zp={zp}: expected {Math.Clamp(q, 0, 255)}, got {y[i]}");
            }
            Int8Data.AssertGuards(backing, n);
        }
    }

    [Fact]
    public void ChooseParameters_KeepsZeroExact()
    {
        var (s, zp) = QuantizeF32.ChooseParameters([-1f, 0.5f, 3f]);
        Assert.Equal(4f / 255, s, 6);
        Assert.Equal(64, zp); // round(1/(4/255)) = round(63.75)
        Assert.Equal((1f, 0), QuantizeF32.ChooseParameters(new float[4]));
        Assert.Equal((1f, 0), QuantizeF32.ChooseParameters([]));
        var (s2, zp2) = QuantizeF32.ChooseParameters([2f, 5f]);
        Assert.Equal(5f / 255, s2, 6);
        Assert.Equal(0, zp2);
        var (s3, zp3) = QuantizeF32.ChooseParameters([-2f, -5f]);
        Assert.Equal(5f / 255, s3, 6);
        Assert.Equal(255, zp3);
    }

    [Theory]
    [MemberData(nameof(LengthData))]
    public void Dequantize_MatchesDefinition(int n)
    {
        var rng = new Random(n + 7);
        var x = Int8Data.Bytes(rng, n);
        var y = TestData.Output(n, out var backing);
        DequantizeU8.Run(Int8Data.Misaligned<byte>(x), y, 0.37f, 131);
        for (int i = 0; i < n; i++) Assert.Equal((x[i] - 131) * 0.37f, y[i]);
        TestData.AssertGuards(backing, n);
    }

    public static TheoryData<string, Pool2dShape> PoolShapes() => new()
    {
        { "2x2 stride 2", new Pool2dShape(1, 3, 8, 8, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1) },
        { "2x2 stride 2 wide", new Pool2dShape(1, 2, 6, 70, 3, 35, 2, 2, 2, 2, 0, 0, 1, 1) },
        { "2x2 stride 2 odd (floor)", new Pool2dShape(2, 2, 7, 37, 3, 18, 2, 2, 2, 2, 0, 0, 1, 1) },
        { "3x3 stride 1 pad 1", new Pool2dShape(1, 2, 9, 40, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1) },
        { "3x3 stride 2 pad 1", new Pool2dShape(1, 4, 14, 50, 7, 25, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 stride 3", new Pool2dShape(1, 1, 9, 60, 3, 20, 3, 3, 3, 3, 0, 0, 1, 1) },
        { "2x2 dilation 2", new Pool2dShape(1, 1, 8, 40, 6, 38, 2, 2, 1, 1, 0, 0, 2, 2) },
        { "window past the edge", new Pool2dShape(1, 1, 3, 3, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "stride 2 reaching the last byte", new Pool2dShape(1, 1, 1, 33, 1, 16, 1, 2, 1, 2, 0, 0, 1, 1) },
        { "ResNet-18 stem 3x3 stride 2 pads 1,1,0,0", new Pool2dShape(1, 3, 112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 stride 2 wide (Vector512 bytes)", new Pool2dShape(1, 2, 7, 301, 4, 151, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 stride 2 odd width, end pads 0", new Pool2dShape(1, 2, 10, 21, 5, 10, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 stride 2 left pad 2", new Pool2dShape(1, 1, 6, 40, 3, 21, 3, 3, 2, 2, 0, 2, 1, 1) },
        { "5x5 stride 1 pad 2 wide", new Pool2dShape(1, 1, 7, 131, 7, 131, 5, 5, 1, 1, 2, 2, 1, 1) },
        { "3x3 stride 2 tiny", new Pool2dShape(1, 2, 2, 3, 1, 2, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "3x3 row stride 3 row dilation 2", new Pool2dShape(1, 1, 13, 50, 4, 25, 3, 3, 3, 2, 1, 1, 2, 1) },
    };

    [Theory]
    [MemberData(nameof(PoolShapes))]
    public void MaxPool_MatchesFloatMaxPool(string name, Pool2dShape s)
    {
        var rng = new Random(name.Length);
        var x = Int8Data.Bytes(rng, s.Batch * s.Channels * s.InHeight * s.InWidth);
        int outLength = s.Batch * s.Channels * s.OutHeight * s.OutWidth;
        var expected = new float[outLength];
        PoolF32.Max(x.Select(v => (float)v).ToArray(), expected, s);
        var y = Int8Data.Output(outLength, out var backing);
        // Exactly the input's length, so a read past its end would throw or show.
        PoolU8.Max(x, y, s);
        Int8Data.AssertEqual(expected.Select(v => (byte)v).ToArray(), y, name);
        Int8Data.AssertGuards(backing, outLength);
        var yRef = new byte[outLength];
        PoolU8.Max_U8_Scalar(x, yRef, s);
        Int8Data.AssertEqual(expected.Select(v => (byte)v).ToArray(), yRef, name);
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(2, 15)]
    [InlineData(4, 16)]
    [InlineData(2, 49)]
    [InlineData(1, 4096)]
    [InlineData(2, 70000)]
    public void GlobalAverage_IsRoundedMean(int planes, int planeSize)
    {
        var rng = new Random(planeSize);
        var x = Int8Data.Bytes(rng, planes * planeSize);
        if (planeSize == 70000) x.AsSpan(0, planeSize).Fill(255); // the u16 partial sums must not overflow
        var y = Int8Data.Output(planes, out var backing);
        PoolU8.GlobalAverage(Int8Data.Misaligned<byte>(x), y, planes, planeSize);
        for (int p = 0; p < planes; p++)
        {
            long sum = x.Skip(p * planeSize).Take(planeSize).Sum(v => (long)v);
            Assert.Equal((byte)Math.Floor((double)sum / planeSize + 0.5), y[p]);
        }
        Int8Data.AssertGuards(backing, planes);
    }

    public static TheoryData<BinaryOp, int, int> BinaryCases()
    {
        var d = new TheoryData<BinaryOp, int, int>();
        // Pow has no u8 kernel (no QBinaryLowerer is registered for it; Pow stays fp32 in quantised models).
        foreach (var op in Enum.GetValues<BinaryOp>().Where(o => o != BinaryOp.Pow))
            foreach (int n in new[] { 1, 3, 4, 17, 64, 130 })
                foreach (int kind in new[] { 0, 1, 2 })
                    d.Add(op, n, kind);
        return d;
    }

    /// <summary>kind 0: same shape; 1: b is one value per row ([R,1]); 2: a is a row vector broadcast over rows ([1,N]).</summary>
    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary_MatchesFormula(BinaryOp op, int n, int kind)
    {
        var rng = new Random(n * 3 + kind + (int)op * 100);
        int rows = 3;
        long[] outShape = [rows, n];
        long[] aShape = kind == 2 ? [1, n] : [rows, n];
        long[] bShape = kind == 1 ? [rows, 1] : [rows, n];
        var bc = Broadcast4.Create(outShape, aShape, bShape);
        var a = Int8Data.Bytes(rng, (int)(aShape[0] * aShape[1]));
        var b = Int8Data.Bytes(rng, (int)(bShape[0] * bShape[1]));
        if (op == BinaryOp.Div) for (int i = 0; i < b.Length; i++) if (b[i] == 100) b[i] = 101; // no 0/0
        float sa = 0.05f, sb = 0.03f, sy = op == BinaryOp.Mul ? 0.4f : op == BinaryOp.Div ? 0.2f : 0.08f;
        int za = 100, zb = 100, zy = 120;
        foreach (var (min, max) in new[] { (0, 255), (120, 255), (-5, 300) })
        {
            var y = Int8Data.Output(rows * n, out var backing);
            QBinaryU8.Run(op, Int8Data.Misaligned<byte>(a), Int8Data.Misaligned<byte>(b), y, bc, sa, za, sb, zb, sy, zy, min, max);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < n; i++)
                {
                    float av = sa * (a[(kind == 2 ? 0 : r) * n + i] - za), bv = sb * (b[kind == 1 ? r : r * n + i] - zb);
                    float res = op switch
                    {
                        BinaryOp.Add => av + bv, BinaryOp.Sub => av - bv, BinaryOp.Mul => av * bv,
                        BinaryOp.Div => av / bv, BinaryOp.Max => MathF.Max(av, bv), _ => MathF.Min(av, bv),
                    };
                    float q = MathF.Round(res / sy) + zy;
                    byte expected = (byte)Math.Clamp(q, Math.Max(min, 0), Math.Min(max, 255));
                    Assert.True(expected == y[r * n + i], $"{op} [{r},{i}]: a'={av} b'={bv}: expected {expected}, got {y[r * n + i]}");
                }
            Int8Data.AssertGuards(backing, rows * n);
        }
    }
}
