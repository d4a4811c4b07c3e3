using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Tests.Quantization;

public class WeightQuantizerTests
{
    [Fact]
    public void Int8_scales_are_per_output_channel_along_axis_0()
    {
        // Conv [Cout=2, Cin=1, 1, 3]: channel 0 max |w| = 63.5 (scale 0.5), channel 1 max |w| = 31.75 (scale 0.25).
        var w = Tensor.FromFloats("w", [63.5f, -31.75f, 0.01f, 31.75f, -15.875f, 0f], 2, 1, 1, 3);
        var q = WeightQuantizer.Int8PerChannel(w, 0);

        Assert.Equal(0, q.ChannelAxis);
        Assert.Equal(8, q.Bits);
        Assert.Equal([0.5f, 0.25f], q.Scales);
        Assert.Equal(new sbyte[] { 127, -64, 0, 127, -64, 0 }, q.Values); // −63.5 rounds half to even → −64
        Assert.Equal(w.Dims, q.Dims);
    }

    [Fact]
    public void Int8_scales_follow_axis_1_for_k_by_n_weights()
    {
        // MatMul / Gemm transB=0 B [K=2, N=3]: one scale per column.
        var w = Tensor.FromFloats("b", [63.5f, -254f, 31.75f, -127f, 127f, 7.875f], 2, 3);
        var q = WeightQuantizer.Int8PerChannel(w, 1);

        Assert.Equal([1f, 2f, 0.25f], q.Scales);
        Assert.Equal(new sbyte[] { 64, -127, 127, -127, 64, 32 }, q.Values); // 63.5 → 64 and 31.5 → 32 (half to even)
    }

    [Fact]
    public void Int8_rounds_half_to_even_and_stays_symmetric()
    {
        // Scale 1 (max 127): the codes are the rounded values themselves.
        var w = Tensor.FromFloats("w", [127f, 2.5f, 3.5f, -2.5f, -127f, 0.5f, 1.5f], 1, 7);
        var q = WeightQuantizer.Int8PerChannel(w, 0);

        Assert.Equal([1f], q.Scales);
        Assert.Equal(new sbyte[] { 127, 2, 4, -2, -127, 0, 2 }, q.Values);
        Assert.DoesNotContain((sbyte)-128, q.Values);
    }

    [Fact]
    public void Int8_keeps_a_zero_channel_finite()
    {
        var w = Tensor.FromFloats("w", [0f, 0f, 1f, -1f], 2, 2);
        var q = WeightQuantizer.Int8PerChannel(w, 0);
        Assert.Equal([1f, 1f / 127f], q.Scales);
        Assert.Equal(new sbyte[] { 0, 0, 127, -127 }, q.Values);
    }

    [Fact]
    public void Int8_dequantised_error_is_at_most_half_a_step()
    {
        var rng = new Random(3);
        var data = Enumerable.Range(0, 16 * 9 * 8).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var w = Tensor.FromFloats("w", data, 8, 2, 9, 8);
        var q = WeightQuantizer.Int8PerChannel(w, 0);
        var back = q.Dequantize();
        int per = data.Length / 8;
        for (int i = 0; i < data.Length; i++)
            Assert.InRange(Math.Abs(back[i] - data[i]), 0f, q.Scales[i / per] / 2 * 1.0001f);
    }

    [Fact]
    public void Int4_has_one_scale_per_channel_per_block_along_k()
    {
        // Gemm transB=1 weight [N=2, K=5], block 2: blocks k {0,1}, {2,3}, {4}.
        var w = Tensor.FromFloats("w", [7f, -3.5f, 3.5f, 1.75f, -14f, 0f, 0f, 0.875f, -1.75f, 3.5f], 2, 5);
        var q = WeightQuantizer.Int4Blockwise(w, 0, 2);

        Assert.Equal((4, 2), (q.Bits, q.BlockSize));
        Assert.Equal([1f, 0.5f, 2f, 0f, 0.25f, 0.5f], q.Scales); // [channel][block]; an all-zero block has scale 0
        Assert.Equal(new sbyte[] { 7, -4, 7, 4, -7, 0, 0, 4, -7, 7 }, q.Values); // ±3.5 → ±4 (half to even)
        Assert.Equal(w.Floats.Select((v, i) => i == 1 ? -4f : i == 3 ? 2f : i == 7 ? 1f : v), q.Dequantize());
        Assert.All(q.Values, v => Assert.InRange(v, (sbyte)-8, (sbyte)7));
    }

    [Fact]
    public void Int4_codes_are_what_the_int4_kernel_packs()
    {
        // Packing the dequantised weights again gives the same codes and scales, so the kernel computes exactly x·Dequantize().
        var rng = new Random(5);
        int k = 70, n = 20, block = 32;
        var data = Enumerable.Range(0, k * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var q = WeightQuantizer.Int4Blockwise(Tensor.FromFloats("w", data, n, k), 0, block);
        var deq = q.Dequantize();
        var x = Enumerable.Range(0, k).Select(_ => (float)rng.NextDouble()).ToArray();

        float[] Run(float[] weights)
        {
            var packed = new byte[GemmF32I4.PackedLength(k, n, block)];
            var scales = new float[GemmF32I4.ScalesLength(k, n, block)];
            GemmF32I4.Pack(weights, transposed: true, k, n, block, packed, scales);
            var y = new float[n];
            GemmF32I4.Gemv(x, packed, scales, [], y, k, n, block, FusedActivation.None);
            return y;
        }

        var fromOriginal = Run(data);
        Assert.Equal(fromOriginal, Run(deq));
        for (int j = 0; j < n; j++)
        {
            double expect = 0;
            for (int kk = 0; kk < k; kk++) expect += x[kk] * deq[j * k + kk];
            Assert.Equal(expect, fromOriginal[j], 3);
        }
    }

    [Fact]
    public void Int32_bias_uses_input_scale_times_weight_scale()
    {
        var (values, scales) = WeightQuantizer.Int32Bias([0.5f, -0.25f, 0f], 0.01f, [0.1f, 0.05f, 1f], beta: 2f);
        Assert.Equal([0.01f * 0.1f, 0.01f * 0.05f, 0.01f], scales);
        Assert.Equal([1000, -1000, 0], values);
    }
}
