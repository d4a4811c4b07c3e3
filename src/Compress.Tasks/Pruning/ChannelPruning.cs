using System.Collections.Immutable;
using System.Globalization;
using System.Numerics.Tensors;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Passes;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;
using Tensor = Compress.Tasks.Graph.Tensor;

/// <summary>
/// Structured channel pruning: whole output channels of Conv/Gemm/MatMul layers are removed and every tensor they
/// reach is sliced to match (<see cref="ChannelAnalysis"/>), so the pruned model is smaller, not just sparser.
/// Channel groups are pruned one at a time in graph order, each on calibration statistics of the model with the earlier
/// groups already pruned. Criteria:
/// <list type="bullet">
/// <item><b>Reconstruction</b> — ThiNet (Luo et al., ICCV 2017) / channel pruning by reconstruction (He et al., ICCV
/// 2017): channels are removed greedily, each time the one whose removal increases the consumers' output error on the
/// calibration data least, with the consumers' weights refit by least squares after every removal (the group form of
/// Optimal Brain Surgeon on the consumers' input Gram matrices, Frantar &amp; Alistarh, NeurIPS 2022 "Optimal Brain
/// Compression", so each step's cost is exact).</item>
/// <item><b>L1</b> — smallest filter L1 norm (Li et al., ICLR 2017).</item>
/// <item><b>BnGamma</b> — smallest |γ| of the BatchNormalization after the filter (Liu et al., ICCV 2017).</item>
/// </list>
/// With <see cref="PruneOptions.Reconstruct"/> the consumers are refit by least squares to the original model's outputs
/// (bias included) whatever the criterion.
/// </summary>
internal static class ChannelPruning
{
    public static (Graph Graph, List<LayerPruneRecord> Records, string Method) Run(Graph canonical, IReadOnlyList<LinearLayer> layers,
        PruneOptions options, CalibrationRunner? runner, PassLog log, BatchNormGammas? gammas, ImmutableArray<(string, string)>.Builder skipped)
    {
        var producers = layers.Where(l => !l.IsDepthwise).Select(l => l.Node.Output0).ToHashSet(StringComparer.Ordinal);
        var groups = ChannelAnalysis.Analyse(canonical, producers);
        foreach (var g in groups)
        {
            if (g.Fixed is not null)
            {
                foreach (var p in g.Producers) skipped.Add((p.Node.Label, $"channels kept: {g.Fixed}"));
                continue;
            }
            if (g.Blocker is { } b)
                throw new CompressException(ErrorCodes.PruneCannotRewire,
                    $"Channel pruning cannot remove output channels of {g.Label}: they reach node '{b.Node.Label}' ({b.Node.OpType}), which it cannot rewire " +
                    $"({b.Reason}). Leave those layers whole with PruneExclude=\"{string.Join(";", g.Producers.Select(p => p.Node.Label))}\", or use PruneMode=\"Unstructured\".");
        }
        var prunable = groups.Where(g => g.Fixed is null && g.Channels > 1).ToList();
        foreach (var g in groups.Where(g => g.Fixed is null && g.Channels <= 1))
            foreach (var p in g.Producers) skipped.Add((p.Node.Label, "a single channel"));
        if (prunable.Count == 0)
            throw new CompressException(ErrorCodes.NothingToPrune,
                "PruneMode=\"Channel\" found no channel that can be removed: " +
                (groups.Count == 0 ? "the model has no Conv/Gemm/MatMul whose output channels feed another layer." :
                    string.Join("; ", groups.Select(g => $"{g.Label}: {g.Fixed ?? "one channel"}"))) + " Use PruneMode=\"Unstructured\" instead.");

        // How many channels each group loses.
        var scores = prunable.Select(g => Scores(canonical, g, options, gammas, out _)).ToArray();
        var counts = options.Scope == PruneScope.Layer
            ? prunable.Select(g => Math.Min(g.Channels - 1, (int)Math.Round(g.Channels * options.Sparsity))).ToArray()
            : GlobalCounts(prunable, scores, options.Sparsity);

        var graph = canonical;
        var actions = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var errors = new Dictionary<string, (double Error, double Baseline)>(StringComparer.Ordinal);
        void Note(string label, string what) { if (!actions.TryGetValue(label, out var l)) actions[label] = l = []; l.Add(what); }
        for (int gi = 0; gi < prunable.Count; gi++)
        {
            if (counts[gi] == 0) continue;
            var group = ChannelAnalysis.Analyse(graph, producers).First(g => g.Key == prunable[gi].Key);
            var score = Scores(graph, group, options, gammas, out string scoreNote);
            var consumers = runner is null ? [] : Consumers(graph, canonical, group, runner, options);
            int remove = counts[gi];
            bool[] removed;
            bool refit = options.Reconstruct && consumers.Count > 0;
            if (options.Criterion == PruneCriterion.Reconstruction && consumers.Count > 0)
                removed = refit ? GreedyObs(consumers, group.Channels, remove) : GreedyThiNet(consumers, group.Channels, remove);
            else
            {
                removed = new bool[group.Channels];
                foreach (long c in SparseGpt.Lowest(score, remove)) removed[c] = true;
                if (refit) foreach (var k in consumers) for (int c = 0; c < removed.Length; c++) if (removed[c]) ObsRemove(k, k.Columns[c]);
            }

            string criterion = options.Criterion == PruneCriterion.Reconstruction && consumers.Count > 0
                ? (refit ? "greedy reconstruction (OBS)" : "greedy reconstruction (ThiNet)") : scoreNote;
            foreach (var k in consumers)
            {
                var masked = (double[])k.Current.Clone();
                for (int c = 0; c < removed.Length; c++) if (removed[c]) foreach (int col in k.Columns[c]) for (int r = 0; r < k.Rows; r++) masked[r * k.N + col] = 0;
                var (rel, _) = k.Gram.RelativeErrors(k.Target, k.Rows, refit ? k.W : masked, masked);
                errors[k.Layer.Label] = (rel[0], rel[1]);
                if (refit)
                {
                    var weights = new double[(long)k.Rows * k.Layer.K];
                    var bias = new double[k.Rows];
                    for (int r = 0; r < k.Rows; r++)
                    {
                        k.W.AsSpan(r * k.N, k.Layer.K).CopyTo(weights.AsSpan(r * k.Layer.K, k.Layer.K));
                        if (k.Layer.HasBias) bias[r] = k.W[r * k.N + k.Layer.K];
                    }
                    graph = k.Layer.Write(graph, weights, bias);
                }
            }
            graph = Slice(graph, group, removed);
            graph = ShapeInference.Run(graph.RemoveUnusedInitializers(out _));

            int kept = group.Channels - remove;
            string message = string.Create(CultureInfo.InvariantCulture, $"{group.Channels} → {kept} channels ({criterion})");
            foreach (var p in group.Producers) Note(p.Node.Label, $"{group.Channels} → {kept} output channels ({criterion})");
            foreach (var m in group.Members.Where(m => m.Role == MemberRole.Depthwise)) Note(m.Node.Label, $"{group.Channels} → {kept} channels (depthwise)");
            foreach (var m in group.Consumers.DistinctBy(m => m.Node.Output0))
                Note(m.Node.Label, $"{remove} of {group.Channels} input channels removed{(refit ? ", LS refit" : "")}");
            log.Add("Prune", group.Label, message + (consumers.Count > 0
                ? "; consumers " + string.Join(", ", consumers.Select(k => string.Create(CultureInfo.InvariantCulture,
                    $"'{k.Layer.Label}' output error {errors[k.Layer.Label].Error:0.000e+0} (without refit {errors[k.Layer.Label].Baseline:0.000e+0})")))
                : ""));
        }

        // One record per layer touched, comparing the layer in the original and the pruned graph.
        var before = MacCounter.Count(canonical).Layers.ToDictionary(l => l.Layer, StringComparer.Ordinal);
        var after = MacCounter.Count(graph).Layers.ToDictionary(l => l.Layer, StringComparer.Ordinal);
        var records = new List<LayerPruneRecord>();
        foreach (var node in canonical.Nodes)
        {
            if (!actions.TryGetValue(node.Label, out var what) || !before.TryGetValue(node.Label, out var b) || !after.TryGetValue(node.Label, out var a)) continue;
            var layer = layers.FirstOrDefault(l => l.Node.Output0 == node.Output0);
            string kind = layer?.IsDepthwise == true ? "DepthwiseConv" : node.OpType;
            errors.TryGetValue(node.Label, out var e);
            bool measured = errors.ContainsKey(node.Label);
            records.Add(new LayerPruneRecord(node.Label, kind, string.Join("; ", what), b.Weights, a.NonZeroWeights, b.Macs.Dense, a.Macs.NonZero,
                measured ? e.Error : null, measured ? e.Baseline : null));
        }
        string method = options.Criterion switch
        {
            PruneCriterion.Reconstruction when options.Reconstruct =>
                "channel pruning by reconstruction (ThiNet, Luo et al. ICCV 2017; He et al. ICCV 2017): greedy removal of the channel that raises the next layers' " +
                "output error least, each step an exact group-OBS least-squares refit of the next layers (Frantar & Alistarh, NeurIPS 2022)",
            PruneCriterion.Reconstruction => "ThiNet greedy channel selection (Luo et al., ICCV 2017) on the next layers' output error, no refit",
            PruneCriterion.BnGamma => "Network Slimming channel selection by |γ| (Liu et al., ICCV 2017)" + RefitNote(options),
            _ => "L1-norm filter pruning (Li et al., ICLR 2017)" + RefitNote(options),
        };
        return (graph, records, method + (options.Scope == PruneScope.Global
            ? "; channels per layer from one global ranking (" + (options.Criterion == PruneCriterion.BnGamma ? "|γ|" : "filter L1 norm / the layer's mean") + ") with per-layer caps"
            : ""));
    }

