namespace Compress.Generator.Tests;

/// <summary>The guards between plan text and emitted code: names, literals, comments.</summary>
public sealed class NamesAndLiteralsTests
{
    [Theory]
    [InlineData("input")]
    [InlineData("_x1")]
    [InlineData("@class")]
    [InlineData("@input")]
    [InlineData("données")]
    [InlineData("入力")]
    [InlineData("var")]
    [InlineData("value")]
    public void Accepts_identifiers(string name) => Assert.Null(CSharpNames.ValidateIdentifier(name));

    [Theory]
    [InlineData("")]
    [InlineData("@")]
    [InlineData("1x")]
    [InlineData("a b")]
    [InlineData("a.b")]
    [InlineData("a-b")]
    [InlineData("class")]
    [InlineData("__arglist")]
    [InlineData("@@x")]
    [InlineData("a\u200Db")]
    [InlineData("a\u202Eb")]
    [InlineData("\\u0061")]
    [InlineData("x/**/")]
    public void Rejects_non_identifiers(string name) => Assert.NotNull(CSharpNames.ValidateIdentifier(name));

    [Theory]
    [InlineData("Kernels.GemmF32.Gemv", false, true)]
    [InlineData("Digits.Vision", true, true)]
    [InlineData("Odd.@namespace", true, true)]
    [InlineData("Odd.@namespace", false, false)]
    [InlineData("Odd.namespace", true, false)]
    [InlineData("Digits..Vision", true, false)]
    [InlineData(".Digits", true, false)]
    [InlineData("global::Digits", true, false)]
    [InlineData("Kernels.GemmF32.Gemv()", false, false)]
    public void Validates_dotted_names(string name, bool allowVerbatim, bool valid) =>
        Assert.Equal(valid, CSharpNames.ValidateDottedName(name, allowVerbatim) is null);

    [Theory]
    [InlineData("input", "Input")]
    [InlineData("@class", "Class")]
    [InlineData("_x", "_x")]
    [InlineData("Logits", "Logits")]
    [InlineData("élan", "Élan")]
    public void Member_stems_capitalise_the_first_letter(string identifier, string stem) => Assert.Equal(stem, CSharpNames.MemberStem(identifier));

    [Theory]
    [InlineData("0", "0f")]
    [InlineData("1E-05", "1E-05f")]
    [InlineData("-3.4028235E+38", "-3.4028235E+38f")]
    [InlineData("Infinity", "float.PositiveInfinity")]
    [InlineData("-Infinity", "float.NegativeInfinity")]
    [InlineData("NaN", "float.NaN")]
    public void Float_literals(string text, string literal) => Assert.Equal(literal, CompressGenerator.Float(text));

    [Fact]
    public void Comments_cannot_break_out_of_their_line()
    {
        Assert.Equal("a   b c d e f", CompressGenerator.Comment("a\r\n\tb\u2028c\u0085d\u202Ee\u2066f"));
        Assert.Equal("&lt;/summary&gt; &amp;amp; x", CompressGenerator.Xml("</summary> &amp; x\n"));
    }

    [Fact]
    public void String_literals_escape_everything_unusual()
    {
        Assert.Equal("\"a\\\"b\\\\c\\u000Ad\\u00E9\\u2028\"", CompressGenerator.StringLiteral("a\"b\\c\nd\u00e9\u2028"));
    }
}
