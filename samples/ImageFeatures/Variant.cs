using ImageFeatures.Compiled;

namespace ImageFeatures;

/// <summary>One row of the sample's table: a compiled variant of ResNet-18.</summary>
/// <param name="Name">The variant: fp32 or int8.</param>
/// <param name="Create">Makes an instance of the generated class.</param>
/// <param name="WeightsBytes">Bytes of weights embedded for this variant.</param>
/// <param name="ClassName">The generated class's full name (its exported ONNX is compressed/&lt;ClassName&gt;.onnx).</param>
/// <param name="Macs">Multiply-accumulates per image counting only non-zero weights (the generated <c>Macs</c>).</param>
/// <param name="Sparsity">Fraction of zero weights in the Conv layers (the generated <c>WeightSparsity</c>).</param>
public sealed record Variant(string Name, Func<IFeatureModel> Create, int WeightsBytes, string ClassName, long Macs, double Sparsity)
{
    public const string Model = "resnet18";

    /// <summary>Static int8 rows are also timed in ONNX Runtime on their QDQ export.</summary>
    public bool HasQdqExport => Name == "int8";

    static Variant Of<T>(string name, int weightsBytes, long macs, double sparsity) where T : IFeatureModel, new() =>
        new(name, () => new T(), weightsBytes, typeof(T).FullName!, macs, sparsity);

    /// <summary>Every variant the sample compiles, in table order.</summary>
    public static IReadOnlyList<Variant> All { get; } =
    [
        Of<ResNet18Fp32>("fp32", ResNet18Fp32.WeightsBytes, ResNet18Fp32.Macs, ResNet18Fp32.WeightSparsity),
        Of<ResNet18Int8>("int8", ResNet18Int8.WeightsBytes, ResNet18Int8.Macs, ResNet18Int8.WeightSparsity),
    ];
}
