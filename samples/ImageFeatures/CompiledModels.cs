namespace ImageFeatures.Compiled;

// The classes are generated at build time from the CompressModel items in ImageFeatures.csproj; these partial
// declarations only add the sample's interface to them.
public partial class ResNet18Fp32 : IFeatureModel;
public partial class ResNet18Int8 : IFeatureModel;
