using Compress.Runtime.Kernels;

namespace Compress.Tasks.Quantization.LowBit;

/// <summary>
/// Ternary and binary weights for a Gemm/MatMul, post-training, one output channel (row of <see cref="WeightRows"/>)
/// at a time, fitted to the layer's outputs on the calibration rows X when there are any:
/// <list type="bullet">
/// <item>Ternary (TTQ, Zhu et al., ICLR 2017, without retraining; threshold rule of TWN, Li et al. 2016): codes
/// +1 where w &gt; Δ, −1 where w &lt; −Δ, else 0, with Δ = t·mean|w|. Without calibration data t = 0.7 and
/// αp, αn are the mean magnitudes above and below the threshold. With it, t is chosen per channel from
/// 0.3, 0.4, …, 1.2 and (αp, αn) solve the 2×2 least-squares problem min ‖y − αp·X·P + αn·X·N‖² (y = X·w, the fp32
/// output), so both the threshold and the two scales minimise the channel's output error.</item>
/// <item>Binary (BinaryConnect, Courbariaux et al., NIPS 2015; the α of XNOR-Net, Rastegari et al., ECCV 2016): signs
/// s = sign(w) (w = 0 counts as +1), α = mean|w|; with calibration data α = yᵀu / uᵀu, u = X·s, the least-squares
/// scale of the layer's output.</item>
/// <item>Fully binary (XNOR-Net / BNN): the same signs, the input binarised as the kernel does it
/// (<see cref="XnorGemmF32.Binarize"/>), α = yᵀu / uᵀu with u = X̂·s on the binarised calibration rows X̂.</item>
/// </list>
/// </summary>
public static class SignFits
{
    /// <summary>TTQ/TWN's default threshold factor.</summary>
    public const double DefaultThreshold = 0.7;

