using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>
/// Sub-8-bit kernels at batch 1 against the fp32 and int8 kernels of the same shape (docs/low-bit.md): the wide MLP's
/// fc2 (1024×1024) and the digits MLP's fc2 (256×128). Shift (4-bit power-of-two codes, u8 activations) by table decode
/// + <c>vpdpbusd</c> and by multiplication-free shift-add; weight-only ternary and binary (table lookups, f32
/// activations); fully binary (XNOR + popcount, input binarised per call).
/// </summary>
public class LowBitBenchmarks : IOperationCount
{
    [Params("1024x1024", "256x128")]
    public string Shape { get; set; } = "1024x1024";

    private int _k, _n;
    private Data.QLayer _layer = null!;
    private float[] _xf = null!, _yf = null!, _alpha = null!, _alphaNeg = null!, _tables = null!;
    private byte[] _x = null!, _y = null!, _xnorScratch = null!;
    private int[] _columnSums = null!;
    private Memory<byte> _shiftCodes, _ternary, _binary, _xnor;

    private (int K, int N) Dims => (int.Parse(Shape.Split('x')[0]), int.Parse(Shape.Split('x')[1]));

    public double Operations(string method) => 2.0 * Dims.K * Dims.N;

    [GlobalSetup]
    public void Setup()
    {
        (_k, _n) = Dims;
        var rng = new Random(42);
        _layer = new Data.QLayer(rng, _k, _n);
        _xf = Data.Floats(rng, _k).Select(v => MathF.Max(v, 0)).ToArray(); // a ReLU output, as fc2 reads
        _yf = new float[_n];
        _x = Data.Bytes(rng, _k);
        _y = new byte[_n];
        var powers = new sbyte[_k * _n];
        for (int i = 0; i < powers.Length; i++) powers[i] = rng.Next(8) is var e && e == 7 ? (sbyte)0 : (sbyte)((rng.Next(2) * 2 - 1) << e);
        _shiftCodes = Data.Aligned<byte>(ShiftGemmU8.PackedLength(_k, _n));
        ShiftGemmU8.Pack(powers, false, _k, _n, _shiftCodes.Span);
        var ternary = new sbyte[_k * _n];
        for (int i = 0; i < ternary.Length; i++) ternary[i] = (sbyte)rng.Next(-1, 2);
        _ternary = Data.Aligned<byte>(TernaryGemmF32.PackedLength(_k, _n));
        TernaryGemmF32.Pack(ternary, false, _k, _n, _ternary.Span);
        var signs = new sbyte[_k * _n];
        for (int i = 0; i < signs.Length; i++) signs[i] = (sbyte)(rng.Next(2) * 2 - 1);
        _binary = Data.Aligned<byte>(BinaryGemmF32.PackedLength(_k, _n));
        BinaryGemmF32.Pack(signs, false, _k, _n, _binary.Span);
        _xnor = Data.Aligned<byte>(XnorGemmF32.PackedLength(_k, _n));
        XnorGemmF32.Pack(signs, false, _k, _n, _xnor.Span);
        _columnSums = new int[_n];
        XnorGemmF32.ColumnSums(signs, false, _k, _n, _columnSums);
        _alpha = Enumerable.Repeat(0.01f, _n).ToArray();
        _alphaNeg = Enumerable.Repeat(0.012f, _n).ToArray();
        _tables = Data.Aligned<float>(Math.Max(TernaryGemmF32.ScratchLength(_k), BinaryGemmF32.ScratchLength(_k))).ToArray();
        _xnorScratch = new byte[XnorGemmF32.ScratchLength(_k)];
    }

    [Benchmark(Baseline = true, Description = "fp32 GemmF32.Gemv")]
    public void Fp32() => GemmF32.Gemv(_xf, _layer.PackedF32.Span, _layer.FloatBias, _yf, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "int8 QGemmU8S8.Gemv (u8→u8)")]
    public void Int8() => QGemmU8S8.Gemv(_x, _layer.Packed.Span, _layer.Bias, _layer.Multiplier, _layer.Shift, _y, _k, _n, new Requant(0, 0, 255));

    [Benchmark(Description = "shift ShiftGemmU8.Gemv (4-bit, decode + vpdpbusd)")]
    public void Shift() => ShiftGemmU8.Gemv(_x, _shiftCodes.Span, _layer.Bias, _layer.Multiplier, _layer.Shift, _y, _k, _n, new Requant(0, 0, 255));

    [Benchmark(Description = "shift ShiftGemmU8.GemvShiftAdd (no multiply)")]
    public void ShiftAdd() => ShiftGemmU8.GemvShiftAdd(_x, _shiftCodes.Span, _layer.Bias, _layer.Multiplier, _layer.Shift, _y, _k, _n, new Requant(0, 0, 255));

    [Benchmark(Description = "ternary TernaryGemmF32.Gemv (2-bit, f32 x)")]
    public void Ternary() => TernaryGemmF32.Gemv(_xf, _ternary.Span, _alpha, _alphaNeg, _layer.FloatBias, _yf, _tables, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "binary weights BinaryGemmF32.Gemv (1-bit, f32 x)")]
    public void BinaryWeights() => BinaryGemmF32.Gemv(_xf, _binary.Span, _alpha, _layer.FloatBias, _yf, _tables, _k, _n, FusedActivation.Relu);

    [Benchmark(Description = "fully binary XnorGemmF32.Gemv (XNOR + popcount)")]
    public void Xnor() => XnorGemmF32.Gemv(_xf, _xnor.Span, _alpha, _columnSums, _layer.FloatBias, _yf, _xnorScratch, _k, _n, FusedActivation.Relu);
}
