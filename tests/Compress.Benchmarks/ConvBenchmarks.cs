using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>Convolutions at the digits CNN's sizes: 16→32 3×3 pad 1 on 8×8, and a 32-channel 3×3 depthwise on 14×14.</summary>
public class ConvBenchmarks : IOperationCount
{
    private static readonly Conv2dShape Dense = new(1, 16, 8, 8, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    private static readonly Conv2dShape Depthwise = new(1, 32, 14, 14, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 32);

    private float[] _xf = null!, _wf = null!, _yf = null!, _sf = null!, _bf = null!;
    private float[] _dxf = null!, _dwf = null!, _dyf = null!, _dsf = null!, _dbf = null!;
    private byte[] _x = null!, _y = null!, _s = null!, _dx = null!, _dy = null!, _ds = null!;
    private sbyte[] _w = null!, _dw = null!;
    private int[] _bias = null!, _mult = null!, _shift = null!;

    public double Operations(string method)
    {
        var s = method.Contains("Depthwise") ? Depthwise : Dense;
        return 2.0 * s.OutChannels * s.OutHeight * s.OutWidth * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth;
    }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        (_xf, _wf, _yf, _sf, _bf) = F32(rng, Dense, false);
        (_dxf, _dwf, _dyf, _dsf, _dbf) = F32(rng, Depthwise, true);
        (_x, _w, _y, _s) = U8(rng, Dense, false);
        (_dx, _dw, _dy, _ds) = U8(rng, Depthwise, true);
        _bias = new int[32];
        _mult = new int[32];
        _shift = new int[32];
        for (int c = 0; c < 32; c++) (_mult[c], _shift[c]) = QuantMath.QuantizeMultiplier(0.0005);
    }

    private static (float[], float[], float[], float[], float[]) F32(Random rng, Conv2dShape s, bool depthwise)
    {
        var w = Data.Floats(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var packed = new float[depthwise ? DepthwiseConv2dF32.PackedWeightsLength(s) : Conv2dF32.PackedWeightsLength(s)];
        if (depthwise) DepthwiseConv2dF32.PackWeights(w, s, packed);
        else Conv2dF32.PackWeights(w, s, packed);
        var scratch = new float[depthwise ? DepthwiseConv2dF32.ScratchLength(s) : Conv2dF32.ScratchLength(s)];
        return (Data.Floats(rng, s.InChannels * s.InHeight * s.InWidth), packed, new float[s.OutChannels * s.OutHeight * s.OutWidth], scratch, Data.Floats(rng, s.OutChannels));
    }

    private static (byte[], sbyte[], byte[], byte[]) U8(Random rng, Conv2dShape s, bool depthwise)
    {
        var w = Data.SBytes(rng, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth);
        var packed = new sbyte[depthwise ? QDepthwiseConv2dU8S8.PackedWeightsLength(s) : QConv2dU8S8.PackedWeightsLength(s)];
        if (depthwise) QDepthwiseConv2dU8S8.PackWeights(w, s, packed);
        else QConv2dU8S8.PackWeights(w, s, packed);
        var scratch = new byte[depthwise ? QDepthwiseConv2dU8S8.ScratchLength(s) : QConv2dU8S8.ScratchLength(s)];
        return (Data.Bytes(rng, s.InChannels * s.InHeight * s.InWidth), packed, new byte[s.OutChannels * s.OutHeight * s.OutWidth], scratch);
    }

    [Benchmark(Baseline = true, Description = "fp32 Conv2dF32 16→32 3×3 on 8×8")]
    public void Fp32Conv() => Conv2dF32.Run(_xf, _wf, _bf, _yf, _sf, Dense, FusedActivation.Relu);

    [Benchmark(Description = "int8 QConv2dU8S8 16→32 3×3 on 8×8")]
    public void Int8Conv() => QConv2dU8S8.Run(_x, _w, _bias, _mult, _shift, _y, _s, Dense, 3, new Requant(0, 0, 255));

    [Benchmark(Description = "fp32 DepthwiseConv2dF32 32ch 3×3 on 14×14")]
    public void Fp32Depthwise() => DepthwiseConv2dF32.Run(_dxf, _dwf, _dbf, _dyf, _dsf, Depthwise, FusedActivation.Relu);

    [Benchmark(Description = "int8 QDepthwiseConv2dU8S8 32ch 3×3 on 14×14")]
    public void Int8Depthwise() => QDepthwiseConv2dU8S8.Run(_dx, _dw, _bias, _mult, _shift, _dy, _ds, Depthwise, 3, new Requant(0, 0, 255));
}