    static string RefitNote(PruneOptions o) => o.Reconstruct ? ", then a least-squares refit of the next layers on calibration data (He et al., ICCV 2017)" : "";

    /// <summary>A score per channel (lower goes first): Σ over producers of the filter L1 norm over its layer's mean, or Σ|γ| when every producer had a BatchNormalization.</summary>
    static double[] Scores(Graph graph, ChannelGroup group, PruneOptions options, BatchNormGammas? gammas, out string note)
    {
        var score = new double[group.Channels];
        var producers = group.Producers.Select(p => LinearLayer.TryCreate(graph, p.Node, out _)!).ToList();
        if (options.Criterion == PruneCriterion.BnGamma && gammas is not null && producers.All(p => gammas.For(p.Node, p.Rows) is not null))
        {
            foreach (var p in producers)
            {
                var g = gammas.For(p.Node, p.Rows)!;
                for (int c = 0; c < score.Length; c++) score[c] += Math.Abs(g[c]);
            }
            note = "|γ|";
            return score;
        }
        foreach (var p in producers)
        {
            var w = p.ReadWeights(graph);
            var l1 = new double[p.Rows];
            for (int r = 0; r < p.Rows; r++) l1[r] = TensorPrimitives.SumOfMagnitudes<double>(w.AsSpan(r * p.K, p.K));
            double mean = Math.Max(l1.Average(), 1e-30);
            for (int c = 0; c < score.Length; c++) score[c] += l1[c] / mean / producers.Count;
        }
        note = options.Criterion == PruneCriterion.BnGamma ? "L1 (no BatchNormalization followed the filter)" : "L1";
        return score;
    }

