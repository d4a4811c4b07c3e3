using System.Diagnostics;
using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Tests.Quantization;

/// <summary>
/// Times the Compress.Runtime kernels the <see cref="CostModel"/> estimates, at the shapes of the Digits models and a
/// few larger ones, and sets each measurement beside the model's estimate. Used by the opt-in
/// <see cref="CostModelCalibrationTests"/> (and compiled into a stand-alone harness to fit the constants). Each
/// number is the minimum over many ~40 µs batches, so a busy machine inflates it little.
/// </summary>
public static class KernelTimings
{
    /// <summary>One measurement: what ran, the model's estimate and the measured time, in ns.</summary>
    public sealed record Row(string Kernel, string Shape, double EstimateNs, double MeasuredNs)
    {
        public double Ratio => MeasuredNs / EstimateNs;
    }

    public static double Time(Action run, int budgetMs = 400)
    {
        for (int i = 0; i < 500; i++) run();
        var sw = Stopwatch.StartNew();
        int per = 1;
        while (true)
        {
            sw.Restart();
            for (int i = 0; i < per; i++) run();
            sw.Stop();
            if (sw.Elapsed.TotalMicroseconds > 40 || per > 1 << 20) break;
            per *= 2;
        }
        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        for (int batch = 0; batch < 4000 && total.ElapsedMilliseconds < budgetMs; batch++)
        {
            sw.Restart();
            for (int i = 0; i < per; i++) run();
            sw.Stop();
            best = Math.Min(best, sw.Elapsed.TotalMicroseconds * 1000 / per);
        }
        return best;
    }

    public static (int K, int N)[] GemvShapes { get; } =
        [(16, 4), (4, 16), (16, 10), (32, 10), (128, 10), (512, 10), (1024, 10), (64, 256), (256, 128), (64, 1024), (1024, 1024), (2048, 2048)];

    public static (int M, int K, int N)[] GemmShapes { get; } = [(4, 64, 256), (16, 256, 128), (64, 144, 32), (64, 512, 512)];

