using System.Numerics.Tensors;
using Compress.Tasks.Calibration;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Second moments of one layer's input on calibration data, per Conv group, for least-squares reconstruction. Rows are
/// the layer's input rows (Gemm/MatMul: rows of A; Conv: im2col patches, one per output pixel) with a trailing 1 when the
/// layer has a bias. <c>Xp</c> is the input in the model being pruned (earlier layers already pruned), <c>Xo</c> the
/// input of the same layer in the original model:
/// <c>G = XpᵀXp / n</c>, <c>C = XpᵀXo / n</c>, <c>O = XoᵀXo / n</c>. The reconstruction target of a row w of the
/// original layer is <c>Xo·w</c>; the error of a candidate row v is <c>vᵀGv − 2vᵀCw + wᵀOw</c> (per row of X, mean).
/// </summary>
internal sealed class LayerGram(int np, int no)
{
    /// <summary>Columns of Xp (the layer's current reduction length, plus 1 with a bias).</summary>
    public int Np { get; } = np;

    /// <summary>Columns of Xo.</summary>
    public int No { get; } = no;

    public double[] G { get; } = new double[np * np];

    public double[] C { get; } = new double[np * no];

    public double[] O { get; } = new double[no * no];

    public long Rows { get; set; }

    /// <summary>Divides the sums by the number of rows.</summary>
    public void Normalize()
    {
        if (Rows == 0) return;
        double s = 1.0 / Rows;
        TensorPrimitives.Multiply(G, s, G);
        TensorPrimitives.Multiply(C, s, C);
        TensorPrimitives.Multiply(O, s, O);
    }

    /// <summary>
    /// Relative output errors of candidate rows against their original rows, summed over rows (in parallel):
    /// Σ e(candidateₖ) / Σ wᵀOw for each candidate matrix (rows × Np) given, with the target rows (rows × No); and Σ wᵀOw.
    /// </summary>
    public (double[] Relative, double Energy) RelativeErrors(double[] targets, int rows, params double[][] candidates)
    {
        var sums = new double[candidates.Length + 1];
        var gate = new object();
        Parallel.For(0, rows, () => new double[candidates.Length + 1], (r, _, local) =>
        {
            var t = targets.AsSpan(r * No, No);
            var ct = new double[Np];
            for (int i = 0; i < Np; i++) ct[i] = TensorPrimitives.Dot<double>(C.AsSpan(i * No, No), t);
            double energy = Quadratic(O, No, t, t);
            local[candidates.Length] += energy;
            for (int k = 0; k < candidates.Length; k++)
            {
                var v = candidates[k].AsSpan(r * Np, Np);
                local[k] += Quadratic(G, Np, v, v) - 2 * TensorPrimitives.Dot<double>(v, ct) + energy;
            }
            return local;
        }, local => { lock (gate) for (int k = 0; k < sums.Length; k++) sums[k] += local[k]; });
        double total = sums[candidates.Length];
        return (sums.Take(candidates.Length).Select(e => total > 0 ? Math.Max(0, e) / total : 0).ToArray(), total);
    }

    /// <summary>Mean squared output error of row <paramref name="v"/> (Np) against the original row <paramref name="w"/> (No).</summary>
    public double Error(ReadOnlySpan<double> v, ReadOnlySpan<double> w) => Quadratic(G, Np, v, v) - 2 * Quadratic(C, No, v, w) + Quadratic(O, No, w, w);

    /// <summary>Mean squared output of the original row <paramref name="w"/>: wᵀOw.</summary>
    public double Energy(ReadOnlySpan<double> w) => Quadratic(O, No, w, w);

    /// <summary>aᵀ·M·b for a row-major M with <paramref name="columns"/> columns.</summary>
    public static double Quadratic(double[] m, int columns, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != 0) s += a[i] * TensorPrimitives.Dot<double>(m.AsSpan(i * columns, columns), b);
        return s;
    }
}

/// <summary>
/// Runs calibration samples through the model being pruned and through the original, both lowered and run by the
/// <see cref="PlanInterpreter"/> (the kernels the generated class calls), and hands each observed value to the caller.
/// </summary>
internal sealed class CalibrationRunner
{
    readonly CalibrationData _data;
    readonly LoweredModel _original;
    readonly PlanInterpreter _originalInterpreter;
    static readonly LoweringOptions Options = LoweringOptions.ForClass("PruneProbe");

