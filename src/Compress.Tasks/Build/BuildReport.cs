using System.Globalization;
using System.Text;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Build;

/// <summary>The Markdown report left next to the build outputs: what was done to the model and how it checks out.</summary>
public static class BuildReport
{
    /// <param name="layers">Quantised variants: the per-layer error against the fp32 plan (the Layers section).</param>
    /// <param name="latency">Per-step build-time latency (a column of the schedule and of the Layers table).</param>
    /// <param name="fp32WeightBytes">Quantised variants: the fp32 plan's weight bytes (the size totals).</param>
    public static string Render(CompressOptions options, ModelPlan plan, int weightBytes, PassLog log, ValidationResult? v, QuantizationResult? q = null,
        LayerErrorResult? layers = null, StepTimes? latency = null, int? fp32WeightBytes = null, Pruning.PruneResult? pruning = null)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"# {options.FullClassName}\n\n");
        sb.Append(c, $"Compiled by {plan.Producer} from `{plan.Source.File}` (sha256 `{plan.Source.Sha256}`, producer {plan.Source.Producer}, IR {plan.Source.IrVersion}, opsets {plan.Source.Opsets}).\n\n");
        sb.Append("| | |\n|---|---:|\n");
        sb.Append(c, $"| variant | {q?.Mode ?? "fp32"} |\n");
        sb.Append(c, $"| weights | {weightBytes:N0} B |\n");
        sb.Append(c, $"| activation arena | {plan.ArenaFloats * 4L:N0} B |\n");
        sb.Append(c, $"| kernel calls per Run | {plan.Steps.Count} |\n");
        foreach (var i in plan.Inputs) sb.Append(c, $"| input `{i.Name}` | [{string.Join(", ", i.Shape)}] |\n");
        foreach (var o in plan.Outputs) sb.Append(c, $"| output `{o.Name}` | [{string.Join(", ", o.Shape)}] |\n");
        sb.Append('\n');

        sb.Append("## Validation against ONNX Runtime\n\n");
        if (v is null) sb.Append("Skipped (`ValidationSamples=\"0\"`).\n\n");
        else
        {
            sb.Append(c, $"On {v.Samples} samples from {v.DataSource}: max |error| {v.MaxAbsError:G3} ({v.RelativeError:G3} of the output scale {v.MaxReference:G3}; tolerance {(options.Tolerance is double t ? t.ToString("G3", c) : q is null ? "1e-4" : "none for quantised variants")}); top-1 agreement {v.Agreement * 100:0.0}%");
            if (v.Accuracy is double a) sb.Append(c, $"; accuracy {a * 100:0.0}% (ONNX Runtime on the original: {v.ReferenceAccuracy * 100:0.0}%)");
            sb.Append(".\n\n");
        }

        if (pruning is not null) sb.Append(pruning.RenderMarkdown());
        if (q is not null)
        {
            sb.Append("## Quantisation decisions\n\n| node | precision | why |\n|---|---|---|\n");
            foreach (var d in q.Decisions) sb.Append(c, $"| `{d.Node}` | {d.Precision} | {d.Reason} |\n");
            sb.Append('\n');
            if (!q.Activations.IsEmpty)
            {
                sb.Append("Activation parameters (u8, real = scale · (q − zero point)):\n\n| value | scale | zero point |\n|---|---:|---:|\n");
                foreach (var (name, p) in q.Activations.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    sb.Append(c, $"| `{name}` | {p.Scale:G4} | {p.ZeroPoint} |\n");
                sb.Append('\n');
            }
        }

        if (q is not null && layers is not null) Layers(sb, plan, weightBytes, v, q, layers, latency, fp32WeightBytes);

        sb.Append("## Schedule\n\n");
        if (latency is not null) sb.Append(c, $"Latency: {LatencyNote(latency)}.\n\n");
        sb.Append("| # | node | op | kernel | what |").Append(latency is null ? "\n|---:|---|---|---|---|\n" : " latency % |\n|---:|---|---|---|---|---:|\n");
        for (int i = 0; i < plan.Steps.Count; i++)
        {
            var s = plan.Steps[i];
            sb.Append(c, $"| {i} | `{s.Node}` | {s.Op} | `{s.Call}` | {s.Comment} |");
            if (latency is not null) sb.Append(c, $" {latency.SharePercent(i):0.0} |");
            sb.Append('\n');
        }
        sb.Append('\n');

        sb.Append("## Graph passes\n\n");
        if (log.Entries.Count == 0) sb.Append("No changes.\n");
        foreach (var e in log.Entries) sb.Append(c, $"- **{e.Pass}** `{e.Node}`: {e.Message}\n");
        return sb.ToString();
    }

    /// <summary>The Layers section: per layer kernel, bits, scales, SQNR, loss and latency share; then the totals.</summary>
    static void Layers(StringBuilder sb, ModelPlan plan, int weightBytes, ValidationResult? v, QuantizationResult q, LayerErrorResult layers,
        StepTimes? latency, int? fp32WeightBytes)
    {
        var c = CultureInfo.InvariantCulture;
        sb.Append("## Layers\n\n");
        sb.Append(c, $"Each layer's output against the fp32 plan's on {layers.DataSource}, both plans run with the runtime kernels. ");
        sb.Append("SQNR = 10·log10(Σ fp32² / Σ (fp32 − quantised)²) over every element and sample (exact: bit-identical; u8 values dequantised ");
        sb.Append("with their scale and zero point). Loss = SQNR of the layer's worst input − SQNR of its output: the error the layer itself adds ");
        sb.Append("(∞: its inputs are exact, so all of its error is its own; a layer's steps include the conversions of its inputs).");
        if (latency is not null) sb.Append(" Latency %: the layer's steps' share of one Run, measured at build time (see the schedule).");
        sb.Append("\n\n| node | op | kernels | bits | weight scale | output scale / zero point | SQNR dB | loss dB | latency % |\n");
        sb.Append("|---|---|---|---:|---|---|---:|---:|---:|\n");
        string Share(IEnumerable<int> steps) => latency is null ? "—" : steps.Sum(latency.SharePercent).ToString("0.0", c);
        foreach (var l in layers.Layers)
        {
            var weights = l.Quantized ? l.Constants.Where(q.Weights.ContainsKey).Select(w => q.Weights[w]).ToList() : [];
            string kernels = l.Steps.IsEmpty ? "— (shares its input's memory)"
                : string.Join(", ", l.Steps.Select(i => plan.Steps[i].Call.Replace("Kernels.", "")).Distinct().Select(k => $"`{k}`"));
            int bits = weights.Count > 0 ? weights.Min(w => w.Bits) : l.Quantized || (l.Steps.IsEmpty && l.OutputParameters is not null) ? 8 : 32;
            string scales = weights.Count == 0 ? "—" : string.Join("; ", weights.Select(WeightScales));
            string output = l.OutputParameters is { } p ? string.Create(c, $"{p.Scale:G4} / {p.ZeroPoint}") : "—";
            sb.Append(c, $"| `{l.Node}` | {l.Op} | {kernels} | {bits} | {scales} | {output} | {ReportFormat.Sqnr(l.SqnrDb)} | {ReportFormat.Loss(l.LossDb)} | {Share(l.Steps)} |\n");
        }
        var other = Enumerable.Range(0, plan.Steps.Count).Except(layers.Layers.SelectMany(l => l.Steps)).ToList();
        if (other.Count > 0)
            sb.Append(c, $"| (other steps) | | {string.Join(", ", other.Select(i => plan.Steps[i].Call.Replace("Kernels.", "")).Distinct().Select(k => $"`{k}`"))} | | | | | | {Share(other)} |\n");
        sb.Append('\n');
        sb.Append(layers.Worst is { } worst
            ? $"Loses the most: `{worst.Node}` ({ReportFormat.Headline(worst)}); `Exclude=\"{worst.Node}\"` keeps it in fp32.\n\n"
            : "No quantised layer loses anything against fp32.\n\n");

        sb.Append("Totals:\n\n| | |\n|---|---:|\n");
        if (fp32WeightBytes is int f32)
            sb.Append(c, $"| weights | {f32:N0} B fp32 → {weightBytes:N0} B ({(weightBytes > 0 ? (double)f32 / weightBytes : 1):0.00}× smaller) |\n");
        var outputLayers = layers.Layers.Where(l => l.Outputs.Any(o => plan.Outputs.Any(po => po.Name == o))).ToList();
        if (outputLayers.Count > 0)
            sb.Append(c, $"| output SQNR | {ReportFormat.Sqnr(outputLayers.Min(l => l.SqnrDb))} dB |\n");
        if (v?.Accuracy is double acc)
            sb.Append(c, $"| accuracy | {acc * 100:0.0}% (fp32 model on ONNX Runtime: {v.ReferenceAccuracy * 100:0.0}%) |\n");
        if (v is not null)
            sb.Append(c, $"| top-1 agreement with fp32 | {v.Agreement * 100:0.0}% on {v.Samples} validation samples (ONNX Runtime on the original model) |\n");
        sb.Append(c, $"| top-1 agreement with the fp32 plan | {layers.Agreement * 100:0.0}% on the {layers.Samples} samples above |\n");
        sb.Append('\n');
    }

    /// <summary>"0.0012–0.0045 (32 channels)", "0.0031" for a single scale, "… (16 channels × 2 blocks)" for int4.</summary>
    static string WeightScales(QuantizedWeight w)
    {
        var c = CultureInfo.InvariantCulture;
        if (w.Scales.Length == 1) return w.Scales[0].ToString("G3", c);
        int channels = (int)w.Dims[w.ChannelAxis];
        string count = w.BlockSize > 0 ? $"{channels} channels × {w.Scales.Length / Math.Max(channels, 1)} blocks" : $"{w.Scales.Length} channels";
        return string.Create(c, $"{w.Scales.Min():G3}–{w.Scales.Max():G3} ({count})");
    }

    /// <summary>"each step's share of one Run, timed at build time …".</summary>
    static string LatencyNote(StepTimes t) => string.Create(CultureInfo.InvariantCulture,
        $"each step's share of one Run, timed at build time with the runtime kernels on one sample ({t.Runs:N0} runs; a step's time is its lowest median over {t.Rounds} rounds; Σ {t.TotalNanoseconds / 1000:0.00} µs; indicative: interpreter dispatch is included and the build machine may be busy{(t.Settled ? "" : "; **not settled**: the JIT was still optimising the kernels when the time ran out, so the shares are rough")})");
}
