using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace Compress.Generator;

/// <summary>
/// The C# name grammar the generator accepts from a plan. Every name that reaches the emitted code passes through
/// here first, so a plan cannot inject code: identifiers are letters, digits and underscores (Unicode categories
/// of the C# spec, minus formatting characters, which are invisible and could disguise a name).
/// </summary>
internal static class CSharpNames
{
    /// <summary>
    /// An identifier as a plan writes it: <c>name</c>, or <c>@name</c> (needed when the name is a keyword).
    /// Returns null when valid, else why not.
    /// </summary>
    public static string? ValidateIdentifier(string name)
    {
        bool verbatim = name.Length > 0 && name[0] == '@';
        string body = verbatim ? name.Substring(1) : name;
        string? problem = ValidateBody(body);
        if (problem is not null)
        {
            return problem;
        }

        if (!verbatim && IsKeyword(body))
        {
            return "'" + body + "' is a C# keyword; it must be written '@" + body + "'";
        }

        return null;
    }

    /// <summary>
    /// A dotted name (<c>Kernels.GemmF32.Gemv</c>): one or more plain identifiers, none a keyword, no <c>@</c>.
    /// With <paramref name="allowVerbatim"/> each part may be <c>@</c>-escaped (namespaces).
    /// </summary>
    public static string? ValidateDottedName(string name, bool allowVerbatim)
    {
        if (name.Length == 0)
        {
            return "the name is empty";
        }

        foreach (string part in name.Split('.'))
        {
            string? problem = allowVerbatim ? ValidateIdentifier(part) : ValidatePlain(part);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>The identifier without its <c>@</c> escape: the name the compiler sees.</summary>
    public static string Unescape(string identifier) =>
        identifier.Length > 0 && identifier[0] == '@' ? identifier.Substring(1) : identifier;

    /// <summary>
    /// The stem of the members generated for a tensor: the identifier without <c>@</c>, first letter upper-cased
    /// (<c>input</c> → <c>Input</c>, so <c>InputLength</c>).
    /// </summary>
    public static string MemberStem(string identifier)
    {
        string body = Unescape(identifier);
        return char.IsLower(body[0])
            ? char.ToUpperInvariant(body[0]) + body.Substring(1)
            : body;
    }

    private static string? ValidatePlain(string part)
    {
        string? problem = ValidateBody(part);
        if (problem is not null)
        {
            return problem;
        }

        return IsKeyword(part) ? "'" + part + "' is a C# keyword" : null;
    }

    private static string? ValidateBody(string body)
    {
        if (body.Length == 0)
        {
            return "an identifier is empty";
        }

        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            bool ok = i == 0 ? IsStart(c) : IsPart(c);
            if (!ok)
            {
                string shown = c >= 0x20 && c < 0x7F ? "'" + c + "'" : "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
                return "'" + Printable(body) + "' is not a C# identifier (" + shown + " at position " + i.ToString(CultureInfo.InvariantCulture) + ")";
            }
        }

        return null;
    }

    // identifier-start-character: letter-character | '_'  (C# spec §6.4.3)
    private static bool IsStart(char c) => c == '_' || IsLetter(CharUnicodeInfo.GetUnicodeCategory(c));

    // identifier-part-character: letter | decimal-digit | connecting | combining (formatting characters deliberately excluded)
    private static bool IsPart(char c)
    {
        UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(c);
        return IsLetter(category)
            || category is UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.ConnectorPunctuation
                or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark;
    }

    private static bool IsLetter(UnicodeCategory category) => category is UnicodeCategory.UppercaseLetter
        or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter
        or UnicodeCategory.ModifierLetter
        or UnicodeCategory.OtherLetter
        or UnicodeCategory.LetterNumber;

    private static bool IsKeyword(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None;

    /// <summary>Text with line breaks, control and bidirectional-override characters replaced by '?', for a diagnostic message.</summary>
    public static string Printable(string text)
    {
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (CompressGenerator.IsUnsafeInComment(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }
}
