using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Compress.Generator.Json;

/// <summary>
/// A small, strict JSON reader (RFC 8259) so the generator needs nothing but Roslyn: objects, arrays, strings with
/// every escape, numbers, <c>true</c>/<c>false</c>/<c>null</c>. No comments, no trailing commas, no duplicate member
/// names, no raw control characters in strings, nesting at most <see cref="MaxDepth"/> deep.
/// Errors throw <see cref="JsonReaderException"/> with the offset where reading stopped.
/// </summary>
internal sealed class JsonReader
{
    /// <summary>Deepest nesting accepted; a plan is at most five levels deep, so this only stops runaway input.</summary>
    public const int MaxDepth = 64;

    private readonly string _text;
    private int _position;
    private int _depth;

    private JsonReader(string text)
    {
        _text = text;

        // A byte order mark that survived decoding is not part of the document.
        _position = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
    }

    /// <summary>Parses a whole document: exactly one value, surrounded only by whitespace.</summary>
    public static JsonValue Parse(string text)
    {
        var reader = new JsonReader(text);
        reader.SkipWhitespace();
        JsonValue value = reader.ReadValue();
        reader.SkipWhitespace();
        if (reader._position < text.Length)
        {
            throw reader.Error("unexpected " + reader.DescribeCurrent() + " after the end of the document");
        }

        return value;
    }

    private JsonValue ReadValue()
    {
        if (_position >= _text.Length)
        {
            throw Error("unexpected end of the document; expected a value");
        }

        char c = _text[_position];
        switch (c)
        {
            case '{':
                return ReadObject();
            case '[':
                return ReadArray();
            case '"':
                int start = _position;
                string text = ReadString();
                return JsonValue.Scalar(JsonKind.String, start, _position - start, text);
            case 't':
                return ReadLiteral("true", JsonKind.True);
            case 'f':
                return ReadLiteral("false", JsonKind.False);
            case 'n':
                return ReadLiteral("null", JsonKind.Null);
            default:
                if (c == '-' || IsDigit(c))
                {
                    return ReadNumber();
                }

                throw Error("unexpected " + DescribeCurrent() + "; expected a value");
        }
    }

    private JsonValue ReadObject()
    {
        int start = _position;
        Enter();
        _position++; // '{'
        var properties = new List<JsonProperty>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        SkipWhitespace();
        if (Peek() == '}')
        {
            _position++;
            _depth--;
            return JsonValue.Object(start, _position - start, properties);
        }

        while (true)
        {
            SkipWhitespace();
            if (Peek() != '"')
            {
                throw Error("unexpected " + DescribeCurrent() + "; expected a member name in double quotes");
            }

            int nameStart = _position;
            string name = ReadString();
            int nameLength = _position - nameStart;
            if (!names.Add(name))
            {
                throw new JsonReaderException("duplicate member name \"" + name + "\"", nameStart, nameLength);
            }

            SkipWhitespace();
            Expect(':', "':' after a member name");
            SkipWhitespace();
            JsonValue value = ReadValue();
            properties.Add(new JsonProperty(name, nameStart, nameLength, value));
            SkipWhitespace();
            char next = Peek();
            _position++;
            if (next == '}')
            {
                break;
            }

            if (next != ',')
            {
                _position--;
                throw Error("unexpected " + DescribeCurrent() + "; expected ',' or '}' in an object");
            }
        }

        _depth--;
        return JsonValue.Object(start, _position - start, properties);
    }

    private JsonValue ReadArray()
    {
        int start = _position;
        Enter();
        _position++; // '['
        var items = new List<JsonValue>();
        SkipWhitespace();
        if (Peek() == ']')
        {
            _position++;
            _depth--;
            return JsonValue.Array(start, _position - start, items);
        }

        while (true)
        {
            SkipWhitespace();
            items.Add(ReadValue());
            SkipWhitespace();
            char next = Peek();
            _position++;
            if (next == ']')
            {
                break;
            }

            if (next != ',')
            {
                _position--;
                throw Error("unexpected " + DescribeCurrent() + "; expected ',' or ']' in an array");
            }
        }

        _depth--;
        return JsonValue.Array(start, _position - start, items);
    }

