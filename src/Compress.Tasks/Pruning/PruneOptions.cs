using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Pruning;

/// <summary>The <c>PruneMode</c> metadata: which weights a pruning removes.</summary>
public enum PruneMode
{
    /// <summary>Any weight (Han et al., NIPS 2015, "Learning both Weights and Connections"): zeros in dense tensors.</summary>
    Unstructured,

    /// <summary>N:M semi-structured: at most N non-zeros in every M consecutive weights of a row along the reduction axis.</summary>
    NofM,

    /// <summary>Block sparsity: whole R×C blocks (R output channels × C consecutive reduction elements) are zero.</summary>
    Block,

    /// <summary>Structured: whole output channels of Conv/Gemm/MatMul are removed and every consumer rewired (smaller tensors).</summary>
    Channel,
}

/// <summary>The <c>PruneScope</c> metadata: how the fraction is shared between layers.</summary>
public enum PruneScope
{
    /// <summary>One ranking over every prunable layer (per-layer caps keep every layer alive).</summary>
    Global,

    /// <summary>Every layer loses the same fraction.</summary>
    Layer,
}

/// <summary>The <c>PruneCriterion</c> metadata: how channel pruning chooses the channels to remove.</summary>
public enum PruneCriterion
{
    /// <summary>Greedy choice minimising the next layers' output error on calibration data, then a least-squares refit (ThiNet; He et al., ICCV 2017).</summary>
    Reconstruction,

    /// <summary>Smallest L1 norm of the filter (Li et al., ICLR 2017, "Pruning Filters for Efficient ConvNets").</summary>
    L1,

    /// <summary>Smallest |γ| of the BatchNormalization after the filter (Network Slimming, Liu et al., ICCV 2017).</summary>
    BnGamma,
}

/// <summary>
/// What the pruner is asked to do, parsed from the <c>CompressModel</c> metadata <c>Prune</c>, <c>PruneMode</c>,
/// <c>PrunePattern</c>, <c>PruneScope</c>, <c>PruneCriterion</c>, <c>PruneReconstruct</c> and <c>PruneExclude</c>.
/// </summary>
public sealed record PruneOptions
{
    /// <summary>Fraction of weights (of channels for <see cref="PruneMode.Channel"/>) removed, in (0, 1).</summary>
    public required double Sparsity { get; init; }

    public PruneMode Mode { get; init; } = PruneMode.Unstructured;

    /// <summary>N of N:M (non-zeros kept per group); 0 unless <see cref="PruneMode.NofM"/>.</summary>
    public int N { get; init; }

    /// <summary>M of N:M (group length along the reduction axis); 0 unless <see cref="PruneMode.NofM"/>.</summary>
    public int M { get; init; }

    /// <summary>Block height in output channels (the R of "RxC"); 1 unless <see cref="PruneMode.Block"/>.</summary>
    public int BlockRows { get; init; } = 1;

    /// <summary>Block width along the reduction axis (the C of "RxC"); 1 unless <see cref="PruneMode.Block"/>.</summary>
    public int BlockColumns { get; init; } = 1;

    public PruneScope Scope { get; init; } = PruneScope.Global;

    /// <summary>Channel selection; only for <see cref="PruneMode.Channel"/>.</summary>
    public PruneCriterion Criterion { get; init; } = PruneCriterion.Reconstruction;

    /// <summary>
    /// Refit the kept weights on calibration data (SparseGPT + least squares for Unstructured/NofM/Block, the next layers'
    /// least-squares refit for Channel). Needs calibration data.
    /// </summary>
    public bool Reconstruct { get; init; } = true;

    /// <summary>Node names (<see cref="Graph.Node.Label"/>) left unpruned; each must name a prunable layer.</summary>
    public ImmutableHashSet<string> Exclude { get; init; } = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Relative damping λ of the Gram matrices (λ·mean diag is added to the diagonal), as SparseGPT's 1 %.</summary>
    public double Damping { get; init; } = 0.01;

