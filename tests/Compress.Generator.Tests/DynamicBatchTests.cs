using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Compress.Generator.Tests;

/// <summary>The batched <c>Run(…, int batchSize)</c> overload exists exactly when the plan's batch is dynamic.</summary>
public sealed class DynamicBatchTests
{
    private static IMethodSymbol[] RunMethods(GeneratorRun run, string typeName) =>
        run.Output.GetTypeByMetadataName(typeName)!.GetMembers("Run").OfType<IMethodSymbol>().ToArray();

    [Fact]
    public void A_static_batch_has_no_batched_overload()
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.Plan("digits_mlp.plan.json"));
        IMethodSymbol[] runs = RunMethods(run, "Digits.Classifier");

        Assert.Equal(["Run(System.ReadOnlySpan<float>, System.Span<float>)", "Run(float[])"], runs.Select(Signature).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("batchSize", run.Source("Digits.Classifier.g.cs"));
        Assert.DoesNotContain("ThrowBatchLengthMismatch", run.Source("Digits.Classifier.g.cs"));
    }

    [Fact]
    public void A_dynamic_batch_adds_the_batched_overload()
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.Plan("digits_cnn.plan.json"));
        IMethodSymbol[] runs = RunMethods(run, "Digits.Vision.ConvNet");

        Assert.Equal(
            [
                "Run(System.ReadOnlySpan<float>, System.Span<float>, System.Span<float>)",
                "Run(System.ReadOnlySpan<float>, System.Span<float>, System.Span<float>, int)",
                "Run(float[])",
            ],
            runs.Select(Signature).Order(StringComparer.Ordinal));
        IMethodSymbol batched = runs.Single(m => m.Parameters.Length == 4);
        Assert.Equal(["input_1", "logits", "probabilities", "batchSize"], batched.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Names_taken_by_identifiers_are_not_reused_for_the_batch_size_or_locals()
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.Plan("hostile.plan.json"));
        IMethodSymbol batched = RunMethods(run, "Odd.namespace.class").Single(m => m.Parameters.Length == 7);
        Assert.Equal(["event", "batchSize", "item2", "weightsF32", "sample", "toString", "batchSize_"], batched.Parameters.Select(p => p.Name));

        string source = run.Source("Odd.namespace.class.g.cs");
        Assert.Contains("for (int sample_ = 0; sample_ < batchSize_; sample_++)", source);
        Assert.Contains("var weightsF32_ = this._weights.F32;", source);
    }

    private static string Signature(IMethodSymbol method) =>
        method.Name + "(" + string.Join(", ", method.Parameters.Select(p => p.Type.ToDisplayString())) + ")";
}
