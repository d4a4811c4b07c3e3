using System.Collections.Immutable;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Lowering.Int8;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Hand-made quantisation for the int8 lowering tests, independent of the quantisation passes: activation ranges
/// from running the fp32 reference interpreter on the test's own samples (MinMax), int8 weights symmetric per output
/// channel computed here, decisions per node.
/// </summary>
internal static class Int8Harness
{
    /// <summary>Every value of the graph (inputs and node outputs) for one sample, from the naive fp32 interpreter.</summary>
    public static Dictionary<string, float[]> AllValues(Graph g, params float[][] inputs)
    {
        var everything = g with
        {
            Outputs = g.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0)
                .Select(o => g.Value(o) ?? new ValueInfo(o, DataType.Float, null)).ToImmutableArray(),
        };
        var feeds = new Dictionary<string, Tensor>();
        var runtimeInputs = g.Inputs.Where(i => !g.IsConstant(i.Name)).ToList();
        for (int i = 0; i < runtimeInputs.Count; i++)
        {
            var dims = runtimeInputs[i].Shape!.Dims.Select(d => d.IsKnown ? d.Value : 1).ToArray();
            feeds[runtimeInputs[i].Name] = Tensor.FromFloats(runtimeInputs[i].Name, inputs[i], dims);
        }
        var result = ReferenceInterpreter.Run(everything, feeds).ToDictionary(kv => kv.Key, kv => kv.Value.Floats);
        foreach (var (name, t) in feeds) result[name] = t.Floats;
        return result;
    }

    /// <summary>MinMax ranges of every value over <paramref name="samples"/> (each sample: one array per graph input).</summary>
    public static Dictionary<string, (float Min, float Max)> Ranges(Graph g, IEnumerable<float[][]> samples)
    {
        var ranges = new Dictionary<string, (float Min, float Max)>();
        foreach (var sample in samples)
            foreach (var (name, values) in AllValues(g, sample))
            {
                var (lo, hi) = ranges.GetValueOrDefault(name, (float.MaxValue, float.MinValue));
                ranges[name] = (Math.Min(lo, values.Min()), Math.Max(hi, values.Max()));
            }
        return ranges;
    }

    /// <summary>Symmetric per-channel int8 (scale = max|w|/127, round half to even), channels along <paramref name="axis"/>.</summary>
    public static QuantizedWeight QuantizeWeight(Tensor w, int axis)
    {
        long[] dims = w.Dims.ToArray();
        int channels = (int)dims[axis];
        long inner = dims[(axis + 1)..].Aggregate(1L, (p, d) => p * d);
        int Channel(long i) => (int)(i / inner % channels);
        var max = new float[channels];
        float[] v = w.Floats;
        for (long i = 0; i < v.Length; i++) max[Channel(i)] = Math.Max(max[Channel(i)], Math.Abs(v[i]));
        float[] scales = max.Select(m => m > 0 ? m / 127f : 1f).ToArray();
        var q = new sbyte[v.Length];
        for (long i = 0; i < v.Length; i++) q[i] = (sbyte)Math.Clamp(Math.Round(v[i] / scales[Channel(i)], MidpointRounding.ToEven), -127, 127);
        return new QuantizedWeight(w.Name, w.Dims, q, scales, axis);
    }

    /// <summary>The real weights the int8 kernels multiply by: scale[c]·q.</summary>
    public static float[] Dequantized(QuantizedWeight w)
    {
        long inner = w.Dims.Skip(w.ChannelAxis + 1).Aggregate(1L, (p, d) => p * d);
        int channels = (int)w.Dims[w.ChannelAxis];
        return w.Values.Select((q, i) => w.Scales[(int)(i / inner % channels)] * q).ToArray();
    }

    /// <summary>
    /// A QuantizationResult: every node with an op in <paramref name="int8Ops"/> decided <paramref name="precision"/>
    /// (all others fp32), its constant weight (input 1) quantised along the output-channel axis, every value's
    /// parameters from its range.
    /// </summary>
    public static QuantizationResult Result(Graph g, IEnumerable<float[][]> samples, NodePrecision precision = NodePrecision.Int8,
        IReadOnlySet<string>? int8Ops = null, IReadOnlySet<string>? exclude = null)
    {
        int8Ops ??= new HashSet<string> { "Gemm", "MatMul", "Conv", "Add", "Mul", "MaxPool", "GlobalAveragePool" };
        var activations = Ranges(g, samples).ToImmutableDictionary(kv => kv.Key, kv => QuantParams.FromRange(kv.Value.Min, kv.Value.Max));
        var weights = ImmutableDictionary.CreateBuilder<string, QuantizedWeight>();
        var decisions = ImmutableArray.CreateBuilder<NodeDecision>();
        foreach (var n in g.Nodes)
        {
            bool quantize = int8Ops.Contains(n.OpType) && !(exclude?.Contains(n.Label) ?? false);
            decisions.Add(new NodeDecision(n.Label, quantize ? precision : NodePrecision.Fp32, quantize ? "test" : "not quantised in this test"));
            if (!quantize || n.OpType is not ("Gemm" or "MatMul" or "Conv") || g.Constant(n.Input(1)) is not { } w) continue;
            int axis = n.OpType == "Gemm" ? (n.GetInt("transB", 0) != 0 ? 0 : 1) : n.OpType == "MatMul" ? 1 : 0;
            weights[w.Name] = QuantizeWeight(w, axis);
        }
        string mode = precision switch { NodePrecision.Int8Dynamic => "Int8Dynamic", NodePrecision.Int4 => "Int4", _ => "Int8" };
        return new QuantizationResult(mode, activations, weights.ToImmutable(), decisions.ToImmutable());
    }

    public static LoweredModel Lower(Graph g, QuantizationResult q)
    {
        var lowered = ModelLowering.Lower(g, Harness.Options, q);
        TypedPlanInvariants.Check(lowered);
        return lowered;
    }

    /// <summary>Runs twice on one interpreter (the arena is reused) and checks both runs agree.</summary>
    public static float[][] Run(LoweredModel lowered, params float[][] inputs)
    {
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        var first = interpreter.Run(inputs);
        var second = interpreter.Run(inputs);
        for (int o = 0; o < first.Length; o++) Assert.Equal(first[o], second[o]);
        Assert.All(first.SelectMany(o => o), v => Assert.True(float.IsFinite(v)));
        return first;
    }

    public static List<float[][]> Samples(int count, int length, int seed, float scale = 1f) =>
        Enumerable.Range(0, count).Select(s => new[] { Harness.Random(length, seed + s, scale) }).ToList();

    public static string[] Calls(LoweredModel m) => m.Plan.Steps.Select(s => s.Call).ToArray();

    /// <summary>Asserts |actual − expected| ≤ bound element-wise, reporting the worst element.</summary>
    public static void Within(float[] expected, float[] actual, double bound, string what = "output")
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (d > worst) { worst = d; at = i; }
        }
        Assert.True(worst <= bound, $"{what}: element {at} differs by {worst:G4} (expected {(at < 0 ? 0 : expected[at])}, got {(at < 0 ? 0 : actual[at])}); the bound is {bound:G4}.");
    }

    // ───────────── quantisation error bounds (Jacob et al. 2018 arithmetic, worst case) ─────────────
    //
    // x̂ is what the int8 kernel reads: |x̂ − x| ≤ dx, where dx is the error already carried by a u8 value, or the
    // error of quantising an fp32 value (≤ one step: rounding plus a clamp at the calibrated edge). The s32 product
    // differs from the fp32 one by Σ|ŵ||x̂ − x| + Σ|x||ŵ − w| ≤ dx·Σ|ŵ| + (s_w/2)·Σ|x|, the int32 bias by s_x·s_w/2,
    // and requantising to u8 adds at most two output steps (rounding, and a clamp at the calibrated edge).

    /// <summary>
    /// The error bound of an int8 Gemm/MatMul y = x·W + b over one sample: <paramref name="x"/> the fp32 reference input
    /// (m×k), <paramref name="w"/> the quantised weight (k×n, or n×k when <paramref name="transposed"/>), <paramref name="dx"/>
    /// the error of the u8 input the kernel reads, <paramref name="sy"/> the output scale (0 for an f32 output).
    /// </summary>
    public static double GemmBound(float[] x, int m, int k, int n, QuantizedWeight w, bool transposed, double sx, double dx, double sy)
    {
        float[] wq = Dequantized(w);
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sw = w.Scales[w.Scales.Length == 1 ? 0 : j], sumW = 0, sumX = 0;
                for (int p = 0; p < k; p++)
                {
                    sumW += Math.Abs(wq[transposed ? j * k + p : p * n + j]);
                    sumX += Math.Abs(x[i * k + p]);
                }
                worst = Math.Max(worst, dx * sumW + sw / 2 * sumX + sx * sw / 2);
            }
        return worst + 2 * sy + 1e-5;
    }

    /// <summary>The error bound of an int8 Conv (NCHW, one image) — <see cref="GemmBound"/> over each output's receptive field.</summary>
    public static double ConvBound(float[] x, int c, int h, int wd, QuantizedWeight w, int m, int kh, int kw, int oh, int ow,
        int stride, int pad, int groups, double sx, double dx, double sy)
    {
        float[] absW = Dequantized(w).Select(Math.Abs).ToArray();
        float[] absX = x.Select(Math.Abs).ToArray();
        float[] ones = Enumerable.Repeat(1f, absW.Length).ToArray();
        float[] dxField = Reference.Conv(Enumerable.Repeat(1f, x.Length).ToArray(), 1, c, h, wd, absW, m, kh, kw, null, oh, ow, stride, stride, pad, pad, 1, 1, groups);
        float[] xField = Reference.Conv(absX, 1, c, h, wd, ones, m, kh, kw, null, oh, ow, stride, stride, pad, pad, 1, 1, groups);
        double worst = 0;
        for (int co = 0; co < m; co++)
            for (int p = 0; p < oh * ow; p++)
            {
                double sw = w.Scales[co];
                worst = Math.Max(worst, dx * dxField[co * oh * ow + p] + sw / 2 * xField[co * oh * ow + p] + sx * sw / 2);
            }
        return worst + 2 * sy + 1e-5;
    }
}