    /// <summary>One ranking of all groups' channels by score (BnGamma: |γ|; else L1 over the layer mean), each group capped as in <see cref="WeightPruning.LayerCap"/>.</summary>
    static int[] GlobalCounts(List<ChannelGroup> groups, double[][] scores, double sparsity)
    {
        var all = new List<(double Score, int Group)>();
        long total = 0;
        for (int g = 0; g < groups.Count; g++) { foreach (var s in scores[g]) all.Add((s, g)); total += groups[g].Channels; }
        all.Sort((a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : a.Group.CompareTo(b.Group));
        var counts = new int[groups.Count];
        long target = (long)Math.Round(total * sparsity), taken = 0;
        foreach (var (_, g) in all)
        {
            if (taken >= target) break;
            int cap = Math.Min(groups[g].Channels - 1, (int)Math.Floor(WeightPruning.LayerCap(sparsity) * groups[g].Channels));
            if (counts[g] >= cap) continue;
            counts[g]++;
            taken++;
        }
        return counts;
    }

    /// <summary>A layer reading the group's channels, with its reconstruction problem.</summary>
    sealed class Consumer
    {
        public required LinearLayer Layer { get; init; }
        public required LayerGram Gram { get; init; }
        public required int N { get; init; }
        public required int Rows { get; init; }
        /// <summary>Weights being refit (rows × N, bias last): starts at the dense reconstruction.</summary>
        public required double[] W { get; init; }
        public required double[] Current { get; init; }
        public required double[] Target { get; init; }
        public required double[] Hinv { get; init; }
        /// <summary>Columns of each channel in this layer's rows.</summary>
        public required int[][] Columns { get; init; }
        public required double Energy { get; init; }
    }

    static List<Consumer> Consumers(Graph graph, Graph original, ChannelGroup group, CalibrationRunner runner, PruneOptions options)
    {
        var byNode = group.Consumers.GroupBy(m => m.Node.Output0).ToList();
        var pairs = byNode.Select(g =>
        {
            var current = LinearLayer.TryCreate(graph, g.First().Node, out string why) ?? throw new CompressException(ErrorCodes.PruneCannotRewire,
                $"Channel pruning cannot refit node '{g.First().Node.Label}' ({g.First().Node.OpType}): {why}.");
            var node = original.Nodes.First(n => n.Output0 == current.Node.Output0);
            return (current, LinearLayer.TryCreate(original, node, out _)!);
        }).ToList();
        var grams = GramCollector.Collect(runner, graph, pairs);
        var result = new List<Consumer>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var (layer, orig) = pairs[i];
            var gram = grams[i][0];
            int n = gram.Np, rows = layer.Rows, k = layer.K;
            var current = Pack(layer.ReadWeights(graph), layer.ReadBias(graph), layer, n);
            var target = Pack(orig.ReadWeights(original), orig.ReadBias(original), orig, gram.No);
            var (h, _, start) = WeightPruning.Reconstruction(gram, current, target, rows, options.Damping);
            double energy = gram.RelativeErrors(target, rows).Energy;
            var columns = new int[group.Channels][];
            for (int c = 0; c < group.Channels; c++)
            {
                var cols = new List<int>();
                foreach (var m in byNode[i])
                    for (int e = m.Start + c * m.Multiplier; e < m.Start + (c + 1) * m.Multiplier; e++)
                        for (int j = 0; j < layer.KernelSize; j++) cols.Add(e * layer.KernelSize + j);
                columns[c] = cols.ToArray();
            }
            result.Add(new Consumer
            {
                Layer = layer, Gram = gram, N = n, Rows = rows, W = start, Current = current, Target = target,
                Hinv = DenseLinearAlgebra.InverseSpd(h, n), Columns = columns, Energy = Math.Max(energy, 1e-30),
            });
        }
        return result;
    }

