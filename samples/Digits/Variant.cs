using Digits.Compiled;

namespace Digits;

/// <summary>One row of the sample's table: a compiled variant of one model.</summary>
/// <param name="Model">The model's name (its ONNX file without extension).</param>
/// <param name="Name">The variant: fp32, int8, int8-dynamic, int4, prune-…, channel-50, shift, ternary, binary-weights, binary.</param>
/// <param name="Create">Makes an instance of the generated class.</param>
/// <param name="WeightsBytes">Bytes of weights embedded for this variant.</param>
/// <param name="ClassName">The generated class's full name (its exported ONNX is compressed/&lt;ClassName&gt;.onnx).</param>
/// <param name="Macs">Multiply-accumulates per sample counting only non-zero weights (the generated <c>Macs</c>).</param>
/// <param name="Sparsity">Fraction of zero weights in the Conv/Gemm/MatMul layers (the generated <c>WeightSparsity</c>).</param>
public sealed record Variant(string Model, string Name, Func<IDigitsModel> Create, int WeightsBytes, string ClassName, long Macs, double Sparsity)
{
    public string OnnxFile => Model + ".onnx";

    /// <summary>Static int8 rows (pruned ones included) are also timed in ONNX Runtime on their QDQ export.</summary>
    public bool HasQdqExport => Name == "int8" || Name.EndsWith("+int8", StringComparison.Ordinal);

    static Variant Of<T>(string model, string name, int weightsBytes, long macs, double sparsity) where T : IDigitsModel, new() =>
        new(model, name, () => new T(), weightsBytes, typeof(T).FullName!, macs, sparsity);

