using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Compress.Generator.Model;

/// <summary>
/// A diagnostic as plain data (a <see cref="Location"/> holds a syntax tree or file state, so it must not cross the
/// incremental cache boundary); turned into a <see cref="Diagnostic"/> only when reported.
/// </summary>
internal sealed record DiagnosticInfo
{
    public required DiagnosticDescriptor Descriptor { get; init; }

    /// <summary>The plan file the diagnostic points into.</summary>
    public required string FilePath { get; init; }

    public required TextSpan Span { get; init; }

    public required LinePositionSpan LineSpan { get; init; }

    public required EquatableArray<string> MessageArguments { get; init; }

    public Diagnostic ToDiagnostic()
    {
        object?[] arguments = new object?[MessageArguments.Count];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = MessageArguments[i];
        }

        return Diagnostic.Create(Descriptor, Location.Create(FilePath, Span, LineSpan), arguments);
    }
}