    static double[] Pack(double[] w, double[] bias, LinearLayer layer, int n)
    {
        var rows = new double[(long)layer.Rows * n];
        for (int r = 0; r < layer.Rows; r++)
        {
            w.AsSpan(r * layer.K, layer.K).CopyTo(rows.AsSpan(r * n, layer.K));
            if (layer.HasBias) rows[r * n + layer.K] = bias[r];
        }
        return rows;
    }

    /// <summary>Greedy backward elimination with exact least-squares refit: each step removes the channel of least group-OBS cost Σ_rows w_gᵀ[H⁻¹]_gg⁻¹w_g, summed over consumers (each relative to its output energy).</summary>
    static bool[] GreedyObs(List<Consumer> consumers, int channels, int remove)
    {
        var removed = new bool[channels];
        var cost = new double[channels];
        for (int step = 0; step < remove; step++)
        {
            Parallel.For(0, channels, c =>
            {
                if (removed[c]) { cost[c] = double.PositiveInfinity; return; }
                double s = 0;
                foreach (var k in consumers) s += ObsCost(k, k.Columns[c]) / k.Energy;
                cost[c] = s;
            });
            int best = 0;
            for (int c = 1; c < channels; c++) if (cost[c] < cost[best]) best = c;
            removed[best] = true;
            foreach (var k in consumers) ObsRemove(k, k.Columns[best]);
        }
        return removed;
    }