    public CalibrationRunner(Graph original, CalibrationData data, int maxSamples)
    {
        _data = data;
        _original = ModelLowering.Lower(original, Options);
        _originalInterpreter = new PlanInterpreter(_original.Plan, _original.Weights);
        Samples = Math.Min(data.Count, maxSamples);
    }

    public int Samples { get; }

    /// <summary>
    /// For every sample: copies <paramref name="currentValues"/> of <paramref name="current"/> and <paramref name="originalValues"/>
    /// of the original model right after the step producing each, then calls <paramref name="onSample"/> with the copies.
    /// </summary>
    public void Run(Graph current, IReadOnlyList<string> currentValues, IReadOnlyList<string> originalValues, Action<float[][], float[][]> onSample)
    {
        var lowered = ModelLowering.Lower(current, Options);
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        var (curObserver, curCopies) = Observer(lowered, currentValues);
        var (origObserver, origCopies) = Observer(_original, originalValues);
        var inputs = _data.CreateBuffers();
        var outCurrent = lowered.Plan.Outputs.Select(o => new float[o.Length]).ToArray();
        var outOriginal = _original.Plan.Outputs.Select(o => new float[o.Length]).ToArray();
        for (int s = 0; s < Samples; s++)
        {
            _data.Read(s, inputs);
            interpreter.RunInto(inputs, outCurrent, curObserver);
            _originalInterpreter.RunInto(inputs, outOriginal, origObserver);
            onSample(curCopies, origCopies);
        }
    }

    static (Action<int, PlanInterpreter.Frame>, float[][]) Observer(LoweredModel model, IReadOnlyList<string> values)
    {
        var copies = new float[values.Count][];
        var byStep = new Dictionary<int, List<(int Index, SpanArg Location)>>();
        for (int i = 0; i < values.Count; i++)
        {
            if (!model.ValueLocations.TryGetValue(values[i], out var location) || !model.ValueReadyAfterStep.TryGetValue(values[i], out int step))
                throw new InvalidOperationException($"Value '{values[i]}' has no location in the lowered plan.");
            copies[i] = new float[location.Length];
            if (!byStep.TryGetValue(step, out var list)) byStep[step] = list = [];
            list.Add((i, location));
        }
        return ((step, frame) =>
        {
            if (!byStep.TryGetValue(step, out var list)) return;
            foreach (var (index, location) in list) frame.Read(location).CopyTo(copies[index]);
        }, copies);
    }
}

/// <summary>Accumulates <see cref="LayerGram"/>s for layers of the model being pruned against the same layers of the original.</summary>
internal static class GramCollector
{
    /// <summary>
    /// One <see cref="LayerGram"/> per Conv group for each (current, original) layer pair, over the runner's samples.
    /// The two views must read inputs of the same spatial geometry; their channel counts may differ.
    /// </summary>
    public static LayerGram[][] Collect(CalibrationRunner runner, Graph current, IReadOnlyList<(LinearLayer Current, LinearLayer Original)> layers)
    {
        var grams = layers.Select(l => Enumerable.Range(0, l.Current.Groups)
            .Select(_ => new LayerGram(Columns(l.Current), Columns(l.Original))).ToArray()).ToArray();
        var batches = layers.Select((l, i) => new PatchBatch(l.Current, l.Original, grams[i])).ToArray();
        runner.Run(current, layers.Select(l => l.Current.Node.Input(0)).ToArray(), layers.Select(l => l.Original.Node.Input(0)).ToArray(),
            (cur, orig) =>
            {
                for (int i = 0; i < batches.Length; i++) batches[i].Add(cur[i], orig[i]);
            });
        foreach (var b in batches) b.Flush();
        foreach (var g in grams.SelectMany(x => x)) g.Normalize();
        return grams;
    }

    static int Columns(LinearLayer layer) => layer.K + (layer.HasBias ? 1 : 0);

    /// <summary>Buffers patch rows of many samples and adds them to the Gram matrices in one parallel sweep.</summary>
    sealed class PatchBatch
    {
        readonly LinearLayer _cur, _orig;
        readonly LayerGram[] _grams;
        readonly int _rowsPerSample, _capacity;
        readonly double[][] _p, _o;
        int _rows;

        public PatchBatch(LinearLayer current, LinearLayer original, LayerGram[] grams)
        {
            _cur = current;
            _orig = original;
            _grams = grams;
            _rowsPerSample = (int)current.Positions;
            int width = Math.Max(grams[0].Np, grams[0].No);
            _capacity = Math.Max(_rowsPerSample, (int)Math.Min(8192, (1 << 20) / Math.Max(1, width) / _rowsPerSample * _rowsPerSample));
            _p = grams.Select(g => new double[(long)_capacity * g.Np]).ToArray();
            _o = grams.Select(g => new double[(long)_capacity * g.No]).ToArray();
        }

