using System.Numerics.Tensors;

namespace Compress.Tasks.Quantization.LowBit;

/// <summary>
/// Power-of-two weights, post-training (DeepShift, Elhoushi et al. 2021; the exponent rounding of INQ, Zhou et al.
/// 2017): each output channel's weights become q·s with q ∈ {0, ±2^p : p_min ≤ p ≤ 6} and one scale s. Exponents are
/// picked by rounding in the log domain, p = round(log₂(|w|/s)) (|w|/s below 2^(p_min − 1) becomes 0); then, on
/// calibration data, s is refitted by least squares on the layer's output (s = qᵀGw / qᵀGq with G = XᵀX) and the
/// exponents re-rounded (a Lloyd iteration), and finally each code is tried one exponent up, one down and at zero,
/// keeping a change when it lowers the output error (wᵢ − s·qᵢ)ᵀG(w − s·q) — a greedy coordinate descent, exact
/// through the maintained residual G·r — followed by a last refit of s. Without calibration data the same steps run
/// with G = I (plain weight error).
/// </summary>
public static class ShiftFit
{
    /// <summary>The largest code, 2^6 (the runtime's <c>ShiftGemmU8.MaxMagnitude</c>).</summary>
    public const int MaxExponent = 6;

    /// <summary>The smallest exponent for a bit width: 2^(b−1) − 1 exponents end at 6.</summary>
    public static int MinExponent(int bits) => MaxExponent + 1 - ((1 << (bits - 1)) - 1);

    /// <summary>One channel's fit: codes (0 or ±2^p), scale, and the output error before and after the calibration refit (relative to wᵀGw).</summary>
    /// <param name="Energy">wᵀGw, the scale of the relative errors (so errors of channels can be added).</param>
    public sealed record Result(sbyte[] Codes, double Scale, double RoundedError, double FittedError, int Flips, double Energy = 0);

    /// <summary>
    /// Fits one row <paramref name="w"/> (K values) with exponents in [<paramref name="pmin"/>, 6]; <paramref name="gram"/> is K × K or null.
    /// With <paramref name="fixedScale"/> the scale is not fitted: the codes are rounded for it and improved by the greedy
    /// flips only (used to give every channel of a layer a power-of-two multiple of one scale).
    /// </summary>
    public static Result FitRow(double[] w, double[]? gram, int pmin, double? fixedScale = null)
    {
        int k = w.Length;
        double amax = 0;
        foreach (double v in w) amax = Math.Max(amax, Math.Abs(v));
        if (amax == 0) return new Result(new sbyte[k], fixedScale ?? 1.0, 0, 0, 0);

        // G·v for the error; G = I without calibration data.
        double[] Times(double[] v)
        {
            if (gram is null) return (double[])v.Clone();
            var r = new double[k];
            for (int i = 0; i < k; i++) r[i] = TensorPrimitives.Dot<double>(gram.AsSpan(i * k, k), v);
            return r;
        }
        double Diag(int i) => gram is null ? 1.0 : gram[i * k + i];

        double[] gw = Times(w);
        double energy = Math.Max(TensorPrimitives.Dot<double>(w, gw), double.Epsilon);
        double s = fixedScale ?? amax / (1 << MaxExponent);
        var q = Round(w, s, pmin);
        double[] gq = Times(q);
        double Error(double scale, double[] codes, double[] gCodes) =>
            energy - 2 * scale * TensorPrimitives.Dot<double>(codes, gw) + scale * scale * TensorPrimitives.Dot<double>(codes, gCodes);
        double rounded = Error(s, q, gq) / energy;

        // Lloyd: refit the scale for the codes, re-round the codes for the scale.
        for (int iteration = 0; iteration < (fixedScale is null ? 6 : 0); iteration++)
        {
            double qgq = TensorPrimitives.Dot<double>(q, gq);
            if (!(qgq > 0)) break;
            double fitted = TensorPrimitives.Dot<double>(q, gw) / qgq;
            if (!(fitted > 0)) break;
            var next = Round(w, fitted, pmin);
            var gNext = Times(next);
            if (Error(fitted, next, gNext) >= Error(s, q, gq) - 1e-15 * energy)
            {
                if (Error(fitted, q, gq) < Error(s, q, gq)) s = fitted;
                break;
            }
            (s, q, gq) = (fitted, next, gNext);
        }

        // Greedy exponent flips against the output error, through g = G·(w − s·q).
        var g = new double[k];
        for (int i = 0; i < k; i++) g[i] = gw[i] - s * gq[i];
        int flips = 0;
        double lo = Math.Pow(2, pmin);
        Span<double> options = stackalloc double[3];
        for (int pass = 0; pass < 2; pass++)
        {
            int before = flips;
            for (int i = 0; i < k; i++)
            {
                double c = q[i], best = 0, bestValue = c;
                int count = 0;
                if (c == 0) options[count++] = (w[i] >= 0 ? 1 : -1) * lo;
                else
                {
                    if (Math.Abs(c) < 1 << MaxExponent) options[count++] = 2 * c;
                    if (Math.Abs(c) > lo) options[count++] = c / 2;
                    options[count++] = 0;
                }
                for (int o = 0; o < count; o++)
                {
                    double d = options[o] - c;
                    double delta = -2 * s * d * g[i] + s * s * d * d * Diag(i);
                    if (delta < best) { best = delta; bestValue = options[o]; }
                }
                if (bestValue == c) continue;
                double step = s * (bestValue - c);
                q[i] = bestValue;
                if (gram is null) g[i] -= step;
                else TensorPrimitives.MultiplyAdd(gram.AsSpan(i * k, k), -step, g, g);
                flips++;
            }
            if (flips == before) break;
        }
        gq = Times(q);
        double qq = TensorPrimitives.Dot<double>(q, gq);
        if (fixedScale is null && qq > 0 && TensorPrimitives.Dot<double>(q, gw) / qq is var refit && refit > 0 && Error(refit, q, gq) < Error(s, q, gq)) s = refit;
        var codes = new sbyte[k];
        for (int i = 0; i < k; i++) codes[i] = (sbyte)q[i];
        return new Result(codes, s, rounded, Math.Max(0, Error(s, q, gq)) / energy, flips, energy);
    }

