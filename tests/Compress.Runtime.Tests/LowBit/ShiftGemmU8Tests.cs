using System.Runtime.InteropServices;
using Compress.Runtime.Kernels;
using Compress.Runtime.Tests.Int8;

namespace Compress.Runtime.Tests.LowBit;

/// <summary>Power-of-two weights: the codes against hand-computed values, and every body against the int8 reference.</summary>
[Trait(Simd.Category, Simd.Kernel)]
public class ShiftGemmU8Tests
{
    /// <summary>Random weights from {0, ±1, ±2, …, ±64}, zeros more likely.</summary>
    internal static sbyte[] PowersOfTwo(Random rng, int length)
    {
        var w = new sbyte[length];
        for (int i = 0; i < length; i++)
        {
            int e = rng.Next(-1, 7);
            w[i] = e < 0 ? (sbyte)0 : (sbyte)((rng.Next(2) == 0 ? -1 : 1) << e);
        }
        return w;
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 3)]
    [InlineData(64, 7)]
    [InlineData(-1, 9)]
    [InlineData(-8, 12)]
    [InlineData(-64, 15)]
    public void Encode_IsSignBitAndExponentIndex(int value, int code)
    {
        Assert.Equal(code, ShiftGemmU8.Encode(value));
        Assert.Equal(value, ShiftGemmU8.Decode(code));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(128)]
    [InlineData(-96)]
    [InlineData(127)]
    public void Encode_RejectsValuesThatAreNotPowersOfTwo(int value) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftGemmU8.Encode(value));

    [Fact]
    public void Compress_PairsValueIWithValueIPlus32()
    {
        // Hand-computed: value 0 = 4 (code 3), value 32 = −2 (code 0xA) → byte 0 = 0xA3; value 63 = 64 (code 7) → byte 31 high nibble.
        var values = new sbyte[70];
        values[0] = 4;
        values[32] = -2;
        values[63] = 64;
        values[64] = -1; // second block: byte 32 low nibble = 9
        var codes = new byte[ShiftGemmU8.CodesLength(values.Length)];
        Assert.Equal(64, codes.Length);
        ShiftGemmU8.Compress(values, codes);
        Assert.Equal(0xA3, codes[0]);
        Assert.Equal(0x70, codes[31]);
        Assert.Equal(0x09, codes[32]);
        Assert.Equal(64 - 3, codes.Count(c => c == 0));
        var back = new sbyte[values.Length];
        ShiftGemmU8.Expand(codes, back);
        Assert.Equal(values, back);
    }

    [Theory]
    [MemberData(nameof(TestData.LengthData), MemberType = typeof(TestData))]
    public void Expand_RoundTrips(int blocks)
    {
        var rng = new Random(blocks);
        var values = PowersOfTwo(rng, blocks * 64 + blocks % 7);
        var codes = new byte[ShiftGemmU8.CodesLength(values.Length)];
        ShiftGemmU8.Compress(values, codes);
        var back = new sbyte[values.Length + 1];
        ShiftGemmU8.Expand(Int8Data.Misaligned<byte>(codes), back.AsSpan(1));
        Assert.Equal(values, back[1..]);
    }

    [Fact]
    public void PackedLength_IsHalfOfInt8()
    {
        Assert.Equal(QGemmU8S8.PackedLength(1024, 1024) / 2, ShiftGemmU8.PackedLength(1024, 1024));
        Assert.Equal(32, ShiftGemmU8.PackedLength(3, 5));
    }

    static byte[] Pack(sbyte[] b, bool transposed, int k, int n)
    {
        var codes = new byte[ShiftGemmU8.PackedLength(k, n)];
        ShiftGemmU8.Pack(b, transposed, k, n, codes);
        return codes;
    }

    static sbyte[] Transpose(sbyte[] b, int k, int n)
    {
        var t = new sbyte[k * n];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) t[j * k + kk] = b[kk * n + j];
        return t;
    }

    [Fact]
    public void Pack_IsTheInt8LayoutCompressed()
    {
        var rng = new Random(3);
        int k = 37, n = 21;
        var b = PowersOfTwo(rng, k * n);
        var codes = Pack(b, false, k, n);
        var expanded = new sbyte[QGemmU8S8.PackedLength(k, n)];
        ShiftGemmU8.Expand(codes, expanded);
        Assert.Equal(QGemmU8S8Tests.Pack(b, false, k, n), expanded);
        Assert.Equal(codes, Pack(Transpose(b, k, n), true, k, n));
    }

    [Theory]
    [MemberData(nameof(QGemmU8S8Tests.Shapes), MemberType = typeof(QGemmU8S8Tests))]
    public void Gemm_MatchesInt8Reference(int m, int k, int n)
    {
        var rng = new Random(m * 100000 + k * 1000 + n + 5);
        var a = Int8Data.Bytes(rng, m * k);
        var b = PowersOfTwo(rng, k * n);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        var codes = Pack(b, false, k, n);
        var (mult, shift) = Int8Data.Multipliers(rng, n, 1e-4, 0.05);
        foreach (var rq in new[] { new Requant(128, 0, 255), new Requant(3, 3, 200) })
            foreach (bool withBias in new[] { true, false })
            {
                var expected = QGemmU8S8Tests.NaiveRequant(QGemmU8S8Tests.NaiveAcc(a, b, false, withBias ? bias : null, m, k, n), mult, shift, m, n, rq);
                var c = Int8Data.Output(m * n, out var backing);
                if (m == 1)
                    ShiftGemmU8.Gemv(Int8Data.Misaligned<byte>(a), Int8Data.Misaligned<byte>(codes), withBias ? Int8Data.Misaligned<int>(bias) : default,
                        mult, shift, c, k, n, rq);
                else
                    ShiftGemmU8.Gemm(Int8Data.Misaligned<byte>(a), Int8Data.Misaligned<byte>(codes), withBias ? bias : default, mult, shift, c, m, k, n, rq);
                Int8Data.AssertEqual(expected, c, $"{rq} bias={withBias}");
                Int8Data.AssertGuards(backing, m * n);
                if (m == 1)
                {
                    var d = Int8Data.Output(n, out var backing2);
                    ShiftGemmU8.GemvShiftAdd(Int8Data.Misaligned<byte>(a), codes, withBias ? bias : default, mult, shift, d, k, n, rq);
                    Int8Data.AssertEqual(expected, d, $"shift-add {rq} bias={withBias}");
                    Int8Data.AssertGuards(backing2, n);
                }
            }
    }

    [Theory]
    [InlineData(1, 64, 16)]
    [InlineData(1, 130, 33)]
    [InlineData(3, 67, 17)]
    public void GemmToF32_MatchesInt8Reference(int m, int k, int n)
    {
        var rng = new Random(m + k + n);
        var a = Int8Data.Bytes(rng, m * k);
        var b = PowersOfTwo(rng, k * n);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        var scale = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 1e-4)).ToArray();
        var codes = Pack(b, false, k, n);
        var acc = QGemmU8S8Tests.NaiveAcc(a, b, false, bias, m, k, n);
        foreach (var act in TestData.Activations)
        {
            var expected = new float[m * n];
            for (int i = 0; i < m * n; i++) expected[i] = (float)TestData.Act((double)acc[i] * scale[i % n], act);
            var c = TestData.Output(m * n, out var backing);
            if (m == 1) ShiftGemmU8.GemvToF32(a, codes, bias, scale, c, k, n, act);
            else ShiftGemmU8.GemmToF32(a, codes, bias, scale, c, m, k, n, act);
            TestData.AssertClose(expected, c, 1e-5f, act.Kind.ToString());
            TestData.AssertGuards(backing, m * n);
        }
    }

    /// <summary>255 × ±64 over long k: every body's s32 sums stay exact (the int8 bodies' pair sums cannot saturate).</summary>
    [Fact]
    public void Extremes_AreExact()
    {
        int m = 1, k = 2048, n = 40;
        var a = Enumerable.Repeat((byte)255, k).ToArray();
        var b = new sbyte[k * n];
        for (int i = 0; i < b.Length; i++) b[i] = (sbyte)(i % 3 == 0 ? -64 : 64);
        var codes = Pack(b, false, k, n);
        var expected = QGemmU8S8Tests.NaiveAcc(a, b, false, null, m, k, n);
        var scale = Enumerable.Repeat(1f, n).ToArray();
        var y = new float[n];
        ShiftGemmU8.GemvToF32(a, codes, default, scale, y, k, n, FusedActivation.None);
        Assert.Equal(expected.Select(v => (float)v), y);
        var acc = new int[n];
        var e = new RawAcc(ref acc[0]);
        ShiftGemmU8.Gemm_U8S4I32_Scalar(ref MemoryMarshal.GetArrayDataReference(a), codes, ref e, m, k, n);
        Assert.Equal(expected, acc);
    }

    /// <summary>Stores raw accumulators (row 0 only).</summary>
    private ref struct RawAcc(ref int acc) : IQEpilogue
    {
        private readonly ref int _acc = ref acc;

        public void Store(int acc, int row, int j) => System.Runtime.CompilerServices.Unsafe.Add(ref _acc, j) = acc;

        public void Store(System.Runtime.Intrinsics.Vector512<int> acc, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(acc[i], row, j + i);
        }

        public void Store(System.Runtime.Intrinsics.Vector256<int> lo, System.Runtime.Intrinsics.Vector256<int> hi, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(i < 8 ? lo[i] : hi[i - 8], row, j + i);
        }

        public void Store(System.Runtime.Intrinsics.Vector128<int> acc, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(acc[i], row, j + i);
        }
    }
}