        public void Add(float[] current, float[] original)
        {
            if (_rows + _rowsPerSample > _capacity) Flush();
            for (int g = 0; g < _grams.Length; g++)
            {
                Patches(_cur, current, g, _p[g].AsSpan(_rows * _grams[g].Np, _rowsPerSample * _grams[g].Np));
                Patches(_orig, original, g, _o[g].AsSpan(_rows * _grams[g].No, _rowsPerSample * _grams[g].No));
            }
            _rows += _rowsPerSample;
        }

        public void Flush()
        {
            if (_rows == 0) return;
            int rows = _rows;
            for (int g = 0; g < _grams.Length; g++)
            {
                var gram = _grams[g];
                double[] p = _p[g], o = _o[g];
                int np = gram.Np, no = gram.No;
                Parallel.For(0, np + no, i =>
                {
                    if (i < np)
                    {
                        var gRow = gram.G.AsSpan(i * np, np);
                        var cRow = gram.C.AsSpan(i * no, no);
                        for (int r = 0; r < rows; r++)
                        {
                            double a = p[r * np + i];
                            if (a == 0) continue;
                            TensorPrimitives.MultiplyAdd(p.AsSpan(r * np, np), a, gRow, gRow);
                            TensorPrimitives.MultiplyAdd(o.AsSpan(r * no, no), a, cRow, cRow);
                        }
                    }
                    else
                    {
                        int j = i - np;
                        var oRow = gram.O.AsSpan(j * no, no);
                        for (int r = 0; r < rows; r++)
                        {
                            double a = o[r * no + j];
                            if (a != 0) TensorPrimitives.MultiplyAdd(o.AsSpan(r * no, no), a, oRow, oRow);
                        }
                    }
                });
                gram.Rows += rows;
            }
            _rows = 0;
        }
    }

    /// <summary>
    /// The input rows of <paramref name="layer"/>'s group <paramref name="group"/> for one sample (<paramref name="x"/>:
    /// the layer's whole input at batch 1) into <paramref name="dest"/> (positions × columns): Gemm/MatMul rows of A;
    /// Conv im2col patches in the weight's [c, kh, kw] order, zero where the window covers padding; a trailing 1 with a bias.
    /// </summary>
    public static void Patches(LinearLayer layer, ReadOnlySpan<float> x, int group, Span<double> dest)
    {
        int cols = layer.K + (layer.HasBias ? 1 : 0);
        if (layer.Window is not { } win)
        {
            int rows = (int)layer.Positions;
            for (int r = 0; r < rows; r++)
            {
                var row = dest.Slice(r * cols, cols);
                for (int k = 0; k < layer.K; k++) row[k] = x[r * layer.K + k];
                if (layer.HasBias) row[layer.K] = 1;
            }
            return;
        }
        bool oneD = win.Kernel.Length == 1;
        int h = layer.InSpatial[0], w = layer.InSpatial[1];
        int kh = oneD ? 1 : (int)win.Kernel[0], kw = (int)win.Kernel[^1];
        int sh = oneD ? 1 : (int)win.Strides[0], sw = (int)win.Strides[^1];
        int dh = oneD ? 1 : (int)win.Dilations[0], dw = (int)win.Dilations[^1];
        int n = win.Kernel.Length;
        int pt = oneD ? 0 : (int)win.Pads[0], pl = (int)win.Pads[n - 1];
        int oh = oneD ? 1 : (int)win.Output[0], ow = (int)win.Output[^1];
        int cg = layer.ChannelsPerGroup, c0 = group * cg;
        int pos = 0;
        for (int y = 0; y < oh; y++)
            for (int xo = 0; xo < ow; xo++, pos++)
            {
                var row = dest.Slice(pos * cols, cols);
                int k = 0;
                for (int c = 0; c < cg; c++)
                {
                    int plane = (c0 + c) * h * w;
                    for (int i = 0; i < kh; i++)
                    {
                        int iy = y * sh - pt + i * dh;
                        for (int j = 0; j < kw; j++, k++)
                        {
                            int ix = xo * sw - pl + j * dw;
                            row[k] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[plane + iy * w + ix] : 0;
                        }
                    }
                }
                if (layer.HasBias) row[layer.K] = 1;
            }
    }
}
