using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>What pruning did to one layer (a Conv/Gemm/MatMul; for channel pruning also the layers rewired with it).</summary>
/// <param name="Layer">The node's label.</param>
/// <param name="Kind">Conv, Gemm, MatMul (depthwise Conv: "DepthwiseConv").</param>
/// <param name="Action">What was done: "2:4, SparseGPT + exact LS refit", "16 → 8 output channels", "8 of 16 input channels removed, LS refit".</param>
/// <param name="WeightsBefore">Weight elements before.</param>
/// <param name="WeightsAfter">Non-zero weight elements after (channel pruning: the elements left).</param>
/// <param name="MacsBefore">MACs per inference before (batch 1).</param>
/// <param name="MacsAfter">MACs after, counting only non-zero weights.</param>
/// <param name="Error">
/// Relative squared error of the layer's output on calibration data, ‖Xp·ŵ − Xo·w‖² / ‖Xo·w‖² (pruned model's input and
/// weights against the original's); null without calibration data.
/// </param>
/// <param name="ErrorWithoutRefit">The same for plain magnitude pruning of this layer at the same sparsity (or the chosen channels without the refit), for comparison; null when not measured.</param>
public sealed record LayerPruneRecord(string Layer, string Kind, string Action, long WeightsBefore, long WeightsAfter,
    long MacsBefore, long MacsAfter, double? Error, double? ErrorWithoutRefit)
{
    /// <summary>Fraction of the weights gone (zero or removed).</summary>
    public double Sparsity => WeightsBefore == 0 ? 0 : 1 - (double)WeightsAfter / WeightsBefore;
}

/// <summary>The result of <see cref="Pruner.Run"/>: the pruned graph and what happened to every layer.</summary>
public sealed record PruneResult
{
    /// <summary>The pruned canonical graph (shapes re-inferred): zeros in dense tensors, or smaller tensors for channel pruning.</summary>
    public required Graph Graph { get; init; }

    public required PruneOptions Options { get; init; }

    /// <summary>The method, named with its papers, as the report prints it.</summary>
    public required string Method { get; init; }

    /// <summary>One record per pruned (or rewired) layer, in graph order.</summary>
    public required ImmutableArray<LayerPruneRecord> Layers { get; init; }

    /// <summary>The layers left unpruned, with why (excluded, graph output, shared weight …).</summary>
    public ImmutableArray<(string Layer, string Reason)> Skipped { get; init; } = [];

    /// <summary>Size and MACs of the canonical model before pruning.</summary>
    public required ModelCost Before { get; init; }

    /// <summary>Size and MACs after pruning.</summary>
    public required ModelCost After { get; init; }

    /// <summary>Calibration samples used (0 without calibration data).</summary>
    public int CalibrationSamples { get; init; }

    /// <summary>Wall-clock time of the pruning.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Fraction of the Conv/Gemm/MatMul weights that are zero or removed after pruning (unprunable layers included).</summary>
    public double Sparsity
    {
        get
        {
            long before = Before.Layers.Sum(l => l.Weights), after = After.Layers.Sum(l => l.NonZeroWeights);
            return before == 0 ? 0 : 1 - (double)after / before;
        }
    }

    /// <summary>One phrase for the build's summary line: "pruned Unstructured 80% global (SparseGPT + LS refit): MACs 50,432 → 10,101".</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"pruned {Options.Describe()}, {Sparsity * 100:0.0}% of the layer weights gone: MACs {Before.Macs.Dense:N0} → {After.Macs.NonZero:N0}");

    /// <summary>The report's pruning section (Markdown, starting with a level-2 heading).</summary>
    public string RenderMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("## Pruning\n\n");
        sb.Append(c, $"{Options.Describe()}: {Method}. ");
        sb.Append(CalibrationSamples > 0 ? string.Create(c, $"Calibration: {CalibrationSamples} samples. ") : "No calibration data: errors not measured. ");
        sb.Append(c, $"Took {Elapsed.TotalSeconds:0.00} s.\n\n");
        sb.Append("| | before | after |\n|---|---:|---:|\n");
        sb.Append(c, $"| MACs per inference (dense) | {Before.Macs.Dense:N0} | {After.Macs.Dense:N0} |\n");
        sb.Append(c, $"| MACs per inference (non-zero weights) | {Before.Macs.NonZero:N0} | {After.Macs.NonZero:N0} |\n");
        sb.Append(c, $"| parameters (dense fp32 bytes) | {Before.Parameters:N0} ({Before.DenseBytes:N0} B) | {After.Parameters:N0} ({After.DenseBytes:N0} B) |\n");
        sb.Append(c, $"| non-zero parameters (fp32 bytes) | {Before.NonZeroParameters:N0} ({Before.NonZeroParameters * 4:N0} B) | {After.NonZeroParameters:N0} ({After.NonZeroParameters * 4:N0} B) |\n\n");
        sb.Append("Error: relative squared error of the layer's output on the calibration data, pruned model against the original ");
        sb.Append("(‖Xp·ŵ − Xo·w‖² / ‖Xo·w‖²); *without refit*: the same layer pruned by plain magnitude (channels: the chosen channels without the least-squares refit).\n\n");
        sb.Append("| layer | kind | what | weights before → after | sparsity | MACs before → after | error | without refit |\n|---|---|---|---:|---:|---:|---:|---:|\n");
        foreach (var l in Layers)
            sb.Append(c, $"| `{l.Layer}` | {l.Kind} | {l.Action} | {l.WeightsBefore:N0} → {l.WeightsAfter:N0} | {l.Sparsity * 100:0.0}% | {l.MacsBefore:N0} → {l.MacsAfter:N0} | {Format(l.Error)} | {Format(l.ErrorWithoutRefit)} |\n");
        if (!Skipped.IsEmpty)
        {
            sb.Append("\nNot pruned:\n\n");
            foreach (var (layer, reason) in Skipped) sb.Append(c, $"- `{layer}`: {reason}\n");
        }
        sb.Append('\n');
        return sb.ToString();
    }

    static string Format(double? e) => e is double v ? v.ToString("0.000e+0", CultureInfo.InvariantCulture) : "—";
}
