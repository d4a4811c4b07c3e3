namespace Digits.Compiled;

// The classes are generated at build time from the CompressModel items in Digits.csproj; these partial
// declarations only add the sample's interface to them.
public partial class DigitsMlpFp32 : IDigitsModel;
public partial class DigitsCnnFp32 : IDigitsModel;
public partial class DigitsDwsepFp32 : IDigitsModel;
public partial class WideMlpFp32 : IDigitsModel;
public partial class DigitsMlpInt8 : IDigitsModel;
public partial class DigitsCnnInt8 : IDigitsModel;
public partial class DigitsDwsepInt8 : IDigitsModel;
public partial class WideMlpInt8 : IDigitsModel;
public partial class DigitsMlpInt8Dynamic : IDigitsModel;
public partial class DigitsCnnInt8Dynamic : IDigitsModel;
public partial class DigitsDwsepInt8Dynamic : IDigitsModel;
public partial class WideMlpInt8Dynamic : IDigitsModel;
public partial class DigitsMlpInt4 : IDigitsModel;
public partial class DigitsCnnInt4 : IDigitsModel;
public partial class DigitsDwsepInt4 : IDigitsModel;
public partial class WideMlpInt4 : IDigitsModel;
public partial class DigitsMlpPrune80 : IDigitsModel;
public partial class DigitsMlpPrune2of4 : IDigitsModel;
public partial class DigitsMlpPrune80Int8 : IDigitsModel;
public partial class DigitsCnnPrune80 : IDigitsModel;
public partial class DigitsCnnChannel50 : IDigitsModel;
public partial class WideMlpPrune90 : IDigitsModel;
public partial class WideMlpPrune2of4 : IDigitsModel;
public partial class WideMlpPrune90Int8 : IDigitsModel;
public partial class DigitsMlpShift : IDigitsModel;
public partial class DigitsCnnShift : IDigitsModel;
public partial class DigitsDwsepShift : IDigitsModel;
public partial class WideMlpShift : IDigitsModel;
public partial class DigitsMlpTernary : IDigitsModel;
public partial class WideMlpTernary : IDigitsModel;
public partial class DigitsMlpBinaryWeights : IDigitsModel;
public partial class WideMlpBinaryWeights : IDigitsModel;
public partial class DigitsMlpBinary : IDigitsModel;
public partial class WideMlpBinary : IDigitsModel;
