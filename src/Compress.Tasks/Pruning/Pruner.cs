using System.Collections.Immutable;
using System.Diagnostics;
using Compress.Tasks.Calibration;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Passes;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Pruning (issue 4): the build step between canonicalisation and lowering/quantisation. Takes the canonical graph and
/// returns a pruned canonical graph — zeros in dense tensors for Unstructured/NofM/Block (<see cref="WeightPruning"/>),
/// smaller tensors with every consumer rewired for Channel (<see cref="ChannelPruning"/>) — plus a record per layer for
/// the report. With calibration data the kept weights are reconstructed so the model holds its accuracy without retraining.
/// </summary>
public static class Pruner
{
    /// <summary>Calibration samples read at most (more add little to 256-sample Gram matrices and cost time linearly).</summary>
    public const int MaxCalibrationSamples = 1024;

    /// <param name="canonical">The canonical graph (<see cref="CanonicalPipeline"/>).</param>
    /// <param name="options">What to prune (<see cref="PruneOptions.FromMetadata"/>).</param>
    /// <param name="calibration">Calibration samples opened for the model's inputs, or null (no reconstruction, no errors).</param>
    /// <param name="log">Each layer's decision is logged under the pass name "Prune".</param>
    /// <param name="source">
    /// The graph before canonicalisation, for <see cref="PruneCriterion.BnGamma"/>: the γ of each BatchNormalization that
    /// canonicalisation folded into its Conv/Gemm. Null: BnGamma falls back to L1 for every layer.
    /// </param>
    /// <exception cref="CompressException">
    /// CMP006 for an <c>PruneExclude</c> naming no prunable layer or reconstruction without calibration data; CMP014 when
    /// a pattern does not fit a layer; CMP015 when channel pruning reaches an op it cannot rewire; CMP016 when nothing
    /// can be pruned.
    /// </exception>
    public static PruneResult Run(Graph canonical, PruneOptions options, CalibrationData? calibration, PassLog log, Graph? source = null)
    {
        ArgumentNullException.ThrowIfNull(canonical);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if ((options.Reconstruct || (options.Mode == PruneMode.Channel && options.Criterion == PruneCriterion.Reconstruction)) && calibration is null)
            throw new CompressException(ErrorCodes.BadMetadata,
                $"Pruning with {(options.Reconstruct ? "PruneReconstruct=\"true\"" : "PruneCriterion=\"Reconstruction\"")} needs CalibrationData (a .npy file of representative inputs, first axis = samples).");
        var clock = Stopwatch.StartNew();
        var before = MacCounter.Count(canonical);

        var layers = new List<LinearLayer>();
        var skipped = ImmutableArray.CreateBuilder<(string, string)>();
        var all = new List<string>();
        foreach (var node in canonical.Nodes)
        {
            if (node.Domain.Length > 0 || node.OpType is not ("Conv" or "Gemm" or "MatMul")) continue;
            all.Add(node.Label);
            if (options.Exclude.Contains(node.Label)) { skipped.Add((node.Label, "PruneExclude")); continue; }
            if (LinearLayer.TryCreate(canonical, node, out string reason) is { } layer) layers.Add(layer);
            else skipped.Add((node.Label, reason));
        }
        foreach (var name in options.Exclude.Order(StringComparer.Ordinal))
            if (!all.Contains(name))
                throw new CompressException(ErrorCodes.BadMetadata,
                    $"PruneExclude names '{name}', which is not a Conv, Gemm or MatMul node of the model. Its layers: {string.Join(", ", all)}.");
        if (layers.Count == 0)
            throw new CompressException(ErrorCodes.NothingToPrune,
                $"Pruning was asked, but the model has no layer to prune (a Conv, Gemm or MatMul with a constant float weight{(all.Count > 0 ? " that is not excluded" : "")}). " +
                "Remove the Prune metadata, or give the fp32 model.");

        var runner = calibration is null ? null : new CalibrationRunner(canonical, calibration, MaxCalibrationSamples);
        Graph pruned;
        List<LayerPruneRecord> records;
        string method;
        if (options.Mode == PruneMode.Channel)
        {
            var gammas = source is null ? null : BatchNormGammas.From(source);
            (pruned, records, method) = ChannelPruning.Run(canonical, layers, options, runner, log, gammas, skipped);
        }
        else (pruned, records, method) = WeightPruning.Run(canonical, canonical, layers, options, runner, log);
        pruned = ShapeInference.Run(pruned.RemoveUnusedInitializers(out _));

        return new PruneResult
        {
            Graph = pruned,
            Options = options,
            Method = method,
            Layers = records.ToImmutableArray(),
            Skipped = skipped.ToImmutable(),
            Before = before,
            After = MacCounter.Count(pruned),
            CalibrationSamples = runner?.Samples ?? 0,
            Elapsed = clock.Elapsed,
        };
    }
}
