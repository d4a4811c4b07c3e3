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

    /// <summary>Power-of-two weights (DeepShift): sign·2^p·s per output channel, u8 activations as Int8; Gemm, MatMul, Conv.</summary>
    Shift,

    /// <summary>Weight-only ternary (TTQ, post-training): {−αn, 0, +αp} per output channel, f32 activations; Gemm, MatMul.</summary>
    Ternary,

    /// <summary>Binary weights (BinaryConnect/XNOR-Net): ±α per output channel; with BinaryActivations also binarised inputs (XNOR + popcount).</summary>
    Binary,
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

    /// <summary>The default <see cref="ShiftBits"/>: sign + 3-bit exponent (zero and 2^0…2^6 times the channel scale).</summary>
    public const int DefaultShiftBits = 4;

    /// <summary>Bits of a shift weight: sign + exponent, 2–4 (2^(b−1) − 1 exponents and zero; stored as 4-bit codes).</summary>
    public int ShiftBits { get; init; } = DefaultShiftBits;

    /// <summary>Binary layers binarise their inputs too (XNOR-Net; XNOR + popcount kernel) instead of keeping them f32.</summary>
    public bool BinaryActivations { get; init; }

    /// <summary>
    /// Per-layer precision (<c>LayerOverrides="fc2=Binary;fc3=Int8;conv1=Fp32"</c>): a node name, a weight name, or a
    /// module path (<c>fc2</c> for node <c>/fc2/Gemm</c> and weight <c>fc2.weight</c>) → the precision it runs at,
    /// in the order given. Each must name a layer (CMP019) the precision can run (CMP017).
    /// </summary>
    public ImmutableArray<KeyValuePair<string, NodePrecision>> LayerOverrides { get; init; } = [];

    /// <summary>Nodes a static int8 plan must run quantised whatever the cost model says (overrides, shift layers).</summary>
    public ImmutableHashSet<string> Force { get; init; } = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

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

    /// <summary>A <c>ShiftBits</c> value; empty means the default (4).</summary>
    /// <exception cref="CompressException">CMP018 outside 2–4; CMP006 when not an integer.</exception>
    public static int ParseShiftBits(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return DefaultShiftBits;
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int bits))
            throw new CompressException(ErrorCodes.BadMetadata, $"ShiftBits '{text}' is not an integer (bits of a shift weight: sign + exponent, 2–4; default {DefaultShiftBits}).");
        if (bits is < 2 or > 4)
            throw new CompressException(ErrorCodes.BitWidthOutOfRange,
                $"ShiftBits {bits} is out of range: a shift weight has 2 to 4 bits (sign + exponent; 4 = zero and 2^0…2^6 times the channel scale). " +
                "More exponents would not fit the int8 dot products the shift kernels use; use Quantize=\"Int8\" for 8 bits.");
        return bits;
    }

    /// <summary>A <c>BinaryActivations</c> value: true/false (empty: false).</summary>
    /// <exception cref="CompressException">CMP006 otherwise.</exception>
    public static bool ParseBinaryActivations(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return false;
        if (bool.TryParse(text.Trim(), out bool value)) return value;
        throw new CompressException(ErrorCodes.BadMetadata, $"BinaryActivations '{text}' is not true or false.");
    }

    /// <summary>The precision names a <c>LayerOverrides</c> entry may give (besides the modes: Fp32 and None).</summary>
    public static IReadOnlyList<string> OverrideNames { get; } = ["Fp32", .. ModeNames];

    /// <summary>
    /// A <c>LayerOverrides</c> value: <c>name=Precision</c> entries separated by ';' or ','; <c>Binary</c> is fully binary
    /// when <paramref name="binaryActivations"/>. Names are checked against the graph later (CMP019).
    /// </summary>
    /// <exception cref="CompressException">CMP006 for a malformed entry or an unknown precision.</exception>
    public static ImmutableArray<KeyValuePair<string, NodePrecision>> ParseLayerOverrides(string? list, bool binaryActivations = false)
    {
        var result = ImmutableArray.CreateBuilder<KeyValuePair<string, NodePrecision>>();
        foreach (string entry in (list ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = entry.LastIndexOf('=');
            string name = eq < 0 ? "" : entry[..eq].Trim(), value = eq < 0 ? "" : entry[(eq + 1)..].Trim();
            if (name.Length == 0 || value.Length == 0)
                throw new CompressException(ErrorCodes.BadMetadata,
                    $"LayerOverrides entry '{entry}' is not name=Precision (e.g. \"fc2=Binary;fc3=Int8;conv1=Fp32\"; precisions: {string.Join(", ", OverrideNames)}).");
            NodePrecision precision;
            if (value.Equals("Fp32", StringComparison.OrdinalIgnoreCase) || value.Equals("None", StringComparison.OrdinalIgnoreCase)) precision = NodePrecision.Fp32;
            else
            {
                QuantizeMode mode;
                try { mode = ParseMode(value); }
                catch (CompressException)
                {
                    throw new CompressException(ErrorCodes.BadMetadata,
                        $"LayerOverrides entry '{entry}': '{value}' is not a precision. Valid values: {string.Join(", ", OverrideNames)}.");
                }
                precision = PrecisionOf(mode, binaryActivations);
            }
            result.Add(KeyValuePair.Create(name, precision));
        }
        return result.ToImmutable();
    }

    /// <summary>The node precision a mode asks for (Binary: fully binary with <paramref name="binaryActivations"/>).</summary>
    public static NodePrecision PrecisionOf(QuantizeMode mode, bool binaryActivations) => mode switch
    {
        QuantizeMode.Int8 => NodePrecision.Int8,
        QuantizeMode.Int8Dynamic => NodePrecision.Int8Dynamic,
        QuantizeMode.Int4 => NodePrecision.Int4,
        QuantizeMode.Shift => NodePrecision.Shift,
        QuantizeMode.Ternary => NodePrecision.Ternary,
        _ => binaryActivations ? NodePrecision.BinaryXnor : NodePrecision.Binary,
    };

    /// <summary>Options from the <c>CompressModel</c> metadata <c>Quantize</c>, <c>Exclude</c> and <c>Int4BlockSize</c> (and the low-bit ones).</summary>
    /// <exception cref="CompressException">CMP006 for an unknown mode or a bad value; CMP018 for ShiftBits out of range.</exception>
    public static QuantizeOptions FromMetadata(string quantize, string? exclude = null, string? int4BlockSize = null,
        string? shiftBits = null, string? binaryActivations = null, string? layerOverrides = null)
    {
        bool binary = ParseBinaryActivations(binaryActivations);
        return new()
        {
            Mode = ParseMode(quantize),
            Exclude = ParseExclude(exclude),
            Int4BlockSize = ParseInt4BlockSize(int4BlockSize),
            ShiftBits = ParseShiftBits(shiftBits),
            BinaryActivations = binary,
            LayerOverrides = ParseLayerOverrides(layerOverrides, binary),
        };
    }
}