    public static (string Name, Conv2dShape Shape)[] ConvShapes { get; } =
    [
        ("1→16 3×3 8×8", new(1, 1, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
        ("16→32 3×3 8×8", new(1, 16, 8, 8, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
        ("16→16 1×1 8×8", new(1, 16, 8, 8, 16, 8, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1)),
        ("16→32 1×1 4×4", new(1, 16, 4, 4, 32, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1)),
        ("32→32 1×1 4×4", new(1, 32, 4, 4, 32, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1)),
        ("32→8 1×1 1×1", new(1, 32, 1, 1, 8, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1)),
        ("64→64 3×3 16×16", new(1, 64, 16, 16, 64, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
    ];

    public static (string Name, Conv2dShape Shape)[] DepthwiseShapes { get; } =
    [
        ("16 ch 3×3 8×8", new(1, 16, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 16)),
        ("16 ch 3×3 /2 8×8", new(1, 16, 8, 8, 16, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 16)),
        ("32 ch 3×3 4×4", new(1, 32, 4, 4, 32, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 32)),
        ("64 ch 3×3 32×32", new(1, 64, 32, 32, 64, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 64)),
        ("8 ch 3×3 16×16", new(1, 8, 16, 16, 8, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 8)),
        ("128 ch 3×3 8×8", new(1, 128, 8, 8, 128, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 128)),
        ("32 ch 3×3 /2 8×8", new(1, 32, 8, 8, 32, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 32)),
    ];

    public static int[] ElementCounts { get; } = [16, 64, 512, 1024, 4096, 65536];

    /// <summary>Every measurement, with the estimates of <paramref name="model"/>.</summary>
    public static List<Row> Measure(CostModel model, int budgetMs = 400)
    {
        var rows = new List<Row>();
        var rng = new Random(1);
        float[] F(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        sbyte[] S(int n) => Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
        byte[] U(int n) => Enumerable.Range(0, n).Select(_ => (byte)rng.Next(0, 256)).ToArray();
        int[] Repeat(int v, int n) => Enumerable.Repeat(v, n).ToArray();

        foreach (var (k, n) in GemvShapes)
        {
            var shape = LayerShape.Linear(1, k, n);
            string text = $"{k}→{n}";
            var w = F(k * n);
            var packed = new float[GemmF32.PackedLength(k, n)];
            GemmF32.PackB(w, true, k, n, packed);
            float[] x = F(k), bias = F(n), y = new float[n];
            rows.Add(new("GemmF32.Gemv", text, model.Fp32(shape), Time(() => GemmF32.Gemv(x, packed, bias, y, k, n, FusedActivation.Relu), budgetMs)));

            var packedQ = new sbyte[QGemmU8S8.PackedLength(k, n)];
            QGemmU8S8.PackB(S(k * n), true, k, n, packedQ);
            byte[] xq = U(k), yq = new byte[n];
            int[] biasQ = new int[n], multiplier = Repeat(1 << 30, n), shift = Repeat(-8, n);
            rows.Add(new("QGemmU8S8.Gemv", text, model.Int8(shape),
                Time(() => QGemmU8S8.Gemv(xq, packedQ, biasQ, multiplier, shift, yq, k, n, new Requant(3, 3, 255)), budgetMs)));
            var scale = F(n);
            rows.Add(new("QGemmU8S8.GemvToF32", text, model.Int8(shape),
                Time(() => QGemmU8S8.GemvToF32(xq, packedQ, biasQ, scale, y, k, n, FusedActivation.Relu), budgetMs)));
            var sums = new int[n];
            var scratch = new byte[k];
            rows.Add(new("QGemmU8S8.GemvDynamic", text, model.Int8Dynamic(shape),
                Time(() => QGemmU8S8.GemvDynamic(x, scratch, packedQ, sums, scale, bias, y, k, n, FusedActivation.Relu), budgetMs)));
            const int block = 32;
            var nibbles = new byte[GemmF32I4.PackedLength(k, n, block)];
            var scales = new float[GemmF32I4.ScalesLength(k, n, block)];
            GemmF32I4.Pack(w, true, k, n, block, nibbles, scales);
            rows.Add(new("GemmF32I4.Gemv", text, model.Int4(shape),
                Time(() => GemmF32I4.Gemv(x, nibbles, scales, bias, y, k, n, block, FusedActivation.Relu), budgetMs)));
        }

        foreach (var (m, k, n) in GemmShapes)
        {
            var shape = LayerShape.Linear(m, k, n);
            string text = $"{m}×{k}→{n}";
            var packed = new float[GemmF32.PackedLength(k, n)];
            GemmF32.PackB(F(k * n), true, k, n, packed);
            float[] a = F(m * k), bias = F(n), c = new float[m * n];
            rows.Add(new("GemmF32.Gemm", text, model.Fp32(shape), Time(() => GemmF32.Gemm(a, packed, bias, c, m, k, n, FusedActivation.Relu), budgetMs)));
            var packedQ = new sbyte[QGemmU8S8.PackedLength(k, n)];
            QGemmU8S8.PackB(S(k * n), true, k, n, packedQ);
            byte[] aq = U(m * k), cq = new byte[m * n];
            int[] biasQ = new int[n], multiplier = Repeat(1 << 30, n), shift = Repeat(-8, n);
            rows.Add(new("QGemmU8S8.Gemm", text, model.Int8(shape),
                Time(() => QGemmU8S8.Gemm(aq, packedQ, biasQ, multiplier, shift, cq, m, k, n, new Requant(0, 0, 255)), budgetMs)));
        }

        foreach (var (name, s) in ConvShapes)
        {
            var shape = LayerShape.Convolution((long)s.Batch * s.OutHeight * s.OutWidth, (long)s.InChannels / s.Groups * s.KernelHeight * s.KernelWidth,
                s.OutChannels, s.Groups, (long)s.Batch * s.InChannels * s.InHeight * s.InWidth,
                s.KernelHeight == 1 && s.KernelWidth == 1 && s.StrideHeight == 1 && s.StrideWidth == 1 && s.PadTop == 0 && s.PadLeft == 0);
            int weights = s.OutChannels * s.InChannels / s.Groups * s.KernelHeight * s.KernelWidth;
            int inputs = s.Batch * s.InChannels * s.InHeight * s.InWidth, outputs = s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
            var packed = new float[Conv2dF32.PackedWeightsLength(s)];
            Conv2dF32.PackWeights(F(weights), s, packed);
            float[] x = F(inputs), y = new float[outputs], bias = F(s.OutChannels), scratch = new float[Conv2dF32.ScratchLength(s)];
            rows.Add(new("Conv2dF32.Run", name, model.Fp32(shape), Time(() => Conv2dF32.Run(x, packed, bias, y, scratch, s, FusedActivation.Relu), budgetMs)));

            var packedQ = new sbyte[QConv2dU8S8.PackedWeightsLength(s)];
            QConv2dU8S8.PackWeights(S(weights), s, packedQ);
            byte[] xq = U(inputs), yq = new byte[outputs], scratchQ = new byte[QConv2dU8S8.ScratchLength(s)];
            int[] biasQ = new int[s.OutChannels], multiplier = Repeat(1 << 30, s.OutChannels), shift = Repeat(-8, s.OutChannels);
            rows.Add(new("QConv2dU8S8.Run", name, model.Int8(shape),
                Time(() => QConv2dU8S8.Run(xq, packedQ, biasQ, multiplier, shift, yq, scratchQ, s, 3, new Requant(0, 0, 255)), budgetMs)));
        }

        foreach (var (name, s) in DepthwiseShapes)
        {
            var shape = LayerShape.Depthwise((long)s.Batch * s.OutHeight * s.OutWidth, s.OutChannels, s.KernelHeight * s.KernelWidth);
            int weights = s.OutChannels * s.KernelHeight * s.KernelWidth;
            int inputs = s.Batch * s.InChannels * s.InHeight * s.InWidth, outputs = s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
            var packed = new float[DepthwiseConv2dF32.PackedWeightsLength(s)];
            DepthwiseConv2dF32.PackWeights(F(weights), s, packed);
            float[] x = F(inputs), y = new float[outputs], bias = F(s.OutChannels), scratch = new float[DepthwiseConv2dF32.ScratchLength(s)];
            rows.Add(new("DepthwiseConv2dF32.Run", name, model.Fp32(shape),
                Time(() => DepthwiseConv2dF32.Run(x, packed, bias, y, scratch, s, FusedActivation.Relu), budgetMs)));

            var packedQ = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(s)];
            QDepthwiseConv2dU8S8.PackWeights(S(weights), s, packedQ);
            byte[] xq = U(inputs), yq = new byte[outputs], scratchQ = new byte[QDepthwiseConv2dU8S8.ScratchLength(s)];
            int[] biasQ = new int[s.OutChannels], multiplier = Repeat(1 << 30, s.OutChannels), shift = Repeat(-8, s.OutChannels);
            rows.Add(new("QDepthwiseConv2dU8S8.Run", name, model.Int8(shape),
                Time(() => QDepthwiseConv2dU8S8.Run(xq, packedQ, biasQ, multiplier, shift, yq, scratchQ, s, 3, new Requant(0, 0, 255)), budgetMs)));
        }

        foreach (int n in ElementCounts)
        {
            string text = $"{n}";
            float[] x = F(n), x2 = F(n), yf = new float[n];
            byte[] u = U(n), u2 = U(n), yb = new byte[n];
            var bc = Broadcast4.Create([n], [n], [n]);
            rows.Add(new("QuantizeF32.Run", text, model.QuantizeCost(n), Time(() => QuantizeF32.Run(x, yb, 0.01f, 3), budgetMs)));
            rows.Add(new("DequantizeU8.Run", text, model.DequantizeCost(n), Time(() => DequantizeU8.Run(u, yf, 0.01f, 3), budgetMs)));
            rows.Add(new("BinaryF32.Run Add", text, model.Fp32(LayerShape.Elementwise(n)),
                Time(() => BinaryF32.Run(BinaryOp.Add, x, x2, yf, bc, FusedActivation.Relu), budgetMs)));
            rows.Add(new("QBinaryU8.Run Add", text, model.Int8(LayerShape.Elementwise(n)),
                Time(() => QBinaryU8.Run(BinaryOp.Add, u, u2, yb, bc, 0.01f, 3, 0.02f, 5, 0.03f, 0, 0, 255), budgetMs)));
        }
        return rows;
    }

    public static string Format(IEnumerable<Row> rows) => string.Join(Environment.NewLine,
        rows.Select(r => $"{r.Kernel,-26} {r.Shape,-18} estimate {r.EstimateNs,11:F1} ns  measured {r.MeasuredNs,11:F1} ns  ×{r.Ratio:F2}"));
}
