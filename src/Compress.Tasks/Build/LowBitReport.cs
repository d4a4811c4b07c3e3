using System.Diagnostics;
using System.Globalization;
using System.Text;
using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Build;

/// <summary>
/// The report's "Low-bit layers" section (docs/low-bit.md): for every shift, ternary, binary or fully binary layer of
/// the plan, its representation, stored weight bytes against fp32, and its kernel timed at build time against the
/// int8 and fp32 kernels of the same shape (random data of that shape; the speed of these kernels does not depend on
/// the values) — so the report says, measured on the build machine, which is faster.
/// </summary>
internal static class LowBitReport
{
    /// <summary>A comparison ends when no kernel got 2 % faster for this long…</summary>
    static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(100);

    /// <summary>…or after this long.</summary>
    static readonly TimeSpan MaxTime = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Round-robin warm-up of every kernel before any is timed: tiered compilation first runs each kernel unoptimised
    /// (tens of times slower) and swaps in the optimised code after 30 calls and a quiet spell, later on a busy machine.
    /// The warm-up ends once nothing new has been compiled for this long…
    /// </summary>
    static readonly TimeSpan WarmUp = TimeSpan.FromMilliseconds(250);

    /// <summary>…or after this long.</summary>
    static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(2);

    /// <summary>The section, or "" when the plan has no low-bit step.</summary>
    public static string Render(QuantizationResult? quantization, ModelPlan plan, Graph.Graph canonical)
    {
        if (quantization is null) return "";
        var steps = plan.Steps.Where(s => PlanCalls.LowBit.Contains(s.Call)).GroupBy(s => s.Node).ToList();
        if (steps.Count == 0) return "";
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("\n## Low-bit layers\n\n");
        sb.Append("Each sub-8-bit layer's weights as stored, and its kernel timed at build time against the int8 (`QGemmU8S8`, ");
        sb.Append("`QConv2dU8S8`) and fp32 (`GemmF32`) kernels of the same shape on this machine (best of alternating rounds, ");
        sb.Append("one thread; indicative on a busy machine). How the weights were fitted is in the decisions table.\n\n");
        sb.Append("| node | representation | bits | weights stored (fp32) | kernel | µs | int8 µs | fp32 µs | faster than |\n");
        sb.Append("|---|---|---:|---|---|---:|---:|---:|---|\n");
        var layers = steps.Select(node => (Node: node, Bench: Benchmark(node.First()))).ToList();
        // Tiered compilation: every kernel first runs unoptimised code and is replaced after ~30 calls and a quiet
        // 100 ms. Run them all round-robin first, so no comparison times one kernel's first code against another's final one.
        // The warm-up lasts until the JIT has compiled nothing new for a while (the optimised versions are in), at most MaxWarmUp.
        var warm = Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = TimeSpan.Zero;
        while (warm.Elapsed < MaxWarmUp && warm.Elapsed - quietSince < WarmUp)
        {
            foreach (var (_, bench) in layers)
                foreach (var action in bench.Actions) action?.Invoke();
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled) (compiled, quietSince) = (now, warm.Elapsed);
        }
        foreach (var (node, bench) in layers)
        {
            var step = node.First();
            var decision = quantization.DecisionFor(node.Key);
            var graphNode = canonical.Nodes.FirstOrDefault(n => n.Label == node.Key);
            var weight = graphNode is null ? null : quantization.Weights.GetValueOrDefault(graphNode.Input(1));
            long stored = node.SelectMany(s => s.Args.OfType<SpanArg>()).Where(a => a.Source == SpanSource.Weights).Distinct()
                .Sum(a => (long)a.Length * a.ElementBytes);
            long fp32 = weight is null ? 0 : weight.Values.LongLength * 4 + weight.Scales.Length * 4L;
            string kernel = bench.Kernel;
            var t = Time(bench.Actions);
            var times = (Kernel: t[0], Int8: t[1], Fp32: t[2]);
            string F(double? us) => us is double v ? v.ToString(v < 10 ? "0.00" : "0.0", c) : "—";
            string verdict = times.Kernel is not double k ? "—"
                : string.Join(", ", new[] { ("int8", times.Int8), ("fp32", times.Fp32) }.Where(t => t.Item2 is not null)
                    .Select(t => t.Item2 >= k ? $"{t.Item1} ({t.Item2 / k:0.0#}×)" : $"not {t.Item1} ({k / t.Item2:0.0#}× slower)"));
            sb.Append(c, $"| `{node.Key}` | {Representation(decision?.Precision)} | {weight?.Bits.ToString(c) ?? "—"} | {stored:N0} B ({(fp32 > 0 ? ((double)fp32 / stored).ToString("0.0", c) + "× smaller than " + fp32.ToString("N0", c) + " B" : "—")}) | `{kernel}` | {F(times.Kernel)} | {F(times.Int8)} | {F(times.Fp32)} | {verdict} |\n");
        }
        sb.Append("\nfp32 weights here: K·N floats plus one per output channel. Shift runs its 4-bit codes through the int8 dot-product ");
        sb.Append("unit (`vpdpbusd`), decoding them by table lookup; the multiplication-free shift-add form (`ShiftGemmU8.GemvShiftAdd`) ");
        sb.Append("is slower on x86 and is not what the plan calls (docs/low-bit.md has both measured).\n");
        return sb.ToString();
    }

    static string Representation(NodePrecision? p) => p switch
    {
        NodePrecision.Shift => "±2^p·s, 4-bit codes",
        NodePrecision.Ternary => "{−αn, 0, +αp}, 2 bit masks",
        NodePrecision.Binary => "±α, 1 bit",
        NodePrecision.BinaryXnor => "±α, 1 bit; inputs binarised",
        _ => "—",
    };

    /// <summary>The step's kernel name and three actions: its kernel, the int8 and the fp32 kernel of its shape (null where none).</summary>
    static (string Kernel, Action?[] Actions) Benchmark(PlanStep step)
    {
        string kernel = step.Call.Replace("Kernels.", "");
        int Int(int i) => ((IntArg)step.Args[i]).Value;
        try
        {
            switch (step.Call)
            {
                case PlanCalls.ShiftGemv or PlanCalls.ShiftGemvToF32 or PlanCalls.TernaryGemv or PlanCalls.BinaryGemv or PlanCalls.XnorGemv:
                {
                    int first = step.Call switch { PlanCalls.ShiftGemv => 6, PlanCalls.ShiftGemvToF32 => 5, PlanCalls.TernaryGemv => 7, PlanCalls.BinaryGemv => 6, _ => 7 };
                    var layer = new Layer(Int(first), Int(first + 1));
                    Action own = step.Call switch
                    {
                        PlanCalls.ShiftGemv or PlanCalls.ShiftGemvToF32 => layer.Shift,
                        PlanCalls.TernaryGemv => layer.Ternary,
                        PlanCalls.BinaryGemv => layer.Binary,
                        _ => layer.Xnor,
                    };
                    return (kernel, [own, layer.Int8, layer.Fp32]);
                }
                case PlanCalls.ShiftConv2d or PlanCalls.ShiftDepthwiseConv2d:
                {
                    var conv = new Conv(ToShape((NewArg)step.Args[7]), step.Call == PlanCalls.ShiftDepthwiseConv2d);
                    return (kernel, [conv.Shift, conv.Int8, null]);
                }
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IndexOutOfRangeException)
        {
        }
        return (kernel, [null, null, null]);
    }

    static Conv2dShape ToShape(NewArg n)
    {
        var v = n.Args.Select(a => ((IntArg)a).Value).ToArray();
        return new Conv2dShape(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
    }

    /// <summary>
    /// Best per-call microseconds of each action, timed warm in alternating rounds of at least ~20 µs each. Tiered
    /// compilation may still swap in a kernel's optimised code while this runs (later on a busy machine), and that only
    /// ever makes it faster: the rounds go on until no best time has improved by 2 % for <see cref="Budget"/>, for at most
    /// <see cref="MaxTime"/>.
    /// </summary>
    static double?[] Time(Action?[] actions)
    {
        var best = new double?[actions.Length];
        var reps = new int[actions.Length];
        for (int i = 0; i < actions.Length; i++)
        {
            if (actions[i] is null) continue;
            long t0 = Stopwatch.GetTimestamp();
            actions[i]!();
            double once = Math.Max(0.05, Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            reps[i] = Math.Clamp((int)(20 / once), 1, 10000);
        }
        var clock = Stopwatch.StartNew();
        var improved = TimeSpan.Zero;
        while (clock.Elapsed - improved < Budget && clock.Elapsed < MaxTime)
            for (int i = 0; i < actions.Length; i++)
            {
                if (actions[i] is not { } action) continue;
                action(); // its weights back in cache: each kernel is timed warm, as in a model run
                long t0 = Stopwatch.GetTimestamp();
                for (int r = 0; r < reps[i]; r++) action();
                double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / reps[i];
                if (best[i] is not double b || us < b)
                {
                    if (best[i] is not double old || us < 0.98 * old) improved = clock.Elapsed;
                    best[i] = us;
                }
            }
        return best;
    }

    /// <summary>Random layer data of one k×n shape for every Gemm kernel (values do not change these kernels' speed).</summary>
    sealed class Layer
    {
        readonly int _k, _n;
        readonly byte[] _x = null!, _y = null!, _shift = null!, _masks = null!, _bits = null!, _xnor = null!, _xnorScratch = null!;
        readonly sbyte[] _packed = null!;
        readonly float[] _xf = null!, _yf = null!, _packedF32 = null!, _alpha = null!, _tables = null!;
        readonly int[] _bias = null!, _multiplier = null!, _shiftAmount = null!, _sums = null!;

        public Layer(int k, int n)
        {
            (_k, _n) = (k, n);
            var rng = new Random(1);
            _x = new byte[k];
            rng.NextBytes(_x);
            _y = new byte[n];
            _xf = Enumerable.Range(0, k).Select(_ => (float)rng.NextDouble()).ToArray();
            _yf = new float[n];
            var s8 = Enumerable.Range(0, k * n).Select(_ => (sbyte)(rng.Next(2) * 2 - 1 << rng.Next(7))).ToArray();
            _packed = new sbyte[QGemmU8S8.PackedLength(k, n)];
            QGemmU8S8.PackB(s8, false, k, n, _packed);
            _shift = new byte[ShiftGemmU8.PackedLength(k, n)];
            ShiftGemmU8.Pack(s8, false, k, n, _shift);
            var signs = s8.Select(v => (sbyte)Math.Sign(v)).ToArray();
            _masks = new byte[TernaryGemmF32.PackedLength(k, n)];
            TernaryGemmF32.Pack(signs, false, k, n, _masks);
            _bits = new byte[BinaryGemmF32.PackedLength(k, n)];
            BinaryGemmF32.Pack(signs, false, k, n, _bits);
            _xnor = new byte[XnorGemmF32.PackedLength(k, n)];
            XnorGemmF32.Pack(signs, false, k, n, _xnor);
            _sums = new int[n];
            _packedF32 = new float[GemmF32.PackedLength(k, n)];
            GemmF32.PackB(s8.Select(v => v / 64f).ToArray(), false, k, n, _packedF32);
            _alpha = Enumerable.Repeat(0.01f, n).ToArray();
            _tables = new float[Math.Max(TernaryGemmF32.ScratchLength(k), BinaryGemmF32.ScratchLength(k))];
            _xnorScratch = new byte[XnorGemmF32.ScratchLength(k)];
            _bias = new int[n];
            _multiplier = Enumerable.Repeat(1 << 30, n).ToArray();
            _shiftAmount = Enumerable.Repeat(-10, n).ToArray();
        }

        public void Shift() => ShiftGemmU8.Gemv(_x, _shift, _bias, _multiplier, _shiftAmount, _y, _k, _n, new Requant(0, 0, 255));
        public void Int8() => QGemmU8S8.Gemv(_x, _packed, _bias, _multiplier, _shiftAmount, _y, _k, _n, new Requant(0, 0, 255));
        public void Fp32() => GemmF32.Gemv(_xf, _packedF32, default, _yf, _k, _n, FusedActivation.None);
        public void Ternary() => TernaryGemmF32.Gemv(_xf, _masks, _alpha, _alpha, default, _yf, _tables, _k, _n, FusedActivation.None);
        public void Binary() => BinaryGemmF32.Gemv(_xf, _bits, _alpha, default, _yf, _tables, _k, _n, FusedActivation.None);
        public void Xnor() => XnorGemmF32.Gemv(_xf, _xnor, _alpha, _sums, default, _yf, _xnorScratch, _k, _n, FusedActivation.None);
    }

    /// <summary>Random data of one Conv shape for the shift and int8 convolutions.</summary>
    sealed class Conv
    {
        readonly Conv2dShape _s;
        readonly bool _depthwise;
        readonly byte[] _x, _y, _codes, _scratch, _int8Scratch;
        readonly sbyte[] _packed;
        readonly int[] _multiplier, _shift;

        public Conv(Conv2dShape s, bool depthwise)
        {
            (_s, _depthwise) = (s, depthwise);
            var rng = new Random(2);
            _x = new byte[s.Batch * s.InChannels * s.InHeight * s.InWidth];
            rng.NextBytes(_x);
            _y = new byte[s.Batch * s.OutChannels * s.OutHeight * s.OutWidth];
            var w = Enumerable.Range(0, s.OutChannels * (s.InChannels / s.Groups) * s.KernelHeight * s.KernelWidth)
                .Select(_ => (sbyte)(rng.Next(2) * 2 - 1 << rng.Next(7))).ToArray();
            if (depthwise)
            {
                _packed = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(s)];
                QDepthwiseConv2dU8S8.PackWeights(w, s, _packed);
                _codes = new byte[ShiftConv2dU8.DepthwisePackedWeightsLength(s)];
                ShiftConv2dU8.PackDepthwiseWeights(w, s, _codes);
                _scratch = new byte[ShiftConv2dU8.DepthwiseScratchLength(s)];
                _int8Scratch = new byte[QDepthwiseConv2dU8S8.ScratchLength(s)];
            }
            else
            {
                _packed = new sbyte[QConv2dU8S8.PackedWeightsLength(s)];
                QConv2dU8S8.PackWeights(w, s, _packed);
                _codes = new byte[ShiftConv2dU8.PackedWeightsLength(s)];
                ShiftConv2dU8.PackWeights(w, s, _codes);
                _scratch = new byte[ShiftConv2dU8.ScratchLength(s)];
                _int8Scratch = new byte[QConv2dU8S8.ScratchLength(s)];
            }
            _multiplier = Enumerable.Repeat(1 << 30, s.OutChannels).ToArray();
            _shift = Enumerable.Repeat(-10, s.OutChannels).ToArray();
        }

        public void Shift()
        {
            if (_depthwise) ShiftConv2dU8.RunDepthwise(_x, _codes, default, _multiplier, _shift, _y, _scratch, _s, 0, new Requant(0, 0, 255));
            else ShiftConv2dU8.Run(_x, _codes, default, _multiplier, _shift, _y, _scratch, _s, 0, new Requant(0, 0, 255));
        }

        public void Int8()
        {
            if (_depthwise) QDepthwiseConv2dU8S8.Run(_x, _packed, default, _multiplier, _shift, _y, _int8Scratch, _s, 0, new Requant(0, 0, 255));
            else QConv2dU8S8.Run(_x, _packed, default, _multiplier, _shift, _y, _int8Scratch, _s, 0, new Requant(0, 0, 255));
        }
    }
}
