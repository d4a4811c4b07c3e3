using System.Globalization;
using System.Text;

namespace Compress.Tasks.Plan;

/// <summary>
/// Turns ONNX value names into the C# identifiers the generated <c>Run</c> parameters and
/// <c>&lt;Identifier&gt;Length</c> / <c>&lt;Identifier&gt;Shape</c> constants use: characters that cannot appear in
/// an identifier become <c>_</c>, a leading digit gets a <c>_</c> prefix, a C# keyword gets <c>@</c>, and names that
/// still clash get <c>_2</c>, <c>_3</c>… in order of appearance.
/// </summary>
public static class PlanIdentifiers
{
    /// <summary>The reserved C# keywords (contextual keywords such as <c>var</c> are valid identifiers).</summary>
    public static IReadOnlySet<string> Keywords { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>One name made a valid C# identifier (not yet unique).</summary>
    public static string Sanitize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) return "_";
        var sb = new StringBuilder(name.Length + 1);
        foreach (char c in name) sb.Append(IsIdentifierPart(c) ? c : '_');
        if (!IsIdentifierStart(sb[0])) sb.Insert(0, '_');
        string id = sb.ToString();
        return Keywords.Contains(id) ? "@" + id : id;
    }

    /// <summary>
    /// Names the generated class declares or uses unqualified (the twin of the generator's
    /// <c>CompressGenerator.ReservedNames</c>, which rejects a plan that clashes with them).
    /// </summary>
    public static IReadOnlyList<string> GeneratorReservedNames { get; } =
    [
        "Run", "RunCore", "ArenaLength", "WeightsBytes", "LoadWeights", "ThrowHelper",
        "_weights", "_arena", "s_sharedWeights", "s_sharedWeightsLock", "nameof",
    ];

    /// <summary>
    /// Identifiers for <paramref name="names"/>, in order: each sanitised, and made unique by appending <c>_2</c>,
    /// <c>_3</c>… to later duplicates (a verbatim <c>@x</c> and <c>x</c> are the same identifier in C#). An identifier
    /// also must not clash with the members the generator derives from it (<c>XLength</c>, <c>XShape</c>, with the
    /// first letter upper-cased, so <c>x</c> and <c>X</c> clash), with those of another tensor, with
    /// <paramref name="className"/>, or with <see cref="GeneratorReservedNames"/>.
    /// </summary>
    public static string[] AssignUnique(IEnumerable<string> names, string className = "")
    {
        var taken = new HashSet<string>(GeneratorReservedNames, StringComparer.Ordinal);
        if (className.Length > 0) taken.Add(className.TrimStart('@'));
        var result = new List<string>();
        foreach (string name in names)
        {
            string id = Sanitize(name);
            string bare = id.TrimStart('@');
            for (int n = 2; !IsFree(bare); n++)
            {
                // With a suffix the name is never a keyword, so the '@' is dropped.
                bare = Sanitize(name).TrimStart('@') + "_" + n.ToString(CultureInfo.InvariantCulture);
                id = bare;
            }
            string stem = MemberStem(bare);
            taken.Add(bare);
            taken.Add(stem + "Length");
            taken.Add(stem + "Shape");
            result.Add(id);
        }
        return result.ToArray();

        bool IsFree(string bare)
        {
            string stem = MemberStem(bare);
            return !taken.Contains(bare) && !taken.Contains(stem + "Length") && !taken.Contains(stem + "Shape")
                && bare != stem + "Length" && bare != stem + "Shape";
        }
    }

    /// <summary>The stem of the generated <c>…Length</c>/<c>…Shape</c> members: the identifier with its first letter upper-cased.</summary>
    public static string MemberStem(string bareIdentifier) =>
        bareIdentifier.Length == 0 ? bareIdentifier : char.ToUpperInvariant(bareIdentifier[0]) + bareIdentifier[1..];

    /// <summary>True when <paramref name="s"/> is usable as-is as a C# identifier (no keyword, no <c>@</c>).</summary>
    public static bool IsValidIdentifier(string s) =>
        s.Length > 0 && IsIdentifierStart(s[0]) && s.All(IsIdentifierPart) && !Keywords.Contains(s);

    /// <summary>True when <paramref name="s"/> is empty or dot-separated valid identifiers (a namespace).</summary>
    public static bool IsValidNamespace(string s) => s.Length == 0 || s.Split('.').All(IsValidIdentifier);

    // C# spec: identifier-start is a letter (Lu Ll Lt Lm Lo Nl) or '_'; identifier-part adds Mn Mc Nd Pc Cf.
    static bool IsIdentifierStart(char c) => c == '_' || char.GetUnicodeCategory(c) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber;

    static bool IsIdentifierPart(char c) => IsIdentifierStart(c) || char.GetUnicodeCategory(c) is
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.Format;
}
