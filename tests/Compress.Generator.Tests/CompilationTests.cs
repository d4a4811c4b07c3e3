using System.Reflection;
using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Compress.Generator.Tests;

/// <summary>The generated code compiles cleanly, with every warning wave and XML documentation checking on.</summary>
public sealed class CompilationTests
{
    /// <summary>A kernel the runtime does not have yet, so quant.plan.json can exercise every weights view.</summary>
    internal const string QuantKernelStub = """
        namespace Compress.Runtime.Kernels
        {
            internal static class TestQuant
            {
                public static void Gemv(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<byte> zeroPoints,
                    global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scales, global::System.Span<float> y, float scale, int zeroPoint)
                {
                }
            }
        }
        """;

    public static TheoryData<string> Plans => new()
    {
        "digits_mlp.plan.json",
        "digits_cnn.plan.json",
        "fusion.plan.json",
        "tiny.plan.json",
        "quant.plan.json",
        "hostile.plan.json",
        "int8_cnn.plan.json",
        "math_ops.plan.json",
        "structural.plan.json",
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public void Generated_code_compiles_without_errors_or_warnings(string plan)
    {
        string[] sources = plan == "quant.plan.json" ? [QuantKernelStub] : [];
        GeneratorRun run = GeneratorHarness.Run([GeneratorHarness.Plan(plan)], sources);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Null(run.Single.Exception);
        Assert.Single(run.Sources);

        // hostile.plan.json names its class "@class" on purpose; the compiler warns about all-lowercase type names (CS8981).
        var diagnostics = run.CompilationDiagnostics.Where(d => !(plan == "hostile.plan.json" && d.Id == "CS8981")).ToList();
        Assert.True(diagnostics.Count == 0, GeneratorRun.Format(diagnostics));
    }

    [Fact]
    public void The_harness_would_catch_a_missing_doc_comment()
    {
        GeneratorRun run = GeneratorHarness.Run([], "namespace N { public class Undocumented { } }");
        Assert.Contains(run.CompilationDiagnostics, d => d.Id == "CS1591");
    }

    [Fact]
    public void The_documented_usage_compiles()
    {
        const string user = """
            namespace App
            {
                internal static class Use
                {
                    internal static float[] Classify(float[] pixels)
                    {
                        var model = new Digits.Classifier();
                        global::System.Span<float> logits = stackalloc float[Digits.Classifier.LogitsLength];
                        model.Run(pixels, logits);
                        int rank = Digits.Classifier.InputShape.Length + Digits.Classifier.LogitsShape.Length;
                        return rank == 4 && Digits.Classifier.ArenaLength == 384 && Digits.Classifier.WeightsBytes == 206400
                            ? model.Run(pixels)
                            : logits.ToArray();
                    }

                    internal static (float[] Logits, float[] Probabilities) Vision(float[] images, float[] logits, float[] probabilities, int batch)
                    {
                        var model = new Digits.Vision.ConvNet();
                        model.Run(images, logits, probabilities, batch);
                        return model.Run(images);
                    }

                    internal static float[][] Fuse(float[] image, float[] mask)
                    {
                        (float[] sum, float[] gated, float[] stats) = new Fusion().Run(image, mask);
                        return [sum, gated, stats];
                    }
                }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run(
            [GeneratorHarness.Plan("digits_mlp.plan.json"), GeneratorHarness.Plan("digits_cnn.plan.json"), GeneratorHarness.Plan("fusion.plan.json")],
            user);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.True(run.CompilationDiagnostics.IsEmpty, GeneratorRun.Format(run.CompilationDiagnostics));
    }

    [Fact]
    public void More_than_seven_outputs_come_back_as_an_array_of_arrays()
    {
        var outputs = Enumerable.Range(0, 8).Select(i => $$"""{ "name": "o{{i}}", "identifier": "o{{i}}", "shape": [1], "length": 1 }""");
        string json = PlanJson.Mlp()
            .Replace("""{ "name": "logits", "identifier": "logits", "shape": [1, 10], "length": 10 }""", string.Join(", ", outputs))
            .Replace("""{ "span": "output", "index": 0, "offset": 0, "length": 10 }""", """{ "span": "arena", "offset": 0, "length": 10 }""");
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("eight.plan.json", json));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("public float[][] Run(float[] input)", run.Source("Digits.Classifier.g.cs"));
        Assert.True(run.CompilationDiagnostics.IsEmpty, GeneratorRun.Format(run.CompilationDiagnostics));
    }

    [Fact]
    public void A_plan_without_inputs_or_weights_compiles()
    {
        string json = PlanJson.Mlp()
            .Replace("""{ "name": "input", "identifier": "input", "shape": [1, 64], "length": 64 }""", "")
            .Replace("\"bytes\": 206400", "\"bytes\": 0");
        int stepsAt = json.IndexOf("\"steps\"", StringComparison.Ordinal);
        json = json[..stepsAt] + "\"steps\": [] }";
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("empty.plan.json", json));

        Assert.Empty(run.GeneratorDiagnostics);
        string source = run.Source("Digits.Classifier.g.cs");
        Assert.DoesNotContain("LoadWeights", source);
        Assert.Contains("public float[] Run()", source);
        Assert.True(run.CompilationDiagnostics.IsEmpty, GeneratorRun.Format(run.CompilationDiagnostics));
    }

    [Fact]
    public void The_generator_assembly_depends_on_nothing_but_Roslyn()
    {
        // It is loaded by the compiler as a single analyzer dll: any other dependency would fail with CS8785.
        string[] allowed = ["netstandard", "Microsoft.CodeAnalysis", "Microsoft.CodeAnalysis.CSharp", "System.Collections.Immutable"];
        AssemblyName[] references = typeof(CompressGenerator).Assembly.GetReferencedAssemblies();
        Assert.All(references, reference => Assert.Contains(reference.Name, allowed));
    }
}
