using Digits.Compiled;

namespace Digits;

/// <summary>One row of the sample's table: a compiled variant of one model.</summary>
/// <param name="Model">The model's name (its ONNX file without extension).</param>
/// <param name="Name">The variant: fp32, int8, int8-dynamic, int4.</param>
/// <param name="Create">Makes an instance of the generated class.</param>
/// <param name="WeightsBytes">Bytes of weights embedded for this variant.</param>
/// <param name="ClassName">The generated class's full name (its exported ONNX is compressed/&lt;ClassName&gt;.onnx).</param>
public sealed record Variant(string Model, string Name, Func<IDigitsModel> Create, int WeightsBytes, string ClassName)
{
    public string OnnxFile => Model + ".onnx";

    /// <summary>Static int8 rows are also timed in ONNX Runtime on their QDQ export.</summary>
    public bool HasQdqExport => Name == "int8";

    static Variant Of<T>(string model, string name, int weightsBytes) where T : IDigitsModel, new() =>
        new(model, name, () => new T(), weightsBytes, typeof(T).FullName!);

    /// <summary>Every variant the sample compiles, in table order (fp32 first for each model: the others are compared with it).</summary>
    public static IReadOnlyList<Variant> All { get; } =
    [
        Of<DigitsMlpFp32>("digits_mlp", "fp32", DigitsMlpFp32.WeightsBytes),
        Of<DigitsMlpInt8>("digits_mlp", "int8", DigitsMlpInt8.WeightsBytes),
        Of<DigitsMlpInt8Dynamic>("digits_mlp", "int8-dynamic", DigitsMlpInt8Dynamic.WeightsBytes),
        Of<DigitsMlpInt4>("digits_mlp", "int4", DigitsMlpInt4.WeightsBytes),
        Of<DigitsCnnFp32>("digits_cnn", "fp32", DigitsCnnFp32.WeightsBytes),
        Of<DigitsCnnInt8>("digits_cnn", "int8", DigitsCnnInt8.WeightsBytes),
        Of<DigitsCnnInt8Dynamic>("digits_cnn", "int8-dynamic", DigitsCnnInt8Dynamic.WeightsBytes),
        Of<DigitsCnnInt4>("digits_cnn", "int4", DigitsCnnInt4.WeightsBytes),
        Of<DigitsDwsepFp32>("digits_dwsep", "fp32", DigitsDwsepFp32.WeightsBytes),
        Of<DigitsDwsepInt8>("digits_dwsep", "int8", DigitsDwsepInt8.WeightsBytes),
        Of<DigitsDwsepInt8Dynamic>("digits_dwsep", "int8-dynamic", DigitsDwsepInt8Dynamic.WeightsBytes),
        Of<DigitsDwsepInt4>("digits_dwsep", "int4", DigitsDwsepInt4.WeightsBytes),
        Of<WideMlpFp32>("wide_mlp", "fp32", WideMlpFp32.WeightsBytes),
        Of<WideMlpInt8>("wide_mlp", "int8", WideMlpInt8.WeightsBytes),
        Of<WideMlpInt8Dynamic>("wide_mlp", "int8-dynamic", WideMlpInt8Dynamic.WeightsBytes),
        Of<WideMlpInt4>("wide_mlp", "int4", WideMlpInt4.WeightsBytes),
    ];
}
