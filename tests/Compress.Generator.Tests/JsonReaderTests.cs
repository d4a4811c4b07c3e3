using Compress.Generator.Json;

namespace Compress.Generator.Tests;

/// <summary>The generator's own strict JSON reader (RFC 8259).</summary>
public sealed class JsonReaderTests
{
    [Fact]
    public void Reads_every_kind_of_value_with_positions()
    {
        const string text = """ { "a": [1, -2.5e+3, true, false, null], "b": { "c": "d" }, "e": [] } """;
        JsonValue root = JsonReader.Parse(text);

        Assert.Equal(JsonKind.Object, root.Kind);
        Assert.Equal(["a", "b", "e"], root.Properties.Select(p => p.Name));
        JsonValue a = root.Find("a")!.Value;
        Assert.Equal([JsonKind.Number, JsonKind.Number, JsonKind.True, JsonKind.False, JsonKind.Null], a.Items.Select(i => i.Kind));
        Assert.Equal("-2.5e+3", a.Items[1].Text);
        Assert.Equal("-2.5e+3", text.Substring(a.Items[1].Start, a.Items[1].Length));
        Assert.Equal("d", root.Find("b")!.Value.Find("c")!.Value.Text);
        Assert.Empty(root.Find("e")!.Value.Items);
        Assert.Equal(text.Trim(), text.Substring(root.Start, root.Length));
        Assert.Null(root.Find("missing"));
    }

    [Fact]
    public void Decodes_every_string_escape()
    {
        JsonValue value = JsonReader.Parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC \\ud83d\\ude00\"");
        Assert.Equal("q\" b\\ s/ \b\f\n\r\t é€ 😀", value.Text);
    }

    [Fact]
    public void Ignores_a_byte_order_mark_and_surrounding_whitespace()
    {
        Assert.Equal(JsonKind.Null, JsonReader.Parse("\uFEFF \t\r\n null \n").Kind);
    }

    [Theory]
    [InlineData("", "unexpected end of the document; expected a value")]
    [InlineData("{", "expected a member name")]
    [InlineData("{\"a\":1,}", "expected a member name")]
    [InlineData("[1,]", "expected a value")]
    [InlineData("[1 2]", "expected ',' or ']'")]
    [InlineData("{\"a\" 1}", "expected ':'")]
    [InlineData("{\"a\":1 \"b\":2}", "expected ',' or '}'")]
    [InlineData("{'a':1}", "expected a member name in double quotes")]
    [InlineData("{\"a\":1,\"a\":2}", "duplicate member name \"a\"")]
    [InlineData("// comment\n{}", "unexpected '/'")]
    [InlineData("\"abc", "unterminated string")]
    [InlineData("\"a\nb\"", "control character U+000A in a string")]
    [InlineData("\"\\x\"", "invalid escape '\\x'")]
    [InlineData("\"\\u12G4\"", "invalid hex digit")]
    [InlineData("\"\\u12\"", "incomplete \\u escape")]
    [InlineData("01", "leading zeros")]
    [InlineData("-", "expected a digit")]
    [InlineData("1.", "expected a digit after the decimal point")]
    [InlineData("1e", "expected a digit in the exponent")]
    [InlineData(".5", "unexpected '.'")]
    [InlineData("+1", "unexpected '+'")]
    [InlineData("NaN", "unexpected 'N'")]
    [InlineData("tru", "expected a value")]
    [InlineData("truex", "after 'true'")]
    [InlineData("{} {}", "after the end of the document")]
    public void Rejects_invalid_JSON(string text, string message)
    {
        var error = Assert.Throws<JsonReaderException>(() => JsonReader.Parse(text));
        Assert.Contains(message, error.Message);
        Assert.InRange(error.Start, 0, text.Length);
    }

    [Fact]
    public void Limits_nesting_depth()
    {
        JsonReader.Parse(new string('[', JsonReader.MaxDepth) + new string(']', JsonReader.MaxDepth));
        string tooDeep = new string('[', JsonReader.MaxDepth + 1) + new string(']', JsonReader.MaxDepth + 1);
        Assert.Contains("nesting deeper than", Assert.Throws<JsonReaderException>(() => JsonReader.Parse(tooDeep)).Message);
    }

    [Fact]
    public void Points_at_the_error()
    {
        var error = Assert.Throws<JsonReaderException>(() => JsonReader.Parse("[1, 2, x]"));
        Assert.Equal(7, error.Start);
        Assert.Equal(1, error.Length);
    }
}
