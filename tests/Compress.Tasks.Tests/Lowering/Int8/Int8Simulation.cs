using Compress.Runtime;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>
/// What each int8 step must compute, written out in the test from the quantisation parameters alone (Jacob et al.,
/// CVPR 2018: s32 accumulation of raw u8 × s8, bias' = round(b/(s_x·s_w)) − zp_x·Σw, requantisation with TFLite's
/// MultiplyByQuantizedMultiplier), fed with the u8 input the plan actually produced. A step's u8 output must match it
/// exactly, so a wrong zero point, bias, scale, multiplier or clamp is caught at the step that has it.
/// </summary>
internal static class Int8Simulation
{
    /// <summary>Every step's spans: Before[s][arg] captured just before step s runs, After[s][arg] just after (written spans).</summary>
    public sealed record StepTrace(Dictionary<int, Array>[] Before, Dictionary<int, Array>[] After, float[][] Outputs);

    public static StepTrace Trace(LoweredModel m, float[][] inputs)
    {
        var steps = m.Plan.Steps;
        var before = new Dictionary<int, Array>[steps.Count];
        var after = new Dictionary<int, Array>[steps.Count];
        var interpreter = new PlanInterpreter(m.Plan, m.Weights);
        var outputs = interpreter.Run(inputs, (s, frame) =>
        {
            if (s >= 0)
            {
                var written = TypedPlanInvariants.Written(steps[s]);
                after[s] = Capture(steps[s], frame, a => written.Contains(a));
            }
            if (s + 1 < steps.Count) before[s + 1] = Capture(steps[s + 1], frame, a => a.Source != SpanSource.Weights);
        });
        return new StepTrace(before, after, outputs);
    }

    static Dictionary<int, Array> Capture(PlanStep step, PlanInterpreter.Frame frame, Func<SpanArg, bool> which)
    {
        var captured = new Dictionary<int, Array>();
        for (int a = 0; a < step.Args.Count; a++)
            if (step.Args[a] is SpanArg s && which(s))
            {
                if (s.IsFloat) captured[a] = frame.Read(s).ToArray();
                else if (s.ElementType == SpanArg.U8) captured[a] = frame.ReadU8(s).ToArray();
            }
        return captured;
    }

    /// <summary>acc[i, j] = Σₖ x[i, k]·q[k, j] over raw u8 x and s8 q (q stored k×n, or n×k when transposed).</summary>
    public static int[] Accumulate(byte[] x, int m, int k, int n, QuantizedWeight w, bool transposed)
    {
        var acc = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    acc[i * n + j] += x[i * k + p] * w.Values[transposed ? j * k + p : p * n + j];
        return acc;
    }

    /// <summary>bias'[c] = round_half_even(b[c]/(s_x·s_w[c])) − zp_x·sums[c].</summary>
    public static long[] FoldBias(float[]? bias, QuantParams x, double[] sw, int[] sums) =>
        sums.Select((sum, c) => (bias is null ? 0L : (long)Math.Round(bias[c] / (x.Scale * sw[c]), MidpointRounding.ToEven)) - (long)x.ZeroPoint * sum).ToArray();

    public static int[] ColumnSums(QuantizedWeight w, int k, int n, bool transposed) =>
        Enumerable.Range(0, n).Select(j => Enumerable.Range(0, k).Sum(p => (int)w.Values[transposed ? j * k + p : p * n + j])).ToArray();

    /// <summary>y = clamp(zp_y + MBQM(acc + bias', M[c]), lo, hi) with M[c] = s_x·s_w[c]/s_y; channel c = index % n (or / plane for NCHW).</summary>
    public static byte[] Requantize(int[] acc, long[] bias, Func<int, int> channel, QuantParams x, double[] sw, QuantParams y, int lo, int hi)
    {
        var result = new byte[acc.Length];
        for (int i = 0; i < acc.Length; i++)
        {
            int c = channel(i);
            var (multiplier, shift) = QuantMath.QuantizeMultiplier(x.Scale * sw[c] / y.Scale);
            int v = y.ZeroPoint + QuantMath.MultiplyByQuantizedMultiplier(checked((int)(acc[i] + bias[c])), multiplier, shift);
            result[i] = (byte)Math.Clamp(v, Math.Max(lo, 0), Math.Min(hi, 255));
        }
        return result;
    }

