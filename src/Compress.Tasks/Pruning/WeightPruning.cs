using System.Globalization;
using System.Numerics.Tensors;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Passes;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Unstructured, N:M and block pruning: zeros written into the dense weight tensors of every prunable layer.
/// Magnitude pruning (Han et al., NIPS 2015) chooses the weights — or R×C blocks by their summed |w| — layer by layer
/// or by one global ranking with per-layer caps; with calibration data each layer is then pruned in graph order by
/// SparseGPT (Frantar &amp; Alistarh, ICML 2023) on the Gram matrix of its input in the partly pruned model, aiming at
/// the original model's layer output, followed by an exact least-squares refit of each row's kept weights and bias.
/// </summary>
internal static class WeightPruning
{
    /// <summary>Each layer keeps at least half the global keep fraction: a layer loses at most p + (1 − p)/2 of its units.</summary>
    internal static double LayerCap(double sparsity) => sparsity + (1 - sparsity) / 2;

    public static (Graph Graph, List<LayerPruneRecord> Records, string Method) Run(Graph graph, Graph original, IReadOnlyList<LinearLayer> layers,
        PruneOptions options, CalibrationRunner? runner, PassLog log)
    {
        var pattern = MaskPattern.From(options);
        foreach (var layer in layers) CheckFits(layer, pattern, options);
        var units = layers.Select(l => Units(l, pattern)).ToArray();
        long[] prune = options.Mode == PruneMode.NofM
            ? units.Select(u => (long)Math.Round(u * options.Sparsity)).ToArray()
            : options.Scope == PruneScope.Layer
                ? units.Select(u => Math.Min(u - 1, (long)Math.Round(u * options.Sparsity))).ToArray()
                : GlobalAllocation(graph, layers, pattern, options.Sparsity);

        bool refit = options.Reconstruct && runner is not null;
        var records = new List<LayerPruneRecord>();
        int refitSkipped = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = LinearLayer.TryCreate(graph, graph.Nodes.First(n => n.Output0 == layers[i].Node.Output0), out _)!;
            var originalLayer = LinearLayer.TryCreate(original, original.Nodes.First(n => n.Output0 == layer.Node.Output0), out _)!;
            var w = layer.ReadWeights(graph);
            var b = layer.ReadBias(graph);
            var magnitude = MagnitudeMask(w, layer, pattern, prune[i]);
            double[] result;
            double? error = null, baseline = null;
            string action;
            if (runner is null)
            {
                result = Apply(w, magnitude);
                action = "magnitude";
            }
            else
            {
                var grams = GramCollector.Collect(runner, graph, [(layer, originalLayer)])[0];
                var wo = originalLayer.ReadWeights(original);
                var bo = originalLayer.ReadBias(original);
                result = refit ? new double[w.Length] : Apply(w, magnitude);
                var newBias = (double[])b.Clone();
                bool refitDone = true;
                double errSum = 0, baseSum = 0, energy = 0;
                for (int g = 0; g < layer.Groups; g++)
                {
                    var gram = grams[g];
                    int rows = layer.RowsPerGroup, k = layer.K, n = gram.Np, r0 = g * rows;
                    var current = Rows(w, b, layer, r0, rows, n);
                    var target = Rows(wo, bo, originalLayer, r0, rows, gram.No);
                    var masked = Rows(Apply(w, magnitude), b, layer, r0, rows, n);
                    double[] final = masked;
                    if (refit)
                    {
                        var (h, rhs, start) = Reconstruction(gram, current, target, rows, options.Damping);
                        var groupMask = SparseGpt.Prune(start, rows, n, k, h, pattern, GroupShare(prune[i], layer, g));
                        if (SparseGpt.RefitCost(groupMask, rows, k, n, pattern.RowGroup) <= options.RefitBudgetFlops)
                            SparseGpt.Refit(start, rows, n, k, h, rhs, groupMask, pattern.RowGroup);
                        else refitDone = false;
                        final = start;
                    }
                    // Relative errors weighted by the group's output energy (the groups of a Conv add up).
                    var (rel, groupEnergy) = gram.RelativeErrors(target, rows, final, masked);
                    energy += groupEnergy;
                    errSum += rel[0] * groupEnergy;
                    baseSum += rel[1] * groupEnergy;
                    for (int r = 0; r < rows; r++)
                    {
                        final.AsSpan(r * n, k).CopyTo(result.AsSpan((r0 + r) * k, k));
                        if (layer.HasBias) newBias[r0 + r] = final[r * n + k];
                    }
                }
                if (refit) b = newBias;
                error = energy > 0 ? Math.Max(0, errSum) / energy : 0;
                baseline = energy > 0 ? Math.Max(0, baseSum) / energy : 0;
                if (!refitDone) refitSkipped++;
                action = refit ? (refitDone ? "SparseGPT + LS refit" : "SparseGPT (refit over budget)") : "magnitude";
            }
            graph = layer.Write(graph, result, refit ? b : null);
            long nonZero = result.LongCount(v => v != 0);
            string what = options.Mode switch
            {
                PruneMode.NofM => $"{options.N}:{options.M}, {action}",
                PruneMode.Block => $"{options.BlockRows}x{options.BlockColumns} blocks, {action}",
                _ => action,
            };
            records.Add(new LayerPruneRecord(layer.Label, layer.IsDepthwise ? "DepthwiseConv" : layer.Kind, what, layer.WeightCount, nonZero,
                layer.WeightCount * layer.Positions, nonZero * layer.Positions, error, baseline));
            log.Add("Prune", layer.Label, FormattableString.Invariant(
                $"{what}: {nonZero:N0} of {layer.WeightCount:N0} weights kept ({1 - (double)nonZero / layer.WeightCount:P1} sparse)") +
                (error is double e ? FormattableString.Invariant($", output error {e:0.000e+0} (magnitude alone {baseline:0.000e+0})") : ""));
        }
        string method = refit
            ? "magnitude allocation (Han et al., NIPS 2015), then per layer in graph order SparseGPT (Frantar & Alistarh, ICML 2023: OBS saliency w²/[H⁻¹]²ᵢᵢ " +
              "and second-order updates) against the original layer's output, and an exact least-squares refit of each row's kept weights and bias" +
              (refitSkipped > 0 ? $" ({refitSkipped} layer(s) over the refit budget keep the SparseGPT update)" : "")
            : "magnitude pruning (Han et al., NIPS 2015), no weight reconstruction";
        return (graph, records, method);
    }

    /// <summary>CMP014 when the pattern does not tile the layer's weight.</summary>
    static void CheckFits(LinearLayer layer, MaskPattern pattern, PruneOptions options)
    {
        string? problem = null;
        if (pattern.IsNofM && layer.K % pattern.M != 0)
            problem = $"its rows have {layer.K} weights{KDescription(layer)}, not a multiple of {pattern.M}";
        else if (!pattern.IsNofM && layer.K % pattern.BlockColumns != 0)
            problem = $"its rows have {layer.K} weights{KDescription(layer)}, not a multiple of the block width {pattern.BlockColumns}";
        else if (!pattern.IsNofM && layer.RowsPerGroup % pattern.BlockRows != 0)
            problem = $"it has {layer.RowsPerGroup} output channels{(layer.Groups > 1 ? " per group" : "")}, not a multiple of the block height {pattern.BlockRows}";
        if (problem is not null)
            throw new CompressException(ErrorCodes.PrunePatternMismatch,
                $"PrunePattern=\"{options.Pattern}\" does not fit node '{layer.Label}' ({layer.Kind}): {problem}. " +
                $"Leave the layer dense with PruneExclude=\"{layer.Label}\", or choose a pattern that divides its shape.");
    }

    static string KDescription(LinearLayer layer) => layer.Kind == "Conv" ? $" ({layer.ChannelsPerGroup} input channels × {layer.KernelSize} kernel positions)" : "";

    /// <summary>R×C units of a layer (N:M: single weights).</summary>
    static long Units(LinearLayer layer, MaskPattern pattern) =>
        pattern.IsNofM ? layer.WeightCount : (long)(layer.Rows / pattern.RowGroup) * (layer.K / pattern.ColumnGroup);

    /// <summary>The units of group <paramref name="g"/> out of the layer's <paramref name="total"/> (cumulative rounding).</summary>
    static long GroupShare(long total, LinearLayer layer, int g) =>
        (long)Math.Round((double)total * (g + 1) / layer.Groups) - (long)Math.Round((double)total * g / layer.Groups);

    /// <summary>
    /// Global magnitude ranking: the units with the smallest Σ|w| over all layers are removed first until the fraction
    /// is reached, skipping a layer once it hits its cap (<see cref="LayerCap"/>), so no layer is emptied.
    /// </summary>
    static long[] GlobalAllocation(Graph graph, IReadOnlyList<LinearLayer> layers, MaskPattern pattern, double sparsity)
    {
        var perLayer = new double[layers.Count][];
        var caps = new long[layers.Count];
        long total = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            perLayer[i] = UnitScores(layers[i].ReadWeights(graph), layers[i], pattern);
            caps[i] = Math.Min(perLayer[i].Length - 1, (long)Math.Floor(LayerCap(sparsity) * perLayer[i].Length));
            total += perLayer[i].Length;
        }
        var keys = new double[total];
        var owner = new int[total];
        long at = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            perLayer[i].CopyTo(keys, at);
            owner.AsSpan((int)at, perLayer[i].Length).Fill(i);
            at += perLayer[i].Length;
        }
        Array.Sort(keys, owner); // ties keep no particular order; magnitudes rarely tie exactly
        long target = (long)Math.Round(total * sparsity), taken = 0;
        var prune = new long[layers.Count];
        foreach (int layer in owner)
        {
            if (taken >= target) break;
            if (prune[layer] >= caps[layer]) continue;
            prune[layer]++;
            taken++;
        }
        return prune;
    }

    /// <summary>Σ|w| of every R×C unit, unit index = unitRow · (K / C) + unitColumn.</summary>
    static double[] UnitScores(double[] w, LinearLayer layer, MaskPattern pattern)
    {
        int rg = pattern.RowGroup, cg = pattern.ColumnGroup, k = layer.K;
        int unitCols = k / cg, unitRows = layer.Rows / rg;
        var scores = new double[(long)unitRows * unitCols];
        for (int r = 0; r < layer.Rows; r++)
            for (int c = 0; c < k; c++) scores[(r / rg) * unitCols + c / cg] += Math.Abs(w[(long)r * k + c]);
        return scores;
    }

    /// <summary>The magnitude mask (rows × K, true = removed): N:M per group of M, else the lowest units of each Conv group.</summary>
    static bool[] MagnitudeMask(double[] w, LinearLayer layer, MaskPattern pattern, long prune)
    {
        int k = layer.K;
        var mask = new bool[w.Length];
        if (pattern.IsNofM)
        {
            var order = new int[pattern.M];
            var keys = new double[pattern.M];
            for (int r = 0; r < layer.Rows; r++)
                for (int c0 = 0; c0 < k; c0 += pattern.M)
                {
                    for (int j = 0; j < pattern.M; j++) { order[j] = j; keys[j] = Math.Abs(w[(long)r * k + c0 + j]); }
                    Array.Sort(keys, order);
                    for (int j = 0; j < pattern.M - pattern.N; j++) mask[(long)r * k + c0 + order[j]] = true;
                }
            return mask;
        }
        var scores = UnitScores(w, layer, pattern);
        int rg = pattern.RowGroup, cg = pattern.ColumnGroup, unitCols = k / cg;
        int unitRowsPerGroup = layer.RowsPerGroup / rg;
        for (int g = 0; g < layer.Groups; g++)
        {
            long first = (long)g * unitRowsPerGroup * unitCols, count = (long)unitRowsPerGroup * unitCols;
            var groupScores = scores.AsSpan((int)first, (int)count).ToArray();
            foreach (long unit in SparseGpt.Lowest(groupScores, GroupShare(prune, layer, g)))
            {
                long u = first + unit;
                int ur = (int)(u / unitCols), uc = (int)(u % unitCols);
                for (int r = ur * rg; r < (ur + 1) * rg; r++)
                    for (int c = uc * cg; c < (uc + 1) * cg; c++) mask[(long)r * k + c] = true;
            }
        }
        return mask;
    }

    static double[] Apply(double[] w, bool[] mask)
    {
        var result = (double[])w.Clone();
        for (long i = 0; i < result.Length; i++) if (mask[i]) result[i] = 0;
        return result;
    }

    /// <summary>Rows r0 … r0 + count of a layer as [w | bias] rows of length <paramref name="n"/>.</summary>
    static double[] Rows(double[] w, double[] bias, LinearLayer layer, int r0, int count, int n)
    {
        var rows = new double[(long)count * n];
        for (int r = 0; r < count; r++)
        {
            w.AsSpan((r0 + r) * layer.K, layer.K).CopyTo(rows.AsSpan(r * n, layer.K));
            if (layer.HasBias) rows[r * n + layer.K] = bias[r0 + r];
        }
        return rows;
    }

    /// <summary>
    /// The damped problem of one group: H = G + λI (λ = damping · mean diag G), rhs = C·w_o + λ·w (each row: the
    /// original target through the current input, pulled towards the current weights), and the dense solution H⁻¹·rhs
    /// that SparseGPT starts from. For the first layer (Xp = Xo) the dense solution is the current weights.
    /// </summary>
    internal static (double[] H, double[] Rhs, double[] Start) Reconstruction(LayerGram gram, double[] current, double[] target, int rows, double damping)
    {
        int n = gram.Np, no = gram.No;
        var h = (double[])gram.G.Clone();
        double mean = 0;
        for (int i = 0; i < n; i++) mean += h[i * n + i];
        double lambda = Math.Max(damping * mean / Math.Max(1, n), 1e-10);
        for (int i = 0; i < n; i++) h[i * n + i] += lambda;
        var rhs = new double[(long)rows * n];
        Parallel.For(0, rows, r =>
        {
            var t = target.AsSpan(r * no, no);
            for (int i = 0; i < n; i++) rhs[(long)r * n + i] = TensorPrimitives.Dot<double>(gram.C.AsSpan(i * no, no), t) + lambda * current[(long)r * n + i];
        });
        var l = (double[])h.Clone();
        DenseLinearAlgebra.CholeskyDamped(l, n);
        var start = (double[])rhs.Clone();
        Parallel.For(0, rows, r => DenseLinearAlgebra.CholeskySolve(l, n, start.AsSpan((int)((long)r * n), n)));
        return (h, rhs, start);
    }
}