    /// <summary>The threshold factors tried with calibration data.</summary>
    public static IReadOnlyList<double> Thresholds { get; } = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2];

    /// <summary>A fitted layer: codes per channel row, scales (αp or α), negative scales (αn; ternary), and notes.</summary>
    public sealed record Result(sbyte[][] Codes, float[] Scales, float[]? NegativeScales, double RelativeError, string Note);

    /// <summary>Ternary codes and scales for every channel of <paramref name="rows"/>; <paramref name="input"/> may be null.</summary>
    public static Result Ternary(WeightRows layout, float[] w, LayerInput? input)
    {
        int n = layout.Channels, k = layout.K;
        var rows = Enumerable.Range(0, n).Select(c => layout.Row(w, c)).ToArray();
        var meanAbs = rows.Select(r => r.Average(Math.Abs)).ToArray();
        sbyte[] Codes(int c, double t)
        {
            double delta = t * meanAbs[c];
            return rows[c].Select(v => v > delta ? (sbyte)1 : v < -delta ? (sbyte)-1 : (sbyte)0).ToArray();
        }
        var codes = new sbyte[n][];
        var ap = new float[n];
        var an = new float[n];
        if (input?.X is not { } x || input.Rows == 0)
        {
            for (int c = 0; c < n; c++)
            {
                codes[c] = Codes(c, DefaultThreshold);
                (ap[c], an[c]) = ClosedForm(rows[c], codes[c]);
            }
            return new Result(codes, ap, an, double.NaN, $"Δ = {DefaultThreshold}·mean|w|, α = mean |w| beyond ±Δ (no calibration data)");
        }

        int r = input.Rows;
        var y = WeightRows.Outputs(x, r, k, layout.Rows(w), n);
        var yy = ColumnDots(y, y, r, n);
        var bestError = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        var bestT = new double[n];
        foreach (double t in Thresholds)
        {
            var candidate = Enumerable.Range(0, n).Select(c => Codes(c, t)).ToArray();
            var (u, v) = (WeightRows.Outputs(x, r, k, Mask(candidate, k, +1), n), WeightRows.Outputs(x, r, k, Mask(candidate, k, -1), n));
            var uu = ColumnDots(u, u, r, n);
            var vv = ColumnDots(v, v, r, n);
            var uv = ColumnDots(u, v, r, n);
            var uy = ColumnDots(u, y, r, n);
            var vy = ColumnDots(v, y, r, n);
            for (int c = 0; c < n; c++)
            {
                var (p, m) = LeastSquares(uu[c], uv[c], vv[c], uy[c], vy[c], ClosedForm(rows[c], candidate[c]));
                double error = yy[c] - 2 * p * uy[c] + 2 * m * vy[c] + p * p * uu[c] - 2 * p * m * uv[c] + m * m * vv[c];
                if (error < bestError[c])
                {
                    bestError[c] = error;
                    bestT[c] = t;
                    codes[c] = candidate[c];
                    (ap[c], an[c]) = ((float)p, (float)m);
                }
            }
        }
        double relative = bestError.Sum(e => Math.Max(0, e)) / Math.Max(yy.Sum(), double.Epsilon);
        var ts = bestT.GroupBy(t => t).OrderByDescending(g => g.Count()).Take(3).Select(g => $"{g.Key:0.0}×{g.Count()}");
        return new Result(codes, ap, an, relative,
            $"Δ = t·mean|w| with t per channel from calibration ({string.Join(", ", ts)}…), (αp, αn) least squares on the output; output error {relative:P1}");
    }

    /// <summary>Binary signs and scales; with <paramref name="binaryActivations"/> fitted for binarised inputs.</summary>
    public static Result Binary(WeightRows layout, float[] w, LayerInput? input, bool binaryActivations)
    {
        int n = layout.Channels, k = layout.K;
        var rows = Enumerable.Range(0, n).Select(c => layout.Row(w, c)).ToArray();
        var codes = rows.Select(r => r.Select(v => v >= 0 ? (sbyte)1 : (sbyte)-1).ToArray()).ToArray();
        var alpha = rows.Select(r => (float)r.Average(Math.Abs)).ToArray();
        if (input?.X is not { } x || input.Rows == 0)
            return new Result(codes, alpha, null, double.NaN, "α = mean|w| (no calibration data)");

        int rCount = input.Rows;
        var y = WeightRows.Outputs(x, rCount, k, layout.Rows(w), n);
        var xs = binaryActivations ? Binarised(x, rCount, k) : x;
        var u = WeightRows.Outputs(xs, rCount, k, Mask(codes, k, 0), n);
        var uu = ColumnDots(u, u, rCount, n);
        var uy = ColumnDots(u, y, rCount, n);
        var yy = ColumnDots(y, y, rCount, n);
        double error = 0;
        for (int c = 0; c < n; c++)
        {
            if (uu[c] > 0 && uy[c] / uu[c] is var a && a > 0) alpha[c] = (float)a;
            error += yy[c] - 2 * alpha[c] * uy[c] + (double)alpha[c] * alpha[c] * uu[c];
        }
        double relative = Math.Max(0, error) / Math.Max(yy.Sum(), double.Epsilon);
        return new Result(codes, alpha, null, relative,
            (binaryActivations ? "inputs binarised per call (two levels around their mean), " : "") +
            $"α least squares on the output (mean|w| without calibration data); output error {relative:P1}");
    }

    /// <summary>Each row of x binarised as <see cref="XnorGemmF32.Binarize"/> does: μ + β·(±1).</summary>
    static float[] Binarised(float[] x, int rows, int k)
    {
        var result = new float[x.Length];
        var bits = new ulong[(k + 63) / 64];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * k, k);
            var (mu, beta) = XnorGemmF32.Binarize(row, k, bits);
            for (int i = 0; i < k; i++) result[r * k + i] = ((bits[i / 64] >> (i % 64)) & 1) != 0 ? mu + beta : mu - beta;
        }
        return result;
    }

    /// <summary>Codes as floats (sign 0: the codes themselves; +1/−1: the indicator of that code), channels × K.</summary>
    static float[] Mask(sbyte[][] codes, int k, int sign)
    {
        var m = new float[codes.Length * k];
        for (int c = 0; c < codes.Length; c++)
            for (int i = 0; i < k; i++)
                m[c * k + i] = sign == 0 ? codes[c][i] : codes[c][i] == sign ? 1f : 0f;
        return m;
    }

    /// <summary>Σ_rows a[r, c]·b[r, c] per column c.</summary>
    static double[] ColumnDots(float[] a, float[] b, int rows, int n)
    {
        var d = new double[n];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < n; c++) d[c] += (double)a[r * n + c] * b[r * n + c];
        return d;
    }

    /// <summary>TWN's closed form: the mean magnitude of the weights coded +1, and of those coded −1.</summary>
    static (float, float) ClosedForm(double[] w, sbyte[] codes)
    {
        double sp = 0, sn = 0;
        int np = 0, nn = 0;
        for (int i = 0; i < w.Length; i++)
        {
            if (codes[i] > 0) { sp += w[i]; np++; }
            else if (codes[i] < 0) { sn -= w[i]; nn++; }
        }
        return ((float)(np > 0 ? sp / np : 0), (float)(nn > 0 ? sn / nn : 0));
    }

    /// <summary>min ‖y − p·u + m·v‖²: [uu −uv; −uv vv]·[p; m] = [uy; −vy]; the closed form when singular or negative.</summary>
    static (double P, double M) LeastSquares(double uu, double uv, double vv, double uy, double vy, (float P, float M) fallback)
    {
        double det = uu * vv - uv * uv;
        if (det > 1e-12 * Math.Max(uu * vv, double.Epsilon))
        {
            double p = (uy * vv - vy * uv) / det;
            double m = (uy * uv - vy * uu) / det;
            if (p >= 0 && m >= 0) return (p, m);
        }
        if (uu > 0 && vv == 0) return (Math.Max(0, uy / uu), fallback.M);
        if (vv > 0 && uu == 0) return (fallback.P, Math.Max(0, -vy / vv));
        return (fallback.P, fallback.M);
    }
}
