using System.Collections.Generic;

namespace Compress.Generator.Json;

/// <summary>The kind of a <see cref="JsonValue"/>.</summary>
internal enum JsonKind
{
    Null,
    False,
    True,
    Number,
    String,
    Array,
    Object,
}

/// <summary>
/// A parsed JSON value and where it sits in the text (so errors point at the offending value). Numbers keep their
/// source text; the reader of the plan decides what range and form it accepts.
/// </summary>
internal sealed class JsonValue
{
    private JsonValue(JsonKind kind, int start, int length)
    {
        Kind = kind;
        Start = start;
        Length = length;
    }

    public JsonKind Kind { get; }

    /// <summary>Offset of the value's first character in the text.</summary>
    public int Start { get; }

    /// <summary>Number of characters the value spans in the text.</summary>
    public int Length { get; private set; }

    /// <summary>The decoded string of a <see cref="JsonKind.String"/>, or the source text of a <see cref="JsonKind.Number"/>.</summary>
    public string Text { get; private set; } = "";

    /// <summary>The items of an <see cref="JsonKind.Array"/>.</summary>
    public IReadOnlyList<JsonValue> Items { get; private set; } = [];

    /// <summary>The members of an <see cref="JsonKind.Object"/>, in document order, names unique.</summary>
    public IReadOnlyList<JsonProperty> Properties { get; private set; } = [];

    /// <summary>A short description for error messages: "a string", "an object"…</summary>
    public string Describe() => Kind switch
    {
        JsonKind.Null => "null",
        JsonKind.False or JsonKind.True => "a boolean",
        JsonKind.Number => "a number",
        JsonKind.String => "a string",
        JsonKind.Array => "an array",
        _ => "an object",
    };

    /// <summary>The member named <paramref name="name"/>, or null.</summary>
    public JsonProperty? Find(string name)
    {
        foreach (JsonProperty property in Properties)
        {
            if (property.Name == name)
            {
                return property;
            }
        }

        return null;
    }

    internal static JsonValue Literal(JsonKind kind, int start, int length) => new(kind, start, length);

    internal static JsonValue Scalar(JsonKind kind, int start, int length, string text) => new(kind, start, length) { Text = text };

    internal static JsonValue Array(int start, int length, IReadOnlyList<JsonValue> items) => new(JsonKind.Array, start, length) { Items = items };

    internal static JsonValue Object(int start, int length, IReadOnlyList<JsonProperty> properties) => new(JsonKind.Object, start, length) { Properties = properties };
}

/// <summary>One member of a JSON object: its name, where the name is, and the value.</summary>
internal sealed class JsonProperty
{
    public JsonProperty(string name, int nameStart, int nameLength, JsonValue value)
    {
        Name = name;
        NameStart = nameStart;
        NameLength = nameLength;
        Value = value;
    }

    public string Name { get; }

    public int NameStart { get; }

    public int NameLength { get; }

    public JsonValue Value { get; }
}
