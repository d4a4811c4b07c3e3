using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Compress.Generator.Tests;

/// <summary>
/// The pipeline caches: editing C# code reuses every step; editing one plan regenerates that plan only
/// (<c>trackIncrementalGeneratorSteps</c>).
/// </summary>
public sealed class IncrementalTests
{
    private static readonly string[] TrackingNames =
    [
        CompressGenerator.TrackingNames.Parse,
        CompressGenerator.TrackingNames.Classes,
        CompressGenerator.TrackingNames.Check,
    ];

    [Fact]
    public void An_unrelated_source_edit_leaves_every_step_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation("App", "namespace App { internal static class A { } }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(GeneratorHarness.Plan("digits_mlp.plan.json"), GeneratorHarness.Plan("fusion.plan.json"));
        driver = driver.RunGenerators(compilation);

        CSharpCompilation edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App { internal static class B { } }", GeneratorHarness.ParseOptions));
        driver = driver.RunGenerators(edited);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();

        foreach (string name in TrackingNames)
        {
            Assert.All(Outputs(result, name), reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, name + ": " + reason));
        }

        Assert.NotEmpty(result.TrackedOutputSteps);
        Assert.All(
            result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
        Assert.Equal(2, result.GeneratedSources.Length);
    }

    [Fact]
    public void A_changed_plan_is_regenerated_and_the_other_stays_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation("App", "namespace App { internal static class A { } }");
        AdditionalText mlp = GeneratorHarness.Plan("digits_mlp.plan.json");
        AdditionalText fusion = GeneratorHarness.Plan("fusion.plan.json");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(mlp, fusion).RunGenerators(compilation);

        AdditionalText changed = GeneratorHarness.PlanText("digits_mlp.plan.json", PlanJson.Mlp(root => root["summary"] = "a changed summary"));
        driver = driver.ReplaceAdditionalText(mlp, changed).RunGenerators(compilation);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();

        // Parse: one plan modified, the other cached.
        Assert.Equal(
            [IncrementalStepRunReason.Modified, IncrementalStepRunReason.Cached],
            Outputs(result, CompressGenerator.TrackingNames.Parse).Order());

        // The class names did not change, so the duplicate check's input compares equal.
        Assert.All(Outputs(result, CompressGenerator.TrackingNames.Classes), reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, reason.ToString()));

        Assert.Equal(
            [IncrementalStepRunReason.Modified, IncrementalStepRunReason.Cached],
            Outputs(result, CompressGenerator.TrackingNames.Check).Order());
        Assert.Contains("a changed summary", result.GeneratedSources.Single(s => s.HintName == "Digits.Classifier.g.cs").SourceText.ToString());
    }

    [Fact]
    public void Reformatting_a_plan_keeps_the_class_list_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation("App");
        AdditionalText mlp = GeneratorHarness.Plan("digits_mlp.plan.json");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(mlp).RunGenerators(compilation);

        // Same content, different whitespace: a new text, but an equal model.
        AdditionalText reformatted = GeneratorHarness.PlanText("digits_mlp.plan.json", PlanJson.Mlp(_ => { }));
        driver = driver.ReplaceAdditionalText(mlp, reformatted).RunGenerators(compilation);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();

        // Parse reruns (the text changed); the class names it yields are equal, so the duplicate check's collected input
        // is reused. (The class-name span moved, so the check itself reruns, and emits the same text.)
        Assert.All(Outputs(result, CompressGenerator.TrackingNames.Classes), reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, reason.ToString()));
        Assert.Single(result.GeneratedSources);
    }

    [Fact]
    public void Adding_a_plan_with_a_duplicate_class_reports_it_and_keeps_the_first()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation("App");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(GeneratorHarness.Plan("digits_mlp.plan.json")).RunGenerators(compilation);
        driver = driver.AddAdditionalTexts([GeneratorHarness.PlanText("zz_copy.plan.json", PlanJson.Mlp())]).RunGenerators(compilation);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();

        Assert.Equal("CMP052", Assert.Single(result.Diagnostics).Id);
        Assert.Equal("Digits.Classifier.g.cs", Assert.Single(result.GeneratedSources).HintName);
    }

    private static IEnumerable<IncrementalStepRunReason> Outputs(GeneratorRunResult result, string trackingName) =>
        result.TrackedSteps[trackingName].SelectMany(step => step.Outputs).Select(output => output.Reason);
}
