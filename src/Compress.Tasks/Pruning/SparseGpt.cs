using System.Numerics.Tensors;

namespace Compress.Tasks.Pruning;

/// <summary>
/// Which weights may be removed together: <c>N:M</c> (keep N of every M consecutive weights of a row) when
/// <see cref="M"/> &gt; 0, else R×C blocks (R rows × C consecutive columns; 1×1 is unstructured).
/// </summary>
internal sealed record MaskPattern(int N, int M, int BlockRows, int BlockColumns)
{
    public static MaskPattern Unstructured { get; } = new(0, 0, 1, 1);

    public bool IsNofM => M > 0;

    /// <summary>Columns that must be decided together: M for N:M, C for blocks.</summary>
    public int ColumnGroup => IsNofM ? M : BlockColumns;

    /// <summary>Rows that share a mask: R for blocks, 1 otherwise.</summary>
    public int RowGroup => IsNofM ? 1 : BlockRows;

    public static MaskPattern From(PruneOptions o) => o.Mode switch
    {
        PruneMode.NofM => new(o.N, o.M, 1, 1),
        PruneMode.Block => new(0, 0, o.BlockRows, o.BlockColumns),
        _ => Unstructured,
    };
}

/// <summary>
/// One-shot pruning of a weight matrix with second-order weight updates. SparseGPT (Frantar &amp; Alistarh, ICML 2023,
/// "SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot", Algorithm 1): the columns are swept left to
/// right; before each window of 128 columns the mask of the window is chosen by the OBS saliency w²/[H⁻¹]²_cc (per R×C
/// block: the sum over the block; N:M: per group of M as the sweep reaches it), and every removed weight's error is
/// spread over the later columns of its row through the upper Cholesky factor of H⁻¹. Then (when affordable) each row's
/// kept weights are refit exactly by least squares on the same H — the SparseGPT update is optimal only column by column.
/// </summary>
/// <remarks>
/// Rows are W[r][0..n): columns [0, k) prunable, columns [k, n) never pruned (the bias column), so the bias absorbs
/// the mean of the error. The objective per row is (v − w₀)ᵀH(v − w₀) with w₀ the dense reconstruction; H is the damped
/// Gram matrix of the layer's input.
/// </remarks>
internal static class SparseGpt
{
    /// <summary>Columns per mask-selection window (SparseGPT's Bs).</summary>
    const int Window = 128;

    /// <summary>
    /// Prunes <paramref name="w"/> (rows × n, row-major) in place so that each row keeps the pattern; returns the mask
    /// (rows × k, true = removed). <paramref name="pruneUnits"/> is how many R×C units to remove in total (ignored for N:M).
    /// </summary>
    public static bool[] Prune(double[] w, int rows, int n, int k, double[] h, MaskPattern pattern, long pruneUnits)
    {
        var u = DenseLinearAlgebra.UpperCholeskyOfInverse(h, n);
        var mask = new bool[(long)rows * k];
        int cg = pattern.ColumnGroup, rg = pattern.RowGroup;
        int window = Math.Max(cg, Window / cg * cg);
        long totalUnits = (long)(rows / rg) * (k / cg);
        long decided = 0, prunedSoFar = 0;
        for (int i1 = 0; i1 < k; i1 += window)
        {
            int i2 = Math.Min(k, i1 + window);
            if (!pattern.IsNofM)
            {
                // Adaptive mask selection: the window's units with the lowest saliency, so many that the running total follows the target.
                int unitCols = (i2 - i1) / cg, unitRows = rows / rg;
                long units = (long)unitCols * unitRows;
                decided += units;
                long target = totalUnits == 0 ? 0 : (long)Math.Round((double)pruneUnits * decided / totalUnits);
                long take = Math.Clamp(target - prunedSoFar, 0, units);
                prunedSoFar += take;
                if (take > 0)
                {
                    var scores = new double[units];
                    for (int ur = 0; ur < unitRows; ur++)
                        for (int uc = 0; uc < unitCols; uc++)
                        {
                            double s = 0;
                            for (int r = ur * rg; r < (ur + 1) * rg; r++)
                                for (int c = i1 + uc * cg; c < i1 + (uc + 1) * cg; c++)
                                {
                                    double d = u[c * n + c];
                                    s += w[(long)r * n + c] * w[(long)r * n + c] / (d * d);
                                }
                            scores[ur * unitCols + uc] = s;
                        }
                    foreach (long unit in Lowest(scores, take))
                    {
                        int ur = (int)(unit / unitCols), uc = (int)(unit % unitCols);
                        for (int r = ur * rg; r < (ur + 1) * rg; r++)
                            for (int c = i1 + uc * cg; c < i1 + (uc + 1) * cg; c++) mask[(long)r * k + c] = true;
                    }
                }
            }
            Parallel.For(0, rows, r =>
            {
                var row = w.AsSpan((int)((long)r * n), n);
                Span<double> group = stackalloc double[Math.Max(1, pattern.M)];
                for (int i = i1; i < i2; i++)
                {
                    if (pattern.IsNofM && i % pattern.M == 0)
                    {
                        // N:M: of the next M weights keep the N with the highest saliency, judged now (after the earlier updates).
                        for (int j = 0; j < pattern.M; j++)
                        {
                            double d = u[(i + j) * n + i + j];
                            group[j] = row[i + j] * row[i + j] / (d * d);
                        }
                        for (int drop = 0; drop < pattern.M - pattern.N; drop++)
                        {
                            int best = -1;
                            for (int j = 0; j < pattern.M; j++)
                                if (!mask[(long)r * k + i + j] && (best < 0 || group[j] < group[best])) best = j;
                            mask[(long)r * k + i + best] = true;
                        }
                    }
                    if (!mask[(long)r * k + i]) continue;
                    // Remove w[i] and move its error onto the later columns: w[i..] -= (w[i] / U[i,i]) · U[i, i..].
                    double err = row[i] / u[i * n + i];
                    TensorPrimitives.MultiplyAdd(u.AsSpan(i * n + i, n - i), -err, row[i..], row[i..]);
                    row[i] = 0;
                }
            });
        }
        return mask;
    }

