using Digits.Compiled;

namespace Digits;

/// <summary>One row of the sample's table: a compiled variant of one model.</summary>
/// <param name="Model">The model's name (its ONNX file without extension).</param>
/// <param name="Name">The variant: fp32, int8, …</param>
/// <param name="Create">Makes an instance of the generated class.</param>
/// <param name="WeightsBytes">Bytes of weights embedded for this variant.</param>
public sealed record Variant(string Model, string Name, Func<IDigitsModel> Create, int WeightsBytes)
{
    public string OnnxFile => Model + ".onnx";

    /// <summary>Every variant the sample compiles, in table order.</summary>
    public static IReadOnlyList<Variant> All { get; } =
    [
        new("digits_mlp", "fp32", () => new DigitsMlpFp32(), DigitsMlpFp32.WeightsBytes),
        new("digits_cnn", "fp32", () => new DigitsCnnFp32(), DigitsCnnFp32.WeightsBytes),
        new("digits_dwsep", "fp32", () => new DigitsDwsepFp32(), DigitsDwsepFp32.WeightsBytes),
        new("wide_mlp", "fp32", () => new WideMlpFp32(), WideMlpFp32.WeightsBytes),
    ];
}
