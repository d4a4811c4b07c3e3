using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Quantization;

/// <summary>
/// Weight quantisation. Int8: symmetric per output channel (Jacob et al., CVPR 2018, with the per-channel weights of
/// Krishnamoorthi, "Quantizing deep convolutional networks for efficient inference", 2018): scale[c] = max|w[c]|/127,
/// q = clamp(round_half_even(w/scale), −127, 127), zero point 0. Int4: symmetric per output channel per block of
/// <c>blockSize</c> values along the reduction axis (the MatMulNBits / GPTQ block-wise idea): scale = max|w|/7,
/// q = clamp(round_half_even(w/scale), −8, 7) — bit for bit what <c>GemmF32I4.Pack</c> computes, so packing the
/// dequantised weights again yields the same codes. Arithmetic is in float, as the kernels' packers do it.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>
    /// Int8 per channel along <paramref name="channelAxis"/>. An all-zero channel gets scale 1 (its codes are 0; a
    /// non-zero scale keeps the int32 bias scale s_x·s_w and the requantisation multiplier finite).
    /// </summary>
    public static QuantizedWeight Int8PerChannel(Tensor weight, int channelAxis)
    {
        var w = weight.Floats;
        var dims = weight.Dims;
        if (channelAxis < 0 || channelAxis >= dims.Length)
            throw new ArgumentOutOfRangeException(nameof(channelAxis), channelAxis, $"Weight '{weight.Name}' has rank {dims.Length}.");
        var (outer, channels, inner) = Split(dims, channelAxis);
        var max = new float[channels];
        for (long o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                long start = (o * channels + c) * inner;
                for (long i = 0; i < inner; i++) max[c] = MathF.Max(max[c], MathF.Abs(w[start + i]));
            }
        var scales = new float[channels];
        for (int c = 0; c < channels; c++) scales[c] = max[c] > 0f && float.IsNormal(max[c] / 127f) ? max[c] / 127f : 1f;
        var q = new sbyte[w.Length];
        for (long o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                long start = (o * channels + c) * inner;
                for (long i = 0; i < inner; i++) q[start + i] = (sbyte)Math.Clamp(MathF.Round(w[start + i] / scales[c]), -127f, 127f);
            }
        return new QuantizedWeight(weight.Name, dims, q, scales, channelAxis);
    }

    /// <summary>
    /// Int4 for a 2-D weight whose output channels lie along <paramref name="channelAxis"/> (0 or 1) and whose other
    /// axis is the reduction k: one scale per channel per block of <paramref name="blockSize"/> consecutive k (the last
    /// block may be shorter), <c>Scales[c·blocks + b]</c>. An all-zero block has scale 0 and codes 0.
    /// </summary>
    public static QuantizedWeight Int4Blockwise(Tensor weight, int channelAxis, int blockSize)
    {
        if (weight.Dims.Length != 2) throw new ArgumentException($"Weight '{weight.Name}' must be 2-D for int4, it has dims [{string.Join(",", weight.Dims)}].", nameof(weight));
        if (channelAxis is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(channelAxis), channelAxis, "Must be 0 or 1.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        var w = weight.Floats;
        int rows = (int)weight.Dims[0], cols = (int)weight.Dims[1];
        int n = channelAxis == 0 ? rows : cols, k = channelAxis == 0 ? cols : rows;
        int blocks = (k + blockSize - 1) / blockSize;
        int Index(int c, int kk) => channelAxis == 0 ? c * cols + kk : kk * cols + c;
        var scales = new float[n * blocks];
        var q = new sbyte[w.Length];
        for (int c = 0; c < n; c++)
            for (int b = 0; b < blocks; b++)
            {
                int k0 = b * blockSize, k1 = Math.Min(k, k0 + blockSize);
                float amax = 0f;
                for (int kk = k0; kk < k1; kk++) amax = MathF.Max(amax, MathF.Abs(w[Index(c, kk)]));
                float scale = amax / 7f;
                scales[c * blocks + b] = scale;
                for (int kk = k0; kk < k1; kk++)
                    q[Index(c, kk)] = scale == 0f ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(w[Index(c, kk)] / scale), -8f, 7f);
            }
        return new QuantizedWeight(weight.Name, weight.Dims, q, scales, channelAxis) { Bits = 4, BlockSize = blockSize };
    }

    /// <summary>Scales·Values in the original layout (per channel, or per channel and block for int4).</summary>
    public static float[] Dequantize(QuantizedWeight q)
    {
        var result = new float[q.Values.Length];
        if (q.BlockSize > 0)
        {
            int rows = (int)q.Dims[0], cols = (int)q.Dims[1];
            int k = q.ChannelAxis == 0 ? cols : rows;
            int blocks = (k + q.BlockSize - 1) / q.BlockSize;
            for (int r = 0; r < rows; r++)
                for (int col = 0; col < cols; col++)
                {
                    int c = q.ChannelAxis == 0 ? r : col, kk = q.ChannelAxis == 0 ? col : r;
                    result[r * cols + col] = q.Scales[c * blocks + kk / q.BlockSize] * q.Values[r * cols + col];
                }
            return result;
        }
        var (outer, channels, inner) = Split(q.Dims, q.ChannelAxis);
        for (long o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                long start = (o * channels + c) * inner;
                for (long i = 0; i < inner; i++)
                    result[start + i] = (q.NegativeScales is { } negative && q.Values[start + i] < 0 ? negative[c] : q.Scales[c]) * q.Values[start + i];
            }
        return result;
    }

    /// <summary>
    /// The int32 bias of an int8 layer (Jacob et al. 2018 §2.4): bias_q[c] = round_half_even(beta·bias[c] / (s_x·s_w[c])),
    /// saturated to int32, and its scales s_x·s_w[c] (computed in float, as ONNX DequantizeLinear reads them). The input
    /// zero-point correction (− zp_x·Σw) is the lowering's, since it depends on the kernel's packing.
    /// </summary>
    public static (int[] Values, float[] Scales) Int32Bias(ReadOnlySpan<float> bias, float inputScale, ReadOnlySpan<float> weightScales, float beta = 1f)
    {
        if (bias.Length != weightScales.Length)
            throw new ArgumentException($"The bias has {bias.Length} values for {weightScales.Length} weight scales.", nameof(bias));
        var values = new int[bias.Length];
        var scales = new float[bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            scales[c] = inputScale * weightScales[c];
            double q = Math.Round((double)(beta * bias[c]) / scales[c], MidpointRounding.ToEven);
            values[c] = double.IsNaN(q) ? 0 : (int)Math.Clamp(q, int.MinValue, int.MaxValue);
        }
        return (values, scales);
    }

    /// <summary>(product of dims before the axis, dims[axis], product after).</summary>
    static (long Outer, int Channels, long Inner) Split(ImmutableArray<long> dims, int axis) =>
        (dims.Take(axis).Aggregate(1L, (a, d) => a * d), (int)dims[axis], dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d));
}