    /// <summary>Indices of the <paramref name="count"/> smallest values (ties: lower index first).</summary>
    internal static IEnumerable<long> Lowest(double[] scores, long count)
    {
        var order = new long[scores.Length];
        for (long i = 0; i < order.Length; i++) order[i] = i;
        var keys = (double[])scores.Clone();
        Array.Sort(keys, order);
        return order.Take((int)count);
    }

    /// <summary>Estimated floating-point operations of <see cref="Refit"/> for this mask.</summary>
    public static double RefitCost(bool[] mask, int rows, int k, int n, int rowGroup)
    {
        double cost = 0;
        for (int r = 0; r < rows; r += rowGroup)
        {
            int kept = n - k;
            for (int c = 0; c < k; c++) if (!mask[(long)r * k + c]) kept++;
            cost += (double)kept * kept * kept / 3 + (double)kept * kept * rowGroup * 2;
        }
        return cost;
    }

    /// <summary>
    /// Exact least-squares refit: for each row, the kept weights S become the minimiser of (v − w₀)ᵀH(v − w₀) with
    /// v = 0 off S, i.e. H[S,S]·v_S = (H·w₀)[S] with <paramref name="rhs"/> = H·w₀ (rows × n). Rows sharing a mask
    /// (R×1 blocks) share one factorisation.
    /// </summary>
    public static void Refit(double[] w, int rows, int n, int k, double[] h, double[] rhs, bool[] mask, int rowGroup)
    {
        int groups = rows / rowGroup;
        Parallel.For(0, groups, g =>
        {
            int r0 = g * rowGroup;
            var kept = new List<int>(n);
            for (int c = 0; c < k; c++) if (!mask[(long)r0 * k + c]) kept.Add(c);
            for (int c = k; c < n; c++) kept.Add(c);
            int m = kept.Count;
            if (m == 0) return;
            var sub = new double[m * m];
            for (int i = 0; i < m; i++)
            {
                int ri = kept[i] * n;
                for (int j = 0; j <= i; j++) sub[i * m + j] = sub[j * m + i] = h[ri + kept[j]];
            }
            DenseLinearAlgebra.CholeskyDamped(sub, m);
            var x = new double[m];
            for (int r = r0; r < r0 + rowGroup; r++)
            {
                for (int i = 0; i < m; i++) x[i] = rhs[(long)r * n + kept[i]];
                DenseLinearAlgebra.CholeskySolve(sub, m, x);
                var row = w.AsSpan((int)((long)r * n), n);
                row.Clear();
                for (int i = 0; i < m; i++) row[kept[i]] = x[i];
            }
        });
    }
}