    /// <summary>Largest estimated cost (floating-point operations) of the exact per-row least-squares refit of one layer; above it the SparseGPT update is kept as is.</summary>
    public double RefitBudgetFlops { get; init; } = 4e9;

    /// <summary>"2:4", "1x4", "" — the pattern as written in the metadata (normalised).</summary>
    public string Pattern => Mode switch
    {
        PruneMode.NofM => $"{N}:{M}",
        PruneMode.Block => $"{BlockRows}x{BlockColumns}",
        _ => "",
    };

    /// <summary>"Unstructured 80% global", "NofM 2:4", "Block 1x4 70% layer", "Channel 50% layer (Reconstruction)".</summary>
    public string Describe() => Mode switch
    {
        PruneMode.NofM => string.Create(CultureInfo.InvariantCulture, $"NofM {N}:{M} ({Sparsity * 100:0.#}% of every layer)"),
        PruneMode.Channel => string.Create(CultureInfo.InvariantCulture, $"Channel {Sparsity * 100:0.#}% {Scope.ToString().ToLowerInvariant()} ({Criterion})"),
        PruneMode.Block => string.Create(CultureInfo.InvariantCulture, $"Block {Pattern} {Sparsity * 100:0.#}% {Scope.ToString().ToLowerInvariant()}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"Unstructured {Sparsity * 100:0.#}% {Scope.ToString().ToLowerInvariant()}"),
    };

    /// <summary>Whether any pruning metadata is set (<c>Prune</c> or <c>PruneMode</c>).</summary>
    public static bool IsRequested(string? prune, string? mode) => !string.IsNullOrWhiteSpace(prune) || !string.IsNullOrWhiteSpace(mode);

    /// <summary>
    /// Options from the metadata. Empty values take their defaults: <c>PruneMode</c> Unstructured, <c>PruneScope</c> Global
    /// (Layer for Channel), <c>PruneCriterion</c> Reconstruction when calibration data is given (else L1),
    /// <c>PruneReconstruct</c> true when calibration data is given. <c>Prune</c> may be empty for NofM (the pattern
    /// fixes the fraction).
    /// </summary>
    /// <exception cref="CompressException">CMP006 naming the metadata, the value and what is expected.</exception>
    public static PruneOptions FromMetadata(string? prune, string? mode, string? pattern = null, string? scope = null,
        string? criterion = null, string? reconstruct = null, string? exclude = null, bool hasCalibrationData = false)
    {
        var m = ParseEnum<PruneMode>("PruneMode", mode, PruneMode.Unstructured);
        double? sparsity = ParseSparsity(prune);
        int n = 0, groupM = 0, rows = 1, cols = 1;
        string p = pattern?.Trim() ?? "";
        switch (m)
        {
            case PruneMode.NofM:
                (n, groupM) = ParseNofM(p);
                double implied = 1 - (double)n / groupM;
                if (sparsity is double s && Math.Abs(s - implied) > 1e-9)
                    throw Bad("Prune", prune!, $"empty or {implied.ToString("0.####", CultureInfo.InvariantCulture)}: PrunePattern=\"{n}:{groupM}\" keeps {n} of every {groupM} weights, which removes {implied:P0}");
                sparsity = implied;
                break;
            case PruneMode.Block:
                (rows, cols) = ParseBlock(p);
                break;
            default:
                if (p.Length > 0)
                    throw Bad("PrunePattern", p, $"empty: a pattern applies to PruneMode=\"NofM\" (\"2:4\") or \"Block\" (\"1x4\"), not {m}");
                break;
        }
        if (sparsity is null)
            throw Bad("Prune", prune ?? "", "the fraction of weights to remove, a number strictly between 0 and 1 such as 0.8 (invariant culture, '.' as the decimal point)");

        var sc = ParseEnum<PruneScope>("PruneScope", scope, m == PruneMode.Channel ? PruneScope.Layer : PruneScope.Global);
        if (m == PruneMode.NofM && !string.IsNullOrWhiteSpace(scope) && sc != PruneScope.Layer)
            throw Bad("PruneScope", scope!, "empty or Layer: an N:M pattern applies inside every group of M weights, so it has no global ranking");

        bool? refit = null;
        if (!string.IsNullOrWhiteSpace(reconstruct))
        {
            refit = reconstruct.Trim().ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                _ => throw Bad("PruneReconstruct", reconstruct, "true or false"),
            };
        }
        if (refit == true && !hasCalibrationData)
            throw new CompressException(ErrorCodes.BadMetadata,
                "PruneReconstruct=\"true\" refits the kept weights on calibration data, but the model has no CalibrationData: give a .npy file of " +
                "representative inputs (first axis = samples; a few hundred are enough), or set PruneReconstruct=\"false\" for plain magnitude pruning.");

        var cr = PruneCriterion.Reconstruction;
        if (!string.IsNullOrWhiteSpace(criterion))
        {
            if (m != PruneMode.Channel)
                throw Bad("PruneCriterion", criterion, $"empty: a criterion chooses channels for PruneMode=\"Channel\"; {m} pruning ranks weights by magnitude (and SparseGPT's saliency when reconstructing)");
            cr = ParseEnum<PruneCriterion>("PruneCriterion", criterion, PruneCriterion.Reconstruction);
            if (cr == PruneCriterion.Reconstruction && !hasCalibrationData)
                throw new CompressException(ErrorCodes.BadMetadata,
                    "PruneCriterion=\"Reconstruction\" chooses channels by the next layer's output error on calibration data, but the model has no " +
                    "CalibrationData: give a .npy file of representative inputs, or use PruneCriterion=\"L1\" or \"BnGamma\".");
        }
        else if (!hasCalibrationData) cr = PruneCriterion.L1;

        return new PruneOptions
        {
            Sparsity = sparsity.Value,
            Mode = m,
            N = n,
            M = groupM,
            BlockRows = rows,
            BlockColumns = cols,
            Scope = m == PruneMode.NofM ? PruneScope.Layer : sc,
            Criterion = cr,
            Reconstruct = refit ?? hasCalibrationData,
            Exclude = (exclude ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .ToImmutableHashSet(StringComparer.Ordinal),
        };
    }

    static double? ParseSparsity(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0 && s < 1))
            throw Bad("Prune", text, "the fraction of weights to remove, a number strictly between 0 and 1 such as 0.8 (invariant culture, '.' as the decimal point)");
        return s;
    }

    /// <summary>"2:4" → (2, 4): N non-zeros kept in every M; 0 &lt; N &lt; M ≤ 64.</summary>
    static (int N, int M) ParseNofM(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m) && n > 0 && n < m && m <= 64)
            return (n, m);
        throw Bad("PrunePattern", text, "N:M with 0 < N < M ≤ 64 for PruneMode=\"NofM\", such as \"2:4\" (2 non-zeros in every 4 weights) or \"1:4\"");
    }

    /// <summary>"1x4" → (1, 4): rows (output channels) × columns (reduction elements); both in 1…64, not both 1.</summary>
    static (int Rows, int Columns) ParseBlock(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int r)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int c) && r is >= 1 and <= 64 && c is >= 1 and <= 64 && r * c > 1)
            return (r, c);
        throw Bad("PrunePattern", text, "RxC for PruneMode=\"Block\": R output channels × C consecutive inputs, such as \"1x4\", \"4x1\" or \"8x1\"");
    }

    static T ParseEnum<T>(string name, string? text, T fallback) where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        foreach (var v in Enum.GetValues<T>())
            if (string.Equals(v.ToString(), text.Trim(), StringComparison.OrdinalIgnoreCase)) return v;
        throw Bad(name, text, "one of " + string.Join(", ", Enum.GetNames<T>()));
    }

    static CompressException Bad(string name, string value, string expected) =>
        new(ErrorCodes.BadMetadata, $"{name}=\"{value}\" is not valid; expected {expected}.");
}
