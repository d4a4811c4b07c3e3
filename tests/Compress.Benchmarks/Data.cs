using Compress.Runtime;
using Compress.Runtime.Kernels;

namespace Compress.Benchmarks;

/// <summary>Random layer data shared by the benchmarks (fixed seed; values do not change kernel speed).</summary>
internal static class Data
{
    /// <summary>
    /// A 64-byte aligned, pinned buffer, as <see cref="ModelWeights"/> hands weights to the generated code: packed
    /// panels then never straddle cache lines (a misaligned 1 MB int8 panel set measured ≈ 10 % slower).
    /// </summary>
    public static unsafe Memory<T> Aligned<T>(int length) where T : unmanaged
    {
        var array = GC.AllocateArray<T>(length + 64 / sizeof(T), pinned: true);
        fixed (T* p = array)
            return new Memory<T>(array, (int)((64 - ((nint)p & 63)) & 63) / sizeof(T), length);
    }

    public static float[] Floats(Random rng, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static byte[] Bytes(Random rng, int n)
    {
        var a = new byte[n];
        rng.NextBytes(a);
        return a;
    }

    public static sbyte[] SBytes(Random rng, int n)
    {
        var a = new sbyte[n];
        for (int i = 0; i < n; i++) a[i] = (sbyte)rng.Next(-127, 128);
        return a;
    }

    /// <summary>A quantised dense layer k→n: packed s8 weights, s32 bias, per-column requantisation and f32 scales.</summary>
    public sealed class QLayer
    {
        public readonly Memory<sbyte> Packed;
        public readonly int[] Bias, Multiplier, Shift, Sums;
        public readonly float[] Scale, WeightScale, FloatBias;
        public readonly Memory<float> PackedF32;
        public readonly int K, N;

        public QLayer(Random rng, int k, int n)
        {
            K = k;
            N = n;
            var w = SBytes(rng, k * n);
            Packed = Aligned<sbyte>(QGemmU8S8.PackedLength(k, n));
            QGemmU8S8.PackB(w, false, k, n, Packed.Span);
            Sums = new int[n];
            QGemmU8S8.ColumnSums(w, false, k, n, Sums);
            Bias = new int[n];
            Multiplier = new int[n];
            Shift = new int[n];
            Scale = new float[n];
            WeightScale = new float[n];
            FloatBias = Floats(rng, n);
            for (int j = 0; j < n; j++)
            {
                Bias[j] = rng.Next(-1000, 1000);
                WeightScale[j] = 0.01f;
                Scale[j] = 0.0001f;
                (Multiplier[j], Shift[j]) = QuantMath.QuantizeMultiplier(1.0 / (k * 64.0));
            }
            var wf = new float[k * n];
            for (int i = 0; i < wf.Length; i++) wf[i] = w[i] * 0.01f;
            PackedF32 = Aligned<float>(GemmF32.PackedLength(k, n));
            GemmF32.PackB(wf, false, k, n, PackedF32.Span);
        }
    }
}
