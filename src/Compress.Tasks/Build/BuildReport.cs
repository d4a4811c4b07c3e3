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
    public static string Render(CompressOptions options, ModelPlan plan, int weightBytes, PassLog log, ValidationResult? v, QuantizationResult? q = null)
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

        sb.Append("## Schedule\n\n| # | node | op | kernel | what |\n|---:|---|---|---|---|\n");
        for (int i = 0; i < plan.Steps.Count; i++)
        {
            var s = plan.Steps[i];
            sb.Append(c, $"| {i} | `{s.Node}` | {s.Op} | `{s.Call}` | {s.Comment} |\n");
        }
        sb.Append('\n');

        sb.Append("## Graph passes\n\n");
        if (log.Entries.Count == 0) sb.Append("No changes.\n");
        foreach (var e in log.Entries) sb.Append(c, $"- **{e.Pass}** `{e.Node}`: {e.Message}\n");
        return sb.ToString();
    }
}