    /// <summary>Every variant the sample compiles, in table order (fp32 first for each model: the others are compared with it).</summary>
    public static IReadOnlyList<Variant> All { get; } =
    [
        Of<DigitsMlpFp32>("digits_mlp", "fp32", DigitsMlpFp32.WeightsBytes, DigitsMlpFp32.Macs, DigitsMlpFp32.WeightSparsity),
        Of<DigitsMlpInt8>("digits_mlp", "int8", DigitsMlpInt8.WeightsBytes, DigitsMlpInt8.Macs, DigitsMlpInt8.WeightSparsity),
        Of<DigitsMlpInt8Dynamic>("digits_mlp", "int8-dynamic", DigitsMlpInt8Dynamic.WeightsBytes, DigitsMlpInt8Dynamic.Macs, DigitsMlpInt8Dynamic.WeightSparsity),
        Of<DigitsMlpInt4>("digits_mlp", "int4", DigitsMlpInt4.WeightsBytes, DigitsMlpInt4.Macs, DigitsMlpInt4.WeightSparsity),
        Of<DigitsMlpPrune80>("digits_mlp", "prune-80", DigitsMlpPrune80.WeightsBytes, DigitsMlpPrune80.Macs, DigitsMlpPrune80.WeightSparsity),
        Of<DigitsMlpPrune2of4>("digits_mlp", "prune-2:4", DigitsMlpPrune2of4.WeightsBytes, DigitsMlpPrune2of4.Macs, DigitsMlpPrune2of4.WeightSparsity),
        Of<DigitsMlpPrune80Int8>("digits_mlp", "prune-80+int8", DigitsMlpPrune80Int8.WeightsBytes, DigitsMlpPrune80Int8.Macs, DigitsMlpPrune80Int8.WeightSparsity),
        Of<DigitsMlpShift>("digits_mlp", "shift", DigitsMlpShift.WeightsBytes, DigitsMlpShift.Macs, DigitsMlpShift.WeightSparsity),
        Of<DigitsMlpTernary>("digits_mlp", "ternary", DigitsMlpTernary.WeightsBytes, DigitsMlpTernary.Macs, DigitsMlpTernary.WeightSparsity),
        Of<DigitsMlpBinaryWeights>("digits_mlp", "binary-weights", DigitsMlpBinaryWeights.WeightsBytes, DigitsMlpBinaryWeights.Macs, DigitsMlpBinaryWeights.WeightSparsity),
        Of<DigitsMlpBinary>("digits_mlp", "binary", DigitsMlpBinary.WeightsBytes, DigitsMlpBinary.Macs, DigitsMlpBinary.WeightSparsity),
        Of<DigitsCnnFp32>("digits_cnn", "fp32", DigitsCnnFp32.WeightsBytes, DigitsCnnFp32.Macs, DigitsCnnFp32.WeightSparsity),
        Of<DigitsCnnInt8>("digits_cnn", "int8", DigitsCnnInt8.WeightsBytes, DigitsCnnInt8.Macs, DigitsCnnInt8.WeightSparsity),
        Of<DigitsCnnInt8Dynamic>("digits_cnn", "int8-dynamic", DigitsCnnInt8Dynamic.WeightsBytes, DigitsCnnInt8Dynamic.Macs, DigitsCnnInt8Dynamic.WeightSparsity),
        Of<DigitsCnnInt4>("digits_cnn", "int4", DigitsCnnInt4.WeightsBytes, DigitsCnnInt4.Macs, DigitsCnnInt4.WeightSparsity),
        Of<DigitsCnnPrune80>("digits_cnn", "prune-80", DigitsCnnPrune80.WeightsBytes, DigitsCnnPrune80.Macs, DigitsCnnPrune80.WeightSparsity),
        Of<DigitsCnnChannel50>("digits_cnn", "channel-50", DigitsCnnChannel50.WeightsBytes, DigitsCnnChannel50.Macs, DigitsCnnChannel50.WeightSparsity),
        Of<DigitsCnnShift>("digits_cnn", "shift", DigitsCnnShift.WeightsBytes, DigitsCnnShift.Macs, DigitsCnnShift.WeightSparsity),
        Of<DigitsDwsepFp32>("digits_dwsep", "fp32", DigitsDwsepFp32.WeightsBytes, DigitsDwsepFp32.Macs, DigitsDwsepFp32.WeightSparsity),
        Of<DigitsDwsepInt8>("digits_dwsep", "int8", DigitsDwsepInt8.WeightsBytes, DigitsDwsepInt8.Macs, DigitsDwsepInt8.WeightSparsity),
        Of<DigitsDwsepInt8Dynamic>("digits_dwsep", "int8-dynamic", DigitsDwsepInt8Dynamic.WeightsBytes, DigitsDwsepInt8Dynamic.Macs, DigitsDwsepInt8Dynamic.WeightSparsity),
        Of<DigitsDwsepInt4>("digits_dwsep", "int4", DigitsDwsepInt4.WeightsBytes, DigitsDwsepInt4.Macs, DigitsDwsepInt4.WeightSparsity),
        Of<DigitsDwsepShift>("digits_dwsep", "shift", DigitsDwsepShift.WeightsBytes, DigitsDwsepShift.Macs, DigitsDwsepShift.WeightSparsity),
        Of<WideMlpFp32>("wide_mlp", "fp32", WideMlpFp32.WeightsBytes, WideMlpFp32.Macs, WideMlpFp32.WeightSparsity),
        Of<WideMlpInt8>("wide_mlp", "int8", WideMlpInt8.WeightsBytes, WideMlpInt8.Macs, WideMlpInt8.WeightSparsity),
        Of<WideMlpInt8Dynamic>("wide_mlp", "int8-dynamic", WideMlpInt8Dynamic.WeightsBytes, WideMlpInt8Dynamic.Macs, WideMlpInt8Dynamic.WeightSparsity),
        Of<WideMlpInt4>("wide_mlp", "int4", WideMlpInt4.WeightsBytes, WideMlpInt4.Macs, WideMlpInt4.WeightSparsity),
        Of<WideMlpPrune90>("wide_mlp", "prune-90", WideMlpPrune90.WeightsBytes, WideMlpPrune90.Macs, WideMlpPrune90.WeightSparsity),
        Of<WideMlpPrune2of4>("wide_mlp", "prune-2:4", WideMlpPrune2of4.WeightsBytes, WideMlpPrune2of4.Macs, WideMlpPrune2of4.WeightSparsity),
        Of<WideMlpPrune90Int8>("wide_mlp", "prune-90+int8", WideMlpPrune90Int8.WeightsBytes, WideMlpPrune90Int8.Macs, WideMlpPrune90Int8.WeightSparsity),
        Of<WideMlpShift>("wide_mlp", "shift", WideMlpShift.WeightsBytes, WideMlpShift.Macs, WideMlpShift.WeightSparsity),
        Of<WideMlpTernary>("wide_mlp", "ternary", WideMlpTernary.WeightsBytes, WideMlpTernary.Macs, WideMlpTernary.WeightSparsity),
        Of<WideMlpBinaryWeights>("wide_mlp", "binary-weights", WideMlpBinaryWeights.WeightsBytes, WideMlpBinaryWeights.Macs, WideMlpBinaryWeights.WeightSparsity),
        Of<WideMlpBinary>("wide_mlp", "binary", WideMlpBinary.WeightsBytes, WideMlpBinary.Macs, WideMlpBinary.WeightSparsity),
    ];
}
