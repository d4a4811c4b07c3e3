using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Compress.Generator.Tests.Infrastructure;

/// <summary>
/// Runs <see cref="CompressGenerator"/> the way the compiler does: a <see cref="CSharpGeneratorDriver"/> over an in-memory
/// compilation that references .NET 10 and the built Compress.Runtime.dll, with plans as additional texts.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>Latest C#, and XML documentation checked (so a bad doc comment or a missing one is a warning).</summary>
    public static CSharpParseOptions ParseOptions { get; } = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithDocumentationMode(DocumentationMode.Diagnose);

    /// <summary>Nullable on, every warning wave on: the strictest settings a user could build with.</summary>
    public static CSharpCompilationOptions CompilationOptions { get; } = new CSharpCompilationOptions(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable,
        warningLevel: 9999,
        deterministic: true);

    public static ImmutableArray<MetadataReference> References { get; } =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(Compress.Runtime.Arena).Assembly.Location),
    ];

    public static CSharpCompilation CreateCompilation(string assemblyName, params string[] sources) => CSharpCompilation.Create(
        assemblyName,
        sources.Select(source => CSharpSyntaxTree.ParseText(source, ParseOptions)),
        References,
        CompilationOptions);

    public static GeneratorDriver CreateDriver(params AdditionalText[] plans) => CSharpGeneratorDriver.Create(
        [new CompressGenerator().AsSourceGenerator()],
        plans,
        ParseOptions,
        optionsProvider: null,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>A plan from Plans/ as an additional text at a project-like path.</summary>
    public static AdditionalText Plan(string fileName) => new InMemoryAdditionalText(TestFiles.PlanDirectory + fileName, TestFiles.ReadPlan(fileName));

    /// <summary>Inline plan JSON as an additional text.</summary>
    public static AdditionalText PlanText(string fileName, string json) => new InMemoryAdditionalText(TestFiles.PlanDirectory + fileName, json);

    /// <summary>Runs the generator once over the plans (plus optional user sources) and returns everything a test looks at.</summary>
    public static GeneratorRun Run(AdditionalText[] plans, params string[] sources)
    {
        CSharpCompilation compilation = CreateCompilation("UserAssembly", sources);
        GeneratorDriver driver = CreateDriver(plans).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return new GeneratorRun(driver.GetRunResult(), output, diagnostics);
    }

    public static GeneratorRun Run(params AdditionalText[] plans) => Run(plans, []);
}

/// <summary>The outcome of one generator run.</summary>
internal sealed record GeneratorRun(GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    public GeneratorRunResult Single => Result.Results.Single();

    public ImmutableArray<GeneratedSourceResult> Sources => Single.GeneratedSources;

    public string Source(string hintName) => Sources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>Compiler diagnostics of the output compilation, errors and warnings.</summary>
    public ImmutableArray<Diagnostic> CompilationDiagnostics => Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();

    public static string Format(IEnumerable<Diagnostic> diagnostics) => string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString()));
}

/// <summary>Compiles generated code into a loadable assembly with the weights as a manifest resource.</summary>
internal static class InMemoryAssembly
{
    public static Assembly Emit(Compilation compilation, string resourceName, byte[] weights)
    {
        using var peStream = new MemoryStream();
        var resources = new[] { new ResourceDescription(resourceName, () => new MemoryStream(weights), isPublic: true) };
        Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(peStream, manifestResources: resources);
        Assert.True(result.Success, GeneratorRun.Format(result.Diagnostics));
        var context = new System.Runtime.Loader.AssemblyLoadContext(compilation.AssemblyName, isCollectible: true);
        peStream.Position = 0;
        return context.LoadFromStream(peStream);
    }
}
