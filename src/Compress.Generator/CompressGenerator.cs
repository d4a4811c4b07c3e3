using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Compress.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Compress.Generator;

/// <summary>
/// Turns each Compress plan (an <c>AdditionalFiles</c> item whose path ends with <c>.plan.json</c>, written by the
/// build task; see docs/plan-format.md) into a strongly typed C# class that runs the model with straight-line calls
/// into Compress.Runtime.
/// </summary>
/// <remarks>
/// Stages: parse (<c>CompressGenerator.Parser.cs</c>: JSON → <see cref="PlanSpec"/>), check that no two plans declare
/// the same class, emit (<c>CompressGenerator.Emitter.cs</c>). Only symbol-free equatable records cross stage
/// boundaries; the only look at the compilation is one bool (is ONNX Runtime referenced?), so editing C# code leaves
/// every step cached.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed partial class CompressGenerator : IIncrementalGenerator
{
    /// <summary>The type whose presence shows that the project references Microsoft.ML.OnnxRuntime.</summary>
    internal const string OnnxRuntimeSessionType = "Microsoft.ML.OnnxRuntime.InferenceSession";

    /// <summary>The suffix that marks an additional file as a plan.</summary>
    internal const string PlanSuffix = ".plan.json";

    /// <summary>The generator's version as written into generated files (major.minor.patch of the assembly).</summary>
    internal static string GeneratorVersion { get; } = FormatVersion(typeof(CompressGenerator).Assembly.GetName().Version);

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Stage 1: every plan file, parsed on its own; an edit to one plan re-parses only that plan.
        IncrementalValuesProvider<PlanResult> parsed = context.AdditionalTextsProvider
            .Where(static file => IsPlanFile(file.Path))
            .Select(static (file, cancellationToken) => Parse(file.Path, file.GetText(cancellationToken), cancellationToken))
            .WithTrackingName(TrackingNames.Parse);

        // Stage 2: the class each valid plan declares, gathered and sorted so duplicates can be found; the result is
        // an equatable array, so it compares equal (and stops the pipeline) unless a class name or plan path changed.
        IncrementalValueProvider<EquatableArray<PlanClassKey>> classes = parsed
            .Where(static result => result.Plan is not null)
            .Select(static (result, _) => new PlanClassKey { FullName = FullName(result.Plan!), FilePath = result.FilePath })
            .Collect()
            .Select(static (keys, _) => SortKeys(keys))
            .WithTrackingName(TrackingNames.Classes);

        // Stage 3: each plan with the verdict on its class name and its final hint name.
        IncrementalValuesProvider<PlanResult> checkedPlans = parsed
            .Combine(classes)
            .Select(static (pair, _) => CheckDuplicates(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Check);

        // Whether ONNX Runtime is referenced, for plans on that backend: a bool, so a C# edit that leaves the references
        // alone compares equal and keeps every later step cached.
        IncrementalValueProvider<bool> hasOnnxRuntime = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(OnnxRuntimeSessionType) is not null)
            .WithTrackingName(TrackingNames.OnnxRuntime);

        // Stage 4: report and emit.
        context.RegisterSourceOutput(checkedPlans.Combine(hasOnnxRuntime), static (context, pair) => Execute(context, pair.Left, pair.Right));
    }

    /// <summary>Whether an additional file is a plan: its path ends with <c>.plan.json</c> (any case).</summary>
    internal static bool IsPlanFile(string path) => path.EndsWith(PlanSuffix, StringComparison.OrdinalIgnoreCase);

    private static void Execute(SourceProductionContext context, PlanResult result, bool hasOnnxRuntime)
    {
        foreach (DiagnosticInfo diagnostic in result.Diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }

        if (result.Plan is null || result.HintName is null)
        {
            return;
        }

        if (result.Plan.UsesOnnxRuntime && !hasOnnxRuntime)
        {
            // The class would not compile without the package; one clear error instead of a page of CS0246.
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.OnnxRuntimeNotReferenced,
                Location.Create(result.FilePath, result.ClassNameSpan, result.ClassNameLineSpan),
                FullName(result.Plan),
                result.Plan.PlanFileName,
                "<PackageReference Include=\"Microsoft.ML.OnnxRuntime\" Version=\"" + result.Plan.OnnxRuntimeVersion + "\" />"));
            return;
        }

        string source;
        try
        {
            source = Emit(result.Plan);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.InternalError,
                Location.Create(result.FilePath, default, default),
                result.Plan.PlanFileName,
                e.GetType().Name + ": " + e.Message));
            return;
        }

        context.AddSource(result.HintName, SourceText.From(source, Encoding.UTF8));
    }

    /// <summary>
    /// Keeps the first plan (in ordinal path order) of each class and reports CMP052 on the others; gives every kept
    /// plan a hint name that is unique even ignoring case (the compiler compares hint names case-insensitively).
    /// </summary>
    private static PlanResult CheckDuplicates(PlanResult result, EquatableArray<PlanClassKey> classes)
    {
        if (result.Plan is null)
        {
            return result;
        }

        string fullName = FullName(result.Plan);
        var hintNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var declared = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (PlanClassKey key in classes)
        {
            if (declared.TryGetValue(key.FullName, out string? firstPath))
            {
                if (key.FilePath == result.FilePath)
                {
                    var info = new DiagnosticInfo
                    {
                        Descriptor = DiagnosticDescriptors.DuplicateClass,
                        FilePath = result.FilePath,
                        Span = result.ClassNameSpan,
                        LineSpan = result.ClassNameLineSpan,
                        MessageArguments = new EquatableArray<string>([
                            result.Plan.PlanFileName,
                            fullName,
                            System.IO.Path.GetFileName(firstPath),
                        ]),
                    };
                    return result with { Plan = null, Diagnostics = new EquatableArray<DiagnosticInfo>([.. result.Diagnostics, info]) };
                }

                continue;
            }

            declared.Add(key.FullName, key.FilePath);
            string hintName = key.FullName;
            for (int suffix = 2; !hintNames.Add(hintName); suffix++)
            {
                hintName = key.FullName + "." + suffix.ToString(CultureInfo.InvariantCulture);
            }

            if (key.FilePath == result.FilePath)
            {
                return result with { HintName = hintName + ".g.cs" };
            }
        }

        return result with { HintName = fullName + ".g.cs" };
    }

    private static EquatableArray<PlanClassKey> SortKeys(ImmutableArray<PlanClassKey> keys)
    {
        var sorted = new PlanClassKey[keys.Length];
        keys.CopyTo(sorted);
        Array.Sort(sorted, static (a, b) =>
        {
            int byPath = string.CompareOrdinal(a.FilePath, b.FilePath);
            return byPath != 0 ? byPath : string.CompareOrdinal(a.FullName, b.FullName);
        });
        return new EquatableArray<PlanClassKey>(sorted);
    }

    /// <summary>The class's name as the compiler sees it: namespace and class joined by dots, <c>@</c> escapes removed.</summary>
    internal static string FullName(PlanSpec plan)
    {
        var builder = new StringBuilder();
        if (plan.Namespace.Length > 0)
        {
            foreach (string part in plan.Namespace.Split('.'))
            {
                builder.Append(CSharpNames.Unescape(part)).Append('.');
            }
        }

        return builder.Append(CSharpNames.Unescape(plan.ClassName)).ToString();
    }

    private static string FormatVersion(Version? version) => version is null
        ? "0.0.0"
        : version.Major.ToString(CultureInfo.InvariantCulture) + "." + version.Minor.ToString(CultureInfo.InvariantCulture) + "." + Math.Max(version.Build, 0).ToString(CultureInfo.InvariantCulture);

    /// <summary>Names of the pipeline steps, for incremental-caching tests (<c>trackIncrementalGeneratorSteps</c>).</summary>
    internal static class TrackingNames
    {
        public const string Parse = "CompressPlan.Parse";
        public const string Classes = "CompressPlan.Classes";
        public const string Check = "CompressPlan.Check";
        public const string OnnxRuntime = "CompressPlan.OnnxRuntime";
    }
}