    private string ReadString()
    {
        int start = _position;
        _position++; // opening quote
        StringBuilder? builder = null;
        int runStart = _position;
        while (true)
        {
            if (_position >= _text.Length)
            {
                throw new JsonReaderException("unterminated string", start, _position - start);
            }

            char c = _text[_position];
            if (c == '"')
            {
                string result = builder is null
                    ? _text.Substring(runStart, _position - runStart)
                    : builder.Append(_text, runStart, _position - runStart).ToString();
                _position++;
                return result;
            }

            if (c < 0x20)
            {
                throw Error("control character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + " in a string; it must be escaped");
            }

            if (c != '\\')
            {
                _position++;
                continue;
            }

            builder ??= new StringBuilder();
            builder.Append(_text, runStart, _position - runStart);
            _position++; // backslash
            if (_position >= _text.Length)
            {
                throw new JsonReaderException("unterminated string", start, _position - start);
            }

            char escape = _text[_position];
            _position++;
            switch (escape)
            {
                case '"': builder.Append('"'); break;
                case '\\': builder.Append('\\'); break;
                case '/': builder.Append('/'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                case 'n': builder.Append('\n'); break;
                case 'r': builder.Append('\r'); break;
                case 't': builder.Append('\t'); break;
                case 'u':
                    builder.Append(ReadHex4());
                    break;
                default:
                    _position--;
                    throw Error("invalid escape '\\" + escape + "' in a string");
            }

            runStart = _position;
        }
    }

    private char ReadHex4()
    {
        if (_position + 4 > _text.Length)
        {
            throw Error("incomplete \\u escape in a string");
        }

        int value = 0;
        for (int i = 0; i < 4; i++)
        {
            char h = _text[_position + i];
            int digit = h >= '0' && h <= '9' ? h - '0'
                : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10
                : -1;
            if (digit < 0)
            {
                _position += i;
                throw Error("invalid hex digit in a \\u escape");
            }

            value = (value * 16) + digit;
        }

        _position += 4;
        return (char)value;
    }

    private JsonValue ReadNumber()
    {
        // number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT )
        int start = _position;
        if (Peek() == '-')
        {
            _position++;
        }

        if (Peek() == '0')
        {
            _position++;
            if (IsDigit(Peek()))
            {
                throw Error("leading zeros are not allowed in a number");
            }
        }
        else if (IsDigit(Peek()))
        {
            SkipDigits();
        }
        else
        {
            throw Error("expected a digit in a number");
        }

        if (Peek() == '.')
        {
            _position++;
            if (!IsDigit(Peek()))
            {
                throw Error("expected a digit after the decimal point");
            }

            SkipDigits();
        }

        if (Peek() is 'e' or 'E')
        {
            _position++;
            if (Peek() is '+' or '-')
            {
                _position++;
            }

            if (!IsDigit(Peek()))
            {
                throw Error("expected a digit in the exponent");
            }

            SkipDigits();
        }

        return JsonValue.Scalar(JsonKind.Number, start, _position - start, _text.Substring(start, _position - start));
    }

    private JsonValue ReadLiteral(string literal, JsonKind kind)
    {
        if (string.CompareOrdinal(_text, _position, literal, 0, literal.Length) != 0)
        {
            throw Error("unexpected " + DescribeCurrent() + "; expected a value");
        }

        int start = _position;
        _position += literal.Length;
        if (_position < _text.Length && char.IsLetterOrDigit(_text[_position]))
        {
            throw Error("unexpected " + DescribeCurrent() + " after '" + literal + "'");
        }

        return JsonValue.Literal(kind, start, literal.Length);
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw Error("nesting deeper than " + MaxDepth.ToString(CultureInfo.InvariantCulture) + " levels");
        }
    }

    private void Expect(char c, string what)
    {
        if (Peek() != c)
        {
            throw Error("unexpected " + DescribeCurrent() + "; expected " + what);
        }

        _position++;
    }

    private void SkipWhitespace()
    {
        while (_position < _text.Length && _text[_position] is ' ' or '\t' or '\n' or '\r')
        {
            _position++;
        }
    }

    private void SkipDigits()
    {
        while (IsDigit(Peek()))
        {
            _position++;
        }
    }

    private char Peek() => _position < _text.Length ? _text[_position] : '\0';

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private string DescribeCurrent()
    {
        if (_position >= _text.Length)
        {
            return "end of the document";
        }

        char c = _text[_position];
        return c >= 0x20 && c < 0x7F
            ? "'" + c + "'"
            : "character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
    }

    private JsonReaderException Error(string message) =>
        new(message, _position, _position < _text.Length ? 1 : 0);
}

/// <summary>Invalid JSON: what is wrong and where (offset and length in the text).</summary>
internal sealed class JsonReaderException : Exception
{
    public JsonReaderException(string message, int start, int length)
        : base(message)
    {
        Start = start;
        Length = length;
    }

    public int Start { get; }

    public int Length { get; }
}
