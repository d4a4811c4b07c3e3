using System.Collections.Immutable;
using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Quantization.LowBit;

/// <summary>
/// A weight tensor seen as one row per output channel (the channel axis taken out, the remaining axes in layout order:
/// for Conv [c, kh, kw], for a [K, N] Gemm/MatMul weight the k index) — the order of the layer's input rows in
/// <see cref="LayerInput"/> — and back.
/// </summary>
public sealed class WeightRows
{
    public int Channels { get; }
    public int K { get; }
    readonly long _outer, _inner;
    public ImmutableArray<long> Dims { get; }

    public WeightRows(ImmutableArray<long> dims, int channelAxis)
    {
        Dims = dims;
        _outer = dims.Take(channelAxis).Aggregate(1L, (a, d) => a * d);
        Channels = (int)dims[channelAxis];
        _inner = dims.Skip(channelAxis + 1).Aggregate(1L, (a, d) => a * d);
        K = checked((int)(_outer * _inner));
    }

    /// <summary>Element index of (channel, i) in the ONNX layout.</summary>
    public long Index(int channel, int i) => (i / _inner * Channels + channel) * _inner + i % _inner;

    /// <summary>Row <paramref name="channel"/> of <paramref name="w"/> as doubles.</summary>
    public double[] Row(float[] w, int channel)
    {
        var row = new double[K];
        for (int i = 0; i < K; i++) row[i] = w[Index(channel, i)];
        return row;
    }

    /// <summary>All rows, channels × K floats (the transposed-B layout of a Gemm with transB = 1).</summary>
    public float[] Rows(float[] w)
    {
        var rows = new float[(long)Channels * K];
        for (int c = 0; c < Channels; c++)
            for (int i = 0; i < K; i++) rows[(long)c * K + i] = w[Index(c, i)];
        return rows;
    }

    /// <summary>Codes given per row back into the ONNX layout.</summary>
    public sbyte[] ToLayout(sbyte[][] rows)
    {
        var result = new sbyte[(long)Channels * K];
        for (int c = 0; c < Channels; c++)
            for (int i = 0; i < K; i++) result[Index(c, i)] = rows[c][i];
        return result;
    }

    /// <summary>
    /// X·Bᵀ for B given as rows (channels × K): the layer's outputs for those weights on the calibration rows X (rows × K),
    /// rows × channels, with the runtime's fp32 GEMM (what the plan would compute, fast enough to try many candidates).
    /// </summary>
    public static float[] Outputs(float[] x, int rows, int k, float[] b, int channels)
    {
        var packed = new float[GemmF32.PackedLength(k, channels)];
        GemmF32.PackB(b, transposed: true, k, channels, packed);
        var y = new float[(long)rows * channels];
        GemmF32.Gemm(x, packed, default, y, rows, k, channels, FusedActivation.None);
        return y;
    }
}