    /// <summary>y = act(s_x·s_w[c]·(acc + bias')) in float.</summary>
    public static float[] ToF32(int[] acc, long[] bias, Func<int, int> channel, QuantParams x, double[] sw, Func<float, float> act) =>
        acc.Select((a, i) => act((float)(x.Scale * sw[channel(i)]) * (a + bias[channel(i)]))).ToArray();

    /// <summary>Conv accumulators over a raw u8 NCHW image (one batch), the padding reading the input zero point.</summary>
    public static int[] ConvAccumulate(byte[] x, int c, int h, int wd, QuantizedWeight w, int m, int kh, int kw, int oh, int ow,
        int stride, int pad, int groups, int zeroPoint)
    {
        var acc = new int[m * oh * ow];
        int cg = c / groups, mg = m / groups;
        for (int co = 0; co < m; co++)
        {
            int g = co / mg;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int sum = 0;
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                int v = iy < 0 || iy >= h || ix < 0 || ix >= wd ? zeroPoint : x[((g * cg + ci) * h + iy) * wd + ix];
                                sum += v * w.Values[((co * cg + ci) * kh + ky) * kw + kx];
                            }
                    acc[(co * oh + oy) * ow + ox] = sum;
                }
        }
        return acc;
    }

    /// <summary>Σ of each output channel's weights (ONNX layout [M, C/g, kH, kW]).</summary>
    public static int[] ChannelSums(QuantizedWeight w, int m)
    {
        int per = w.Values.Length / m;
        return Enumerable.Range(0, m).Select(co => Enumerable.Range(0, per).Sum(i => (int)w.Values[co * per + i])).ToArray();
    }

    public static double[] Scales(QuantizedWeight w, int channels, double alpha = 1) =>
        Enumerable.Range(0, channels).Select(c => w.Scales[w.Scales.Length == 1 ? 0 : c] * alpha).ToArray();

    /// <summary>
    /// Checks an int8 Gemm/MatMul step against the simulation, fed with the u8 input the step actually read: a u8 output
    /// exactly (<paramref name="y"/> its parameters, [lo, hi] the clamp), an f32 output to float rounding. <paramref name="output"/>:
    /// the output's argument position when it is not the dense kernels' (5 for u8, 4 for f32).
    /// </summary>
    public static void CheckGemmStep(StepTrace trace, int step, int m, int k, int n, QuantizedWeight w, bool transposed, float[]? bias,
        double alpha, QuantParams x, QuantParams? y, int lo = 0, int hi = 255, Func<float, float>? act = null, int output = -1)
    {
        var input = Assert.IsType<byte[]>(trace.Before[step][0]);
        var acc = Accumulate(input, m, k, n, w, transposed);
        double[] sw = Scales(w, n, alpha);
        var folded = FoldBias(bias, x, sw, ColumnSums(w, k, n, transposed));
        if (y is not null)
        {
            var expected = Requantize(acc, folded, i => i % n, x, sw, y, lo, hi);
            Assert.Equal(expected, Assert.IsType<byte[]>(trace.After[step][output < 0 ? 5 : output]));
        }
        else
        {
            var expected = ToF32(acc, folded, i => i % n, x, sw, act ?? (v => v));
            var actual = Assert.IsType<float[]>(trace.After[step][output < 0 ? 4 : output]);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }

    /// <summary>u8 = clamp(round_half_even(x/s) + zp, 0, 255), the QuantizeLinear the plan runs at an fp32 → int8 boundary.</summary>
    public static byte[] Quantize(float[] x, QuantParams p) =>
        x.Select(v => (byte)Math.Clamp(MathF.Round(v / p.Scale) + p.ZeroPoint, 0f, 255f)).ToArray();

    public static float[] Dequantize(byte[] q, QuantParams p) => q.Select(v => p.Scale * (v - p.ZeroPoint)).ToArray();
}
