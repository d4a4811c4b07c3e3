using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Int8;

[Trait(Simd.Category, Simd.Kernel)]
public class QGemmU8S8Tests
{
    /// <summary>s32 accumulators A·B + bias by the textbook loop on the unpacked B.</summary>
    internal static int[] NaiveAcc(byte[] a, sbyte[] b, bool transposed, int[]? bias, int m, int k, int n)
    {
        var c = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int sum = bias?[j] ?? 0;
                for (int kk = 0; kk < k; kk++)
                    sum += a[i * k + kk] * (transposed ? b[j * k + kk] : b[kk * n + j]);
                c[i * n + j] = sum;
            }
        return c;
    }

    internal static byte[] NaiveRequant(int[] acc, int[] mult, int[] shift, int m, int n, Requant rq)
    {
        var y = new byte[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                y[i * n + j] = (byte)Math.Clamp(rq.OutZeroPoint + QuantMath.MultiplyByQuantizedMultiplier(acc[i * n + j], mult[j], shift[j]),
                    Math.Max(rq.Min, 0), Math.Min(rq.Max, 255));
        return y;
    }

    internal static sbyte[] Pack(sbyte[] b, bool transposed, int k, int n)
    {
        var packed = new sbyte[QGemmU8S8.PackedLength(k, n)];
        QGemmU8S8.PackB(b, transposed, k, n, packed);
        return packed;
    }

    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int k in new[] { 0, 1, 2, 3, 4, 5, 7, 16, 17, 63, 64, 65, 130 })
            foreach (int n in new[] { 0, 1, 3, 4, 5, 8, 9, 15, 16, 17, 31, 33, 48, 63, 64, 65, 100, 129 })
                d.Add(1, k, n);
        foreach (int m in new[] { 2, 3, 4, 5, 8, 9 })
            foreach (int k in new[] { 1, 5, 16, 67 })
                foreach (int n in new[] { 1, 7, 16, 33, 64, 70 })
                    d.Add(m, k, n);
        return d;
    }

    [Fact]
    public void PackB_Layout_IsVpdpbusdOrder()
    {
        // B[k, j] = 10·k + j for k < 6, j < 18: panel 1 holds columns 16, 17; lanes hold 4 consecutive k of one column.
        int k = 6, n = 18;
        var b = new sbyte[k * n];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) b[kk * n + j] = (sbyte)(kk * 10 + j);
        var packed = Pack(b, false, k, n);
        Assert.Equal(2 * 2 * 64, packed.Length);
        Assert.Equal([0, 10, 20, 30], packed[0..4]);          // panel 0, group 0, column 0
        Assert.Equal([1, 11, 21, 31], packed[4..8]);          // column 1
        Assert.Equal([40, 50, 0, 0], packed[64..68]);         // group 1: k = 4, 5, then zero padding
        Assert.Equal([16, 26, 36, 46], packed[128..132]);     // panel 1, column 16
        Assert.Equal([0, 0, 0, 0], packed[136..140]); // column 18 does not exist
        Assert.Equal(packed, Pack(Transpose(b, k, n), true, k, n));
    }

    private static sbyte[] Transpose(sbyte[] b, int k, int n)
    {
        var t = new sbyte[k * n];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) t[j * k + kk] = b[kk * n + j];
        return t;
    }

    [Fact]
    public void ColumnSums_AreSumsOverK()
    {
        var rng = new Random(7);
        int k = 37, n = 21;
        var b = Int8Data.SBytes(rng, k * n);
        var sums = new int[n];
        QGemmU8S8.ColumnSums(b, false, k, n, sums);
        for (int j = 0; j < n; j++) Assert.Equal(Enumerable.Range(0, k).Sum(kk => b[kk * n + j]), sums[j]);
        var sumsT = new int[n];
        QGemmU8S8.ColumnSums(Transpose(b, k, n), true, k, n, sumsT);
        Assert.Equal(sums, sumsT);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m * 100000 + k * 1000 + n);
        var a = Int8Data.Bytes(rng, m * k);
        var b = Int8Data.SBytes(rng, k * n);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        bool transposed = (k + n) % 2 == 1;
        var packed = Pack(transposed ? Transpose(b, k, n) : b, transposed, k, n);
        var (mult, shift) = Int8Data.Multipliers(rng, n, 1e-4, 0.05);
        foreach (var rq in new[] { new Requant(128, 0, 255), new Requant(3, 3, 200) })
            foreach (bool withBias in new[] { true, false })
            {
                var expected = NaiveRequant(NaiveAcc(a, b, false, withBias ? bias : null, m, k, n), mult, shift, m, n, rq);
                var c = Int8Data.Output(m * n, out var backing);
                if (m == 1)
                    QGemmU8S8.Gemv(Int8Data.Misaligned<byte>(a), Int8Data.Misaligned<sbyte>(packed), withBias ? Int8Data.Misaligned<int>(bias) : default,
                        Int8Data.Misaligned<int>(mult), Int8Data.Misaligned<int>(shift), c, k, n, rq);
                else
                    QGemmU8S8.Gemm(Int8Data.Misaligned<byte>(a), Int8Data.Misaligned<sbyte>(packed), withBias ? Int8Data.Misaligned<int>(bias) : default,
                        Int8Data.Misaligned<int>(mult), Int8Data.Misaligned<int>(shift), c, m, k, n, rq);
                Int8Data.AssertEqual(expected, c, $"{rq} bias={withBias}");
                Int8Data.AssertGuards(backing, m * n);
            }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GemmToF32_MatchesNaive(int m, int k, int n)
    {
        var rng = new Random(m * 100000 + k * 1000 + n + 1);
        var a = Int8Data.Bytes(rng, m * k);
        var b = Int8Data.SBytes(rng, k * n);
        var bias = Int8Data.Ints(rng, n, -5000, 5000);
        var scale = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 1e-4)).ToArray();
        var packed = Pack(b, false, k, n);
        var acc = NaiveAcc(a, b, false, bias, m, k, n);
        foreach (var act in TestData.Activations)
        {
            var expected = new float[m * n];
            for (int i = 0; i < m * n; i++) expected[i] = (float)TestData.Act((double)acc[i] * scale[i % n], act);
            var c = TestData.Output(m * n, out var backing);
            if (m == 1) QGemmU8S8.GemvToF32(Int8Data.Misaligned<byte>(a), packed, bias, scale, c, k, n, act);
            else QGemmU8S8.GemmToF32(Int8Data.Misaligned<byte>(a), packed, bias, scale, c, m, k, n, act);
            TestData.AssertClose(expected, c, 1e-5f, act.Kind.ToString());
            TestData.AssertGuards(backing, m * n);
        }
    }

    /// <summary>
    /// u8 extremes: 255 activations against −128 / +127 weights give pair sums of ±65280 (vpmaddubsw would saturate
    /// at ±32767); every ISA body must produce the exact s32 sums.
    /// </summary>
    [Theory]
    [InlineData(1, 1024, 64)]
    [InlineData(4, 512, 33)]
    [InlineData(5, 67, 17)]
    public void Extremes_DoNotSaturate(int m, int k, int n)
    {
        var rng = new Random(11);
        var a = new byte[m * k];
        var b = new sbyte[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.Next(4) == 0 ? (byte)0 : (byte)255;
        for (int j = 0; j < n; j++)
            for (int kk = 0; kk < k; kk++)
                b[kk * n + j] = (j % 3) switch { 0 => (sbyte)-128, 1 => (sbyte)127, _ => (sbyte)(kk % 2 == 0 ? -128 : 127) };
        var packed = Pack(b, false, k, n);
        var expected = NaiveAcc(a, b, false, null, m, k, n);
        foreach (var (name, body) in Bodies())
        {
            var acc = new int[m * n];
            body(a, packed, acc, m, k, n);
            Assert.True(expected.AsSpan().SequenceEqual(acc), $"{name}: s32 accumulators differ");
        }
        // And through the public entry (the dispatched body) with a requantisation that keeps the sign visible.
        var (mult, shift) = QuantMath.QuantizeMultiplier(1.0 / 65536);
        var multipliers = Enumerable.Repeat(mult, n).ToArray();
        var shifts = Enumerable.Repeat(shift, n).ToArray();
        var rq = new Requant(128, 0, 255);
        var c = new byte[m * n];
        QGemmU8S8.Gemm(a, packed, default, multipliers, shifts, c, m, k, n, rq);
        Assert.Equal(NaiveRequant(expected, multipliers, shifts, m, n, rq), c);
    }

    private delegate void Body(byte[] a, sbyte[] packed, int[] acc, int m, int k, int n);

    /// <summary>Every ISA body this CPU can run, writing raw s32 accumulators.</summary>
    private static IEnumerable<(string, Body)> Bodies()
    {
        yield return ("Scalar", (a, p, acc, m, k, n) => RunBody(a, p, acc, m, k, n, 0));
        if (Vector128.IsHardwareAccelerated) yield return ("Vector128", (a, p, acc, m, k, n) => RunBody(a, p, acc, m, k, n, 1));
        if (Avx512BW.IsSupported) yield return ("Avx512BW", (a, p, acc, m, k, n) => RunBody(a, p, acc, m, k, n, 2));
        if (AvxVnni.IsSupported) yield return ("AvxVnni", (a, p, acc, m, k, n) => RunBody(a, p, acc, m, k, n, 3));
    }

    private static void RunBody(byte[] a, sbyte[] packed, int[] acc, int m, int k, int n, int isa)
    {
        var e = new RawEpilogue(ref acc[0], n);
        ref byte a0 = ref MemoryMarshal.GetArrayDataReference(a);
        ref sbyte b0 = ref MemoryMarshal.GetArrayDataReference(packed);
        switch (isa)
        {
            case 0: QGemmU8S8.Gemm_U8S8I32_Scalar(ref a0, ref b0, ref e, m, k, n); break;
            case 1: QGemmU8S8.Gemm_U8S8I32_1x8_Vector128(ref a0, ref b0, ref e, m, k, n); break;
            case 2: QGemmU8S8.Gemm_U8S8I32_4x16_Avx512BW(ref a0, ref b0, ref e, m, k, n); break;
            case 3: QGemmU8S8.Gemm_U8S8I32_4x16_AvxVnni(ref a0, ref b0, ref e, m, k, n); break;
        }
    }

    /// <summary>Writes the raw s32 accumulators (valid lanes only).</summary>
    private ref struct RawEpilogue(ref int c, int n) : IQEpilogue
    {
        private readonly ref int _c = ref c;

        public void Store(int acc, int row, int j) => System.Runtime.CompilerServices.Unsafe.Add(ref _c, row * n + j) = acc;

        public void Store(Vector512<int> acc, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(acc.GetElement(i), row, j + i);
        }

        public void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(i < 8 ? lo.GetElement(i) : hi.GetElement(i - 8), row, j + i);
        }

        public void Store(Vector128<int> acc, int row, int j, int valid)
        {
            for (int i = 0; i < valid; i++) Store(acc.GetElement(i), row, j + i);
        }
    }

    /// <summary>Each ISA body against the scalar body on random data and odd shapes (the public entry only reaches the
    /// fastest one; the child processes reach the others through dispatch as well).</summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 3, 17)]
    [InlineData(1, 130, 65)]
    [InlineData(1, 256, 200)]
    [InlineData(3, 9, 48)]
    [InlineData(4, 64, 64)]
    [InlineData(7, 33, 70)]
    public void EveryBody_MatchesScalarBody(int m, int k, int n)
    {
        var rng = new Random(m + k + n);
        var a = Int8Data.Bytes(rng, m * k);
        var packed = Pack(Int8Data.SBytes(rng, k * n), false, k, n);
        var expected = new int[m * n];
        RunBody(a, packed, expected, m, k, n, 0);
        foreach (var (name, body) in Bodies())
        {
            var acc = new int[m * n];
            body(a, packed, acc, m, k, n);
            Assert.True(expected.AsSpan().SequenceEqual(acc), $"{name} differs from Scalar");
        }
    }

    /// <summary>Dynamic quantisation against the float product: the only error is x's rounding to u8,
    /// |err_j| ≤ s_x/2·Σₖ|W[k,j]| (+ f32 rounding).</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(64, 10)]
    [InlineData(100, 33)]
    [InlineData(784, 256)]
    public void GemvDynamic_MatchesFloatWithinQuantisationError(int k, int n)
    {
        var rng = new Random(k + 31 * n);
        var x = TestData.Random(rng, k, 3f);
        if (k > 3) x[2] = 0f;
        var codes = Int8Data.SBytes(rng, k * n);
        var weightScale = Enumerable.Range(0, n).Select(_ => (float)(0.001 + rng.NextDouble() * 0.01)).ToArray();
        var bias = TestData.Random(rng, n);
        var packed = Pack(codes, false, k, n);
        var sums = new int[n];
        QGemmU8S8.ColumnSums(codes, false, k, n, sums);
        float xMin = Math.Min(0f, x.Min()), xMax = Math.Max(0f, x.Max());
        double sx = (xMax - xMin) / 255.0;
        foreach (var act in new[] { FusedActivation.None, FusedActivation.Relu, new FusedActivation(ActivationKind.Sigmoid, 0, 0) })
        {
            var y = TestData.Output(n, out var backing);
            var scratch = new byte[k + 1];
            QGemmU8S8.GemvDynamic(Int8Data.Misaligned<float>(x), scratch.AsSpan(1), packed, sums, weightScale, bias, y, k, n, act);
            TestData.AssertGuards(backing, n);
            for (int j = 0; j < n; j++)
            {
                double sum = bias[j], bound = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    double w = codes[kk * n + j] * (double)weightScale[j];
                    sum += x[kk] * w;
                    bound += Math.Abs(w);
                }
                bound = bound * sx / 2 * 1.0001 + 1e-4 * (1 + Math.Abs(sum));
                double expected = TestData.Act(sum, act);
                Assert.True(Math.Abs(y[j] - expected) <= bound * TestData.Slope(act), $"{act.Kind}[{j}]: expected {expected}, got {y[j]} (bound {bound})");
            }
        }
    }

    [Fact]
    public void GemvDynamic_ZeroInput_GivesBias()
    {
        int k = 20, n = 5;
        var rng = new Random(3);
        var codes = Int8Data.SBytes(rng, k * n);
        var packed = Pack(codes, false, k, n);
        var sums = new int[n];
        QGemmU8S8.ColumnSums(codes, false, k, n, sums);
        var bias = new float[] { 1, -2, 3, -4, 5 };
        var y = new float[n];
        QGemmU8S8.GemvDynamic(new float[k], new byte[k], packed, sums, Enumerable.Repeat(0.5f, n).ToArray(), bias, y, k, n, FusedActivation.None);
        Assert.Equal(bias, y);
    }

    [Fact]
    public void Gemv_RejectsShortSpans()
    {
        var packed = new sbyte[QGemmU8S8.PackedLength(8, 8)];
        var ok = new int[8];
        Assert.Throws<ArgumentException>(() => QGemmU8S8.Gemv(new byte[7], packed, ok, ok, ok, new byte[8], 8, 8, new Requant(0, 0, 255)));
        Assert.Throws<ArgumentException>(() => QGemmU8S8.Gemv(new byte[8], packed.AsSpan(1), ok, ok, ok, new byte[8], 8, 8, new Requant(0, 0, 255)));
        Assert.Throws<ArgumentException>(() => QGemmU8S8.Gemv(new byte[8], packed, ok, new int[7], ok, new byte[8], 8, 8, new Requant(0, 0, 255)));
        Assert.Throws<ArgumentException>(() => QGemmU8S8.Gemv(new byte[8], packed, ok, ok, ok, new byte[7], 8, 8, new Requant(0, 0, 255)));
    }
}
