namespace Digits.Compiled;

// The classes are generated at build time from the CompressModel items in Digits.csproj; these partial
// declarations only add the sample's interface to them.
public partial class DigitsMlpFp32 : IDigitsModel;
public partial class DigitsCnnFp32 : IDigitsModel;
public partial class DigitsDwsepFp32 : IDigitsModel;
public partial class WideMlpFp32 : IDigitsModel;
