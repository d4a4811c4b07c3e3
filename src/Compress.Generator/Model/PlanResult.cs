using Microsoft.CodeAnalysis.Text;

namespace Compress.Generator.Model;

/// <summary>
/// What the pipeline carries per plan file: the validated plan (null when it could not be read) and the diagnostics to
/// report for that file.
/// </summary>
internal sealed record PlanResult
{
    /// <summary>The plan file's full path, used to order plans deterministically and to locate diagnostics.</summary>
    public required string FilePath { get; init; }

    public required PlanSpec? Plan { get; init; }

    public required EquatableArray<DiagnosticInfo> Diagnostics { get; init; }

    /// <summary>Where <c>class.name</c> is in the plan, so CMP052 points at it.</summary>
    public TextSpan ClassNameSpan { get; init; }

    /// <summary>Line and column form of <see cref="ClassNameSpan"/>.</summary>
    public LinePositionSpan ClassNameLineSpan { get; init; }

    /// <summary>
    /// The hint name of the generated file (<c>Namespace.Class.g.cs</c>); set by the duplicate check, which alone sees
    /// every plan and can keep names unique even where they differ only by case.
    /// </summary>
    public string? HintName { get; init; }
}

/// <summary>The identity of a plan's class, collected across all plans to find duplicates.</summary>
internal sealed record PlanClassKey
{
    /// <summary>Namespace and class joined with dots, without <c>@</c> escapes: the name the compiler sees.</summary>
    public required string FullName { get; init; }

    public required string FilePath { get; init; }
}