    /// <summary>Log-domain rounding: 0 below 2^(p_min − 1), else sign·2^clamp(round(log₂(|w|/s)), p_min, 6).</summary>
    static double[] Round(double[] w, double s, int pmin)
    {
        var q = new double[w.Length];
        double zero = Math.Pow(2, pmin - 1);
        for (int i = 0; i < w.Length; i++)
        {
            double a = Math.Abs(w[i]) / s;
            if (a < zero) continue;
            int p = Math.Clamp((int)Math.Round(Math.Log2(a), MidpointRounding.ToEven), pmin, MaxExponent);
            q[i] = Math.CopySign(1 << p, w[i]);
        }
        return q;
    }
}

/// <summary>
/// A log-domain grid for the channel scales of a shift layer, so that each channel's scale costs one byte instead of
/// int8's 32-bit multiplier and shift: s[c] = S·2^(i[c]/16) with one S per layer and a signed byte i[c] (16 steps an
/// octave, ±8 octaves; the runtime turns it into the channel's requantisation multiplier, <c>ShiftRecord</c>). Every
/// channel tries the two grid scales around its free least-squares scale (at most 1/32 octave, 2.2 %, away) and keeps
/// the one with the lower output error, its codes re-fitted for that scale (<see cref="ShiftFit.FitRow"/> with a fixed
/// scale) — the error is measured, not assumed. S = 2^(k/16) with k the rounded mean of 16·log₂ s[c]; channels beyond
/// ±8 octaves of it take the nearest end of the grid.
/// </summary>
public static class ShiftScaleGrid
{
    /// <summary>Grid steps per octave (the runtime's <c>ShiftRecord.StepsPerOctave</c>).</summary>
    public const int StepsPerOctave = 16;

    /// <summary>The refitted channels, the layer scale S and each channel's code i[c].</summary>
    public sealed record Grid(ShiftFit.Result[] Results, double Base, sbyte[] Codes);

    /// <summary>Refits <paramref name="free"/> (the per-channel fits) on the grid; row c is <paramref name="row"/>(c).</summary>
    public static Grid Snap(ShiftFit.Result[] free, Func<int, double[]> row, Func<int, double[]?> gram, int pmin)
    {
        var steps = free.Select(r => StepsPerOctave * Math.Log2(r.Scale)).ToArray();
        double k = Math.Round(steps.Average(), MidpointRounding.ToEven);
        double scaleBase = Math.Pow(2, k / StepsPerOctave);
        var results = new ShiftFit.Result[free.Length];
        var codes = new sbyte[free.Length];
        Parallel.For(0, free.Length, c =>
        {
            int below = (int)Math.Clamp(Math.Floor(steps[c] - k), sbyte.MinValue, sbyte.MaxValue - 1);
            ShiftFit.Result? best = null;
            for (int i = below; i <= below + 1; i++)
            {
                var fit = ShiftFit.FitRow(row(c), gram(c), pmin, Scale(scaleBase, i));
                if (best is null || fit.FittedError < best.FittedError) (best, codes[c]) = (fit, (sbyte)i);
            }
            results[c] = best!;
        });
        return new Grid(results, scaleBase, codes);
    }

    /// <summary>S·2^(i/16).</summary>
    public static double Scale(double scaleBase, int code) => scaleBase * Math.Pow(2, (double)code / StepsPerOctave);
}