    /// <summary>Σ_rows w_gᵀ·([H⁻¹]_gg)⁻¹·w_g: the least increase of the output error when columns g go and the rest is refit.</summary>
    static double ObsCost(Consumer k, int[] g)
    {
        int m = g.Length, n = k.N;
        var hgg = new double[m * m];
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) hgg[i * m + j] = k.Hinv[g[i] * n + g[j]];
        DenseLinearAlgebra.CholeskyDamped(hgg, m);
        var z = new double[m];
        double s = 0;
        for (int r = 0; r < k.Rows; r++)
        {
            for (int i = 0; i < m; i++) z[i] = k.W[r * n + g[i]];
            // Forward solve L·y = w_g; wᵀ(LLᵀ)⁻¹w = |y|².
            for (int i = 0; i < m; i++) z[i] = (z[i] - TensorPrimitives.Dot<double>(hgg.AsSpan(i * m, i), z.AsSpan(0, i))) / hgg[i * m + i];
            s += TensorPrimitives.Dot<double>(z, z);
        }
        return s;
    }

    /// <summary>Removes columns g with the optimal update of the others (group OBS), and downdates H⁻¹.</summary>
    static void ObsRemove(Consumer k, int[] g)
    {
        int m = g.Length, n = k.N;
        var hgg = new double[m * m];
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) hgg[i * m + j] = k.Hinv[g[i] * n + g[j]];
        DenseLinearAlgebra.CholeskyDamped(hgg, m);
        // M = [H⁻¹]_gg⁻¹ · H⁻¹[g, :]  (m × n)
        var mm = new double[m * n];
        for (int i = 0; i < m; i++) k.Hinv.AsSpan(g[i] * n, n).CopyTo(mm.AsSpan(i * n, n));
        var col = new double[m];
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++) col[i] = mm[i * n + j];
            DenseLinearAlgebra.CholeskySolve(hgg, m, col);
            for (int i = 0; i < m; i++) mm[i * n + j] = col[i];
        }
        // W[r, :] -= Σ_i W[r, g_i] · M[i, :]  (uses w_g before the update; M[i, g] = I so w_g becomes 0).
        Parallel.For(0, k.Rows, r =>
        {
            var row = k.W.AsSpan(r * n, n);
            Span<double> wg = stackalloc double[m];
            for (int i = 0; i < m; i++) wg[i] = row[g[i]];
            for (int i = 0; i < m; i++) if (wg[i] != 0) TensorPrimitives.MultiplyAdd(mm.AsSpan(i * n, n), -wg[i], row, row);
            foreach (int c in g) row[c] = 0;
        });
        // H⁻¹ -= H⁻¹[:, g] · M
        var hg = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) hg[i * m + j] = k.Hinv[i * n + g[j]];
        Parallel.For(0, n, i =>
        {
            var row = k.Hinv.AsSpan(i * n, n);
            for (int j = 0; j < m; j++) if (hg[i * m + j] != 0) TensorPrimitives.MultiplyAdd(mm.AsSpan(j * n, n), -hg[i * m + j], row, row);
        });
        foreach (int c in g)
        {
            k.Hinv.AsSpan(c * n, n).Clear();
            for (int i = 0; i < n; i++) k.Hinv[i * n + c] = 0;
        }
    }

    /// <summary>ThiNet's greedy selection without refit: each step removes the channel whose zeroing raises the consumers' output error least.</summary>
    static bool[] GreedyThiNet(List<Consumer> consumers, int channels, int remove)
    {
        var removed = new bool[channels];
        var v = consumers.Select(k => (double[])k.Current.Clone()).ToArray();
        // grad = G·v − C·t per row: the error's half-gradient.
        var grad = consumers.Select((k, i) =>
        {
            var gr = new double[k.Rows * k.N];
            for (int r = 0; r < k.Rows; r++)
                for (int a = 0; a < k.N; a++)
                    gr[r * k.N + a] = TensorPrimitives.Dot<double>(k.Gram.G.AsSpan(a * k.N, k.N), v[i].AsSpan(r * k.N, k.N))
                        - TensorPrimitives.Dot<double>(k.Gram.C.AsSpan(a * k.Gram.No, k.Gram.No), k.Target.AsSpan(r * k.Gram.No, k.Gram.No));
            return gr;
        }).ToArray();
        var cost = new double[channels];
        for (int step = 0; step < remove; step++)
        {
            Parallel.For(0, channels, c =>
            {
                if (removed[c]) { cost[c] = double.PositiveInfinity; return; }
                double s = 0;
                for (int i = 0; i < consumers.Count; i++)
                {
                    var k = consumers[i];
                    var g = k.Columns[c];
                    double d = 0;
                    for (int r = 0; r < k.Rows; r++)
                        foreach (int a in g)
                        {
                            double va = v[i][r * k.N + a];
                            if (va == 0) continue;
                            d -= 2 * va * grad[i][r * k.N + a];
                            foreach (int b in g) d += va * k.Gram.G[a * k.N + b] * v[i][r * k.N + b];
                        }
                    s += d / k.Energy;
                }
                cost[c] = s;
            });
            int best = 0;
            for (int c = 1; c < channels; c++) if (cost[c] < cost[best]) best = c;
            removed[best] = true;
            for (int i = 0; i < consumers.Count; i++)
            {
                var k = consumers[i];
                for (int r = 0; r < k.Rows; r++)
                    foreach (int a in k.Columns[best])
                    {
                        double va = v[i][r * k.N + a];
                        if (va == 0) continue;
                        for (int b = 0; b < k.N; b++) grad[i][r * k.N + b] -= k.Gram.G[b * k.N + a] * va;
                        v[i][r * k.N + a] = 0;
                    }
            }
        }
        return removed;
    }

    /// <summary>Removes the channels from every member of the group (weights, biases, BatchNormalization and constant operands, depthwise groups).</summary>
    static Graph Slice(Graph graph, ChannelGroup group, bool[] removed)
    {
        foreach (var m in group.Members)
        {
            var node = graph.Nodes.First(n => n.Output0 == m.Node.Output0);
            bool[] Keep(long size)
            {
                var keep = new bool[size];
                Array.Fill(keep, true);
                for (int c = 0; c < removed.Length; c++)
                    if (removed[c]) for (int j = 0; j < m.Multiplier; j++) keep[m.Start + c * m.Multiplier + j] = false;
                return keep;
            }
            switch (m.Role)
            {
                case MemberRole.Producer:
                {
                    int wAxis = node.OpType switch { "Conv" => 0, "Gemm" when node.GetInt("transB", 0) != 0 => 0, _ => 1 };
                    var w = graph.Constant(node.Input(1))!;
                    graph = SliceInput(graph, ref node, 1, wAxis, Keep(w.Dims[wAxis]));
                    if (node.HasInput(2) && graph.Constant(node.Input(2)) is { } b && b.ElementCount > 1)
                        graph = SliceInput(graph, ref node, 2, b.Dims.Length - 1, Keep(b.Dims[^1]));
                    break;
                }
                case MemberRole.Depthwise:
                {
                    var w = graph.Constant(node.Input(1))!;
                    var keep = Keep(w.Dims[0]);
                    graph = SliceInput(graph, ref node, 1, 0, keep);
                    if (node.HasInput(2)) graph = SliceInput(graph, ref node, 2, 0, keep);
                    var updated = node.WithAttribute("group", AttributeValue.Of((long)keep.Count(k => k)));
                    graph = graph.ReplaceNodeAt(graph.IndexOf(node), updated);
                    break;
                }
                case MemberRole.BatchNorm:
                    for (int i = 1; i <= 4; i++) graph = SliceInput(graph, ref node, i, 0, Keep(graph.Constant(node.Input(i))!.Dims[0]));
                    break;
                case MemberRole.Constant:
                    graph = SliceInput(graph, ref node, m.Input, m.Axis, Keep(graph.Constant(node.Input(m.Input))!.Dims[m.Axis]));
                    break;
                case MemberRole.Consumer:
                {
                    int axis = node.OpType switch { "Conv" => 1, "Gemm" when node.GetInt("transB", 0) != 0 => 1, _ => 0 };
                    graph = SliceInput(graph, ref node, 1, axis, Keep(graph.Constant(node.Input(1))!.Dims[axis]));
                    break;
                }
            }
        }
        return graph;
    }

    /// <summary>Slices the constant input <paramref name="input"/> of <paramref name="node"/> along <paramref name="axis"/>, under its own name when only this node reads it.</summary>
    static Graph SliceInput(Graph graph, ref Node node, int input, int axis, bool[] keep)
    {
        var t = graph.Constant(node.Input(input))!;
        var dims = t.Dims.ToArray();
        long outer = dims.Take(axis).Aggregate(1L, (a, d) => a * d), inner = dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d);
        int kept = keep.Count(k => k);
        var source = t.Floats;
        var data = new float[outer * kept * inner];
        long o = 0;
        for (long a = 0; a < outer; a++)
            for (int c = 0; c < dims[axis]; c++)
            {
                if (!keep[c]) continue;
                Array.Copy(source, (a * dims[axis] + c) * inner, data, o, inner);
                o += inner;
            }
        dims[axis] = kept;
        if (graph.UseCount(t.Name) == 1 && !graph.IsGraphOutput(t.Name))
            return graph.WithInitializer(new Tensor(t.Name, t.Type, dims.ToImmutableArray(), data));
        string name = graph.UniqueValueName(t.Name + "_pruned");
        graph = graph.WithInitializer(new Tensor(name, t.Type, dims.ToImmutableArray(), data));
        var updated = node.WithInput(input, name);
        graph = graph.ReplaceNodeAt(graph.IndexOf(node), updated);
        node = updated;
        return graph;
    }
}