/// <summary>
/// Invariants every plan with typed spans must satisfy (the element-size-aware twin of <see cref="PlanInvariants"/>):
/// spans inside their buffers in bytes, 64-byte-aligned tensors, no kernel output overlapping one of its inputs in
/// memory, every arena byte read written before, and an exact JSON round trip.
/// </summary>
internal static class TypedPlanInvariants
{
    /// <summary>Calls whose spans may legitimately point inside a value (a row of it).</summary>
    static readonly HashSet<string> RowCalls = [PlanCalls.QGemvDynamic, PlanCalls.GemvI4, PlanCalls.CopyRows];

    public static void Check(LoweredModel m)
    {
        var plan = m.Plan;
        Assert.Equal(m.Weights.Length, plan.Weights.Bytes);
        Assert.Equal(0, plan.ArenaFloats % 16);
        long arenaBytes = (long)plan.ArenaFloats * 4;
        var written = new bool[arenaBytes];
        foreach (var step in plan.Steps)
        {
            Assert.Contains(step.Call, PlanInterpreter.SupportedCalls);
            var spans = step.Args.OfType<SpanArg>().ToList();
            foreach (var s in spans)
            {
                long start = (long)s.Offset * s.ElementBytes, end = start + (long)s.Length * s.ElementBytes;
                if (s.Source == SpanSource.Weights)
                {
                    Assert.Equal(0, start % 64);
                    Assert.True(end <= plan.Weights.Bytes, $"{s} is outside the weights");
                }
                if (s.Source == SpanSource.Arena)
                {
                    Assert.True(end <= arenaBytes, $"Step '{step.Node}' ({step.Call}): {s} is outside the arena of {arenaBytes} bytes.");
                    if (!RowCalls.Contains(step.Call) && step.Op != "Concat") Assert.Equal(0, start % 64);
                }
                if (s.Source is SpanSource.Input or SpanSource.Output) Assert.True(s.IsFloat);
            }
            var outs = Written(step);
            foreach (var w in outs)
                foreach (var r in spans.Where(s => !outs.Contains(s)))
                {
                    if (w.Source != r.Source || w.Index != r.Index || !Overlap(w, r)) continue;
                    bool exactInPlace = step.Call == PlanCalls.Activation && w == r;
                    Assert.True(exactInPlace, $"Step '{step.Node}' ({step.Call}) writes {w} overlapping its input {r}.");
                }
            // Read after write, byte by byte (scratch spans are written by the kernel itself).
            foreach (var r in spans.Where(s => s.Source == SpanSource.Arena && !outs.Contains(s)))
                for (long b = (long)r.Offset * r.ElementBytes; b < (long)(r.Offset + r.Length) * r.ElementBytes; b++)
                    Assert.True(written[b], $"Step '{step.Node}' ({step.Call}) reads arena byte {b} of {r} before any step writes it.");
            foreach (var w in outs.Where(s => s.Source == SpanSource.Arena))
                for (long b = (long)w.Offset * w.ElementBytes; b < (long)(w.Offset + w.Length) * w.ElementBytes; b++) written[b] = true;
        }
        Assert.Equal(plan, PlanJsonReader.Read(PlanJsonWriter.Write(plan)));
    }

    public static List<SpanArg> Written(PlanStep step) => PlanInvariants.WrittenSpans(step);

    static bool Overlap(SpanArg a, SpanArg b)
    {
        long a0 = (long)a.Offset * a.ElementBytes, a1 = a0 + (long)a.Length * a.ElementBytes;
        long b0 = (long)b.Offset * b.ElementBytes, b1 = b0 + (long)b.Length * b.ElementBytes;
        return a1 > a0 && b1 > b0 && a0 < b1 && b0 < a1;
    }
}
