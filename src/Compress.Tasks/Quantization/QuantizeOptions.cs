using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Quantization;

/// <summary>The <c>Quantize</c> metadata: which quantisation the planner applies.</summary>
public enum QuantizeMode
{
    /// <summary>Static int8 (Jacob et al. 2018): s8 weights per output channel, u8 activations per tensor from calibration.</summary>
    Int8,

    /// <summary>Dynamic int8: s8 weights per output channel for Gemm/MatMul, activations quantised per call (no calibration).</summary>
    Int8Dynamic,

    /// <summary>Weight-only 4-bit (the MatMulNBits idea): Gemm/MatMul weights in blocks along k, fp32 activations.</summary>
    Int4,
}

/// <summary>What the quantisation planner is asked to do.</summary>
public sealed record QuantizeOptions
{
    /// <summary>The default <see cref="Int4BlockSize"/>, as in ONNX Runtime's MatMulNBits quantiser.</summary>
    public const int DefaultInt4BlockSize = 32;

    public QuantizeMode Mode { get; init; } = QuantizeMode.Int8;

    /// <summary>Node names (<see cref="Graph.Node.Label"/>) kept in fp32; each must name a node of the graph (else CMP006).</summary>
    public ImmutableHashSet<string> Exclude { get; init; } = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Values per int4 scale along the reduction axis; positive and even (two codes per byte).</summary>
    public int Int4BlockSize { get; init; } = DefaultInt4BlockSize;

    /// <summary>
    /// The "never slower" cost model: a node whose quantised estimate is not below its fp32 estimate stays fp32.
    /// Null quantises every node that has a quantised kernel, whatever it costs (tests, or a user forcing it).
    /// </summary>
    public CostModel? CostModel { get; init; } = CostModel.Default;

    /// <summary>The valid <c>Quantize</c> names, in declaration order.</summary>
    public static IReadOnlyList<string> ModeNames { get; } = Enum.GetNames<QuantizeMode>();

    /// <summary>The mode named <paramref name="name"/> (case-insensitive, surrounding spaces ignored).</summary>
    /// <exception cref="CompressException">CMP006 listing Int8, Int8Dynamic, Int4.</exception>
    public static QuantizeMode ParseMode(string? name)
    {
        string trimmed = name?.Trim() ?? "";
        foreach (var mode in Enum.GetValues<QuantizeMode>())
            if (string.Equals(mode.ToString(), trimmed, StringComparison.OrdinalIgnoreCase))
                return mode;
        throw new CompressException(ErrorCodes.BadMetadata,
            $"Quantize '{name}' is not a quantisation mode. Valid values: {string.Join(", ", ModeNames)}.");
    }

    /// <summary>The node names of an <c>Exclude</c> value: separated by ';' (MSBuild lists) or ',', blanks ignored.</summary>
    public static ImmutableHashSet<string> ParseExclude(string? list) =>
        (list ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToImmutableHashSet(StringComparer.Ordinal);

    /// <summary>An <c>Int4BlockSize</c> value; empty means the default.</summary>
    /// <exception cref="CompressException">CMP006 when it is not a positive even integer.</exception>
    public static int ParseInt4BlockSize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return DefaultInt4BlockSize;
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size <= 0 || size % 2 != 0)
            throw new CompressException(ErrorCodes.BadMetadata,
                $"Int4BlockSize '{text}' is not a positive even integer (values per int4 scale along k, two codes per byte; default {DefaultInt4BlockSize}).");
        return size;
    }

    /// <summary>Options from the <c>CompressModel</c> metadata <c>Quantize</c>, <c>Exclude</c> and <c>Int4BlockSize</c>.</summary>
    /// <exception cref="CompressException">CMP006 for an unknown mode or a bad block size.</exception>
    public static QuantizeOptions FromMetadata(string quantize, string? exclude = null, string? int4BlockSize = null) => new()
    {
        Mode = ParseMode(quantize),
        Exclude = ParseExclude(exclude),
        Int4BlockSize = ParseInt4BlockSize(int4BlockSize),
    };
}
