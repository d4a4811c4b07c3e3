using System.Text.Json.Nodes;
using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Compress.Generator.Tests;

/// <summary>Every diagnostic fires with the right code, a useful message and a location in the plan; nothing throws.</summary>
public sealed class DiagnosticTests
{
    private const string PlanFile = "Classifier.plan.json";

    private static Diagnostic SingleDiagnostic(string json, string fileName = PlanFile)
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText(fileName, json));
        Assert.Null(run.Single.Exception);
        Assert.Empty(run.Sources);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(TestFiles.PlanDirectory + fileName, diagnostic.Location.GetLineSpan().Path);
        return diagnostic;
    }

    [Fact]
    public void Invalid_JSON_is_CMP050_at_the_offending_character()
    {
        const string json = "{\n  \"format\": \"compress-plan\",\n  \"version\": 1,,\n}";
        Diagnostic diagnostic = SingleDiagnostic(json);

        Assert.Equal("CMP050", diagnostic.Id);
        string message = diagnostic.GetMessage();
        Assert.Contains("invalid JSON at line 3, column 16", message);
        Assert.Contains("rebuild the project to regenerate it", message);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal(new Microsoft.CodeAnalysis.Text.LinePosition(2, 15), span.StartLinePosition);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{ \"format\": \"compress-plan\", \"version\": 1 } trailing")]
    [InlineData("{ \"format\": 'compress-plan' }")]
    [InlineData("{ \"format\": \"compress-plan\", \"format\": \"compress-plan\" }")]
    [InlineData("{ \"format\": \"not-a-plan\", \"version\": 1 }")]
    [InlineData("{ \"format\": \"compress-plan\", \"version\": 1.0 }")]
    [InlineData("{ \"format\": \"compress-plan\", \"version\": 1 }")]
    public void Documents_that_are_not_plans_are_CMP050(string json)
    {
        Assert.Equal("CMP050", SingleDiagnostic(json).Id);
    }

    [Fact]
    public void An_unsupported_version_is_CMP051_at_the_version()
    {
        string json = PlanJson.Mlp().Replace("\"version\": 1,", "\"version\": 2,");
        Diagnostic diagnostic = SingleDiagnostic(json);

        Assert.Equal("CMP051", diagnostic.Id);
        Assert.Contains("has format version 2", diagnostic.GetMessage());
        Assert.Contains("supports only version 1", diagnostic.GetMessage());
        Assert.Equal("2", json.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    [Fact]
    public void A_future_version_is_CMP051_even_when_its_fields_changed()
    {
        Diagnostic diagnostic = SingleDiagnostic("{ \"format\": \"compress-plan\", \"version\": 7, \"everything\": \"different\" }");
        Assert.Equal("CMP051", diagnostic.Id);
    }

    public static TheoryData<string, Action<JsonObject>, string> MalformedCases => new()
    {
        { "missing member", root => root.Remove("steps"), "the member \"steps\" is missing" },
        { "wrong kind", root => root["arena"] = 384, "\"arena\" is a number, expected an object" },
        { "negative arena", root => root["arena"]!["floats"] = -1, "\"arena.floats\" is -1, outside [0, 2147483647]" },
        { "stats not an object", root => root["stats"] = 5, "\"stats\" is a number, expected an object" },
        { "negative macs", root => root["stats"] = new JsonObject { ["macs"] = -1, ["denseMacs"] = 1, ["parameters"] = 1, ["nonZeroParameters"] = 1 }, "\"stats.macs\" is -1, outside [0, " },
        { "fractional int", root => PlanJson.Argument(root, 0, 4)["int"] = 64.5, "\"steps[0].args[4].int\" is 64.5, expected an integer" },
        { "int overflow", root => PlanJson.Argument(root, 0, 4)["int"] = 3000000000, "outside [-2147483648, 2147483647]" },
        { "identifier injection", root => root["inputs"]![0]!["identifier"] = "input, int evil", "\"inputs[0].identifier\": 'input, int evil' is not a C# identifier (',' at position 5)" },
        { "keyword identifier", root => root["inputs"]![0]!["identifier"] = "class", "'class' is a C# keyword; it must be written '@class'" },
        { "formatting character", root => root["inputs"]![0]!["identifier"] = "in\u202Eput", "is not a C# identifier (U+202E at position 2)" },
        { "namespace injection", root => root["class"]!["namespace"] = "Digits; class Evil { }", "\"class.namespace\"" },
        { "dotted class name", root => root["class"]!["name"] = "A.B", "\"class.name\": 'A.B' is not a C# identifier" },
        { "call injection", root => root["steps"]![0]!["call"] = "Kernels.GemmF32.Gemv(); System.Environment.Exit(1); M", "\"steps[0].call\"" },
        { "call without a type", root => root["steps"]![0]!["call"] = "Gemv", "must name a type and a method" },
        { "enum injection", root => PlanJson.Argument(root, 0, 6)["args"]![0]!["enum"] = "ActivationKind.Relu + 1", "\"steps[0].args[6].args[0].enum\"" },
        { "new injection", root => PlanJson.Argument(root, 0, 6)["new"] = "FusedActivation(default) { }", "\"steps[0].args[6].new\"" },
        { "float not a number", root => PlanJson.Argument(root, 0, 6)["args"]![1]!["float"] = "0x10", "expected a number such as \"1E-05\"" },
        { "float with suffix", root => PlanJson.Argument(root, 0, 6)["args"]![1]!["float"] = "1.5f", "expected a number such as \"1E-05\"" },
        { "float as JSON number", root => PlanJson.Argument(root, 0, 6)["args"]![1]!["float"] = 1.5, "is a number, expected a string" },
        { "float out of range", root => PlanJson.Argument(root, 0, 6)["args"]![1]!["float"] = "1E+39", "outside the range of float" },
        { "slice past the arena", root => PlanJson.Argument(root, 1, 3)["offset"] = 300, "\"steps[1].args[3]\" slices [300, 428) but the arena holds 384" },
        { "slice past the weights", root => PlanJson.Argument(root, 0, 1)["offset"] = 51600, "but the weights (51600 f32 elements) holds 51600" },
        { "slice past an input", root => PlanJson.Argument(root, 0, 0)["length"] = 65, "but input 'input' holds 64" },
        { "input index", root => PlanJson.Argument(root, 0, 0)["index"] = 1, "\"steps[0].args[0].index\" is 1 but the plan has 1 inputs" },
        { "weights type", root => PlanJson.Argument(root, 0, 1)["type"] = "f16", "expected \"f32\", \"i8\", \"u8\", \"u16\" or \"i32\"" },
        { "unknown span", root => PlanJson.Argument(root, 0, 0)["span"] = "stack", "\"steps[0].args[0].span\" is \"stack\"" },
        { "unknown argument member", root => PlanJson.Argument(root, 0, 4)["stride"] = 2, "\"steps[0].args[4]\" has the unexpected member \"stride\"" },
        { "two argument forms", root => PlanJson.Argument(root, 0, 4)["float"] = "1", "has both \"int\" and \"float\"" },
        { "no argument form", root => root["steps"]![0]!["args"]![4] = new JsonObject { ["long"] = 64 }, "is not an argument" },
        { "shape and length disagree", root => root["inputs"]![0]!["length"] = 63, "\"inputs[0].length\" is 63 but the shape holds 64 elements" },
        { "no outputs", root => root["outputs"] = new JsonArray(), "\"outputs\" is empty" },
        { "dynamic batch without a batch dimension", root => { root["batch"]!["dynamic"] = true; root["inputs"]![0]!["shape"] = new JsonArray(64); }, "\"inputs[0].shape\" must start with 1 (one sample) when \"batch.dynamic\" is true" },
        { "duplicate identifiers", root => root["outputs"]![0]!["identifier"] = "input", "the identifier 'input' is used by two inputs/outputs" },
        { "identifiers whose members clash", root => root["outputs"]![0]!["identifier"] = "Input", "would generate the member 'InputLength', which clashes with the member generated for 'input'" },
        { "identifier clashing with a member", root => root["outputs"]![0]!["identifier"] = "ArenaLength", "the identifier 'ArenaLength' clashes with a member of the generated class" },
        { "identifier named like the arena", root => root["outputs"]![0]!["identifier"] = "arena", "would generate the member 'ArenaLength'" },
        { "identifier clashing with the class", root => root["outputs"]![0]!["identifier"] = "Classifier", "the identifier 'Classifier' clashes with the class name" },
        { "class named like a member", root => root["class"]!["name"] = "Run", "\"class.name\": 'Run' is a name the generated class uses" },
        { "resource missing", root => root["weights"]!["resource"] = "", "\"weights.resource\" is empty" },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_plans_are_CMP050_with_a_precise_message(string reason, Action<JsonObject> change, string expected)
    {
        Assert.NotNull(reason);
        Diagnostic diagnostic = SingleDiagnostic(PlanJson.Mlp(change));
        Assert.Equal("CMP050", diagnostic.Id);
        Assert.Contains(expected, diagnostic.GetMessage());

        Assert.StartsWith("Compress plan 'Classifier.plan.json' is malformed: ", diagnostic.GetMessage());
    }

    [Fact]
    public void A_malformed_value_is_located_at_that_value()
    {
        string json = PlanJson.Mlp().Replace("\"identifier\": \"logits\"", "\"identifier\": \"log its\"");
        Diagnostic diagnostic = SingleDiagnostic(json);
        Assert.Equal("\"log its\"", json.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    [Fact]
    public void Two_plans_declaring_the_same_class_are_CMP052_on_the_second()
    {
        string first = PlanJson.Mlp();
        string second = PlanJson.Mlp(root => root["summary"] = "another model");
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("a.plan.json", first), GeneratorHarness.PlanText("b.plan.json", second));

        Assert.Null(run.Single.Exception);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CMP052", diagnostic.Id);
        Assert.Equal(TestFiles.PlanDirectory + "b.plan.json", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(
            "Compress plan 'b.plan.json' declares the class 'Digits.Classifier', which plan 'a.plan.json' already declares. Give each CompressModel item its own ClassName.",
            diagnostic.GetMessage());
        Assert.Equal("\"Classifier\"", second.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));

        // The first plan still produces its class, once.
        GeneratedSourceResult source = Assert.Single(run.Sources);
        Assert.Equal("Digits.Classifier.g.cs", source.HintName);
        Assert.Contains("fp32 · 3 Gemm", source.SourceText.ToString());
    }

    [Fact]
    public void An_escaped_name_is_the_same_class()
    {
        string escaped = PlanJson.Mlp(root => root["class"]!["namespace"] = "@Digits");
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("a.plan.json", PlanJson.Mlp()), GeneratorHarness.PlanText("b.plan.json", escaped));
        Assert.Equal("CMP052", Assert.Single(run.GeneratorDiagnostics).Id);
    }

    [Fact]
    public void Classes_differing_only_in_case_get_distinct_hint_names()
    {
        string lower = PlanJson.Mlp(root => root["class"]!["name"] = "classifier");
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("a.plan.json", PlanJson.Mlp()), GeneratorHarness.PlanText("b.plan.json", lower));

        Assert.Null(run.Single.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(["Digits.Classifier.g.cs", "Digits.classifier.2.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Only_additional_files_ending_in_plan_json_are_read()
    {
        GeneratorRun run = GeneratorHarness.Run(
            GeneratorHarness.PlanText("notes.json", "not json at all"),
            GeneratorHarness.PlanText("readme.txt", "{"),
            GeneratorHarness.PlanText("UPPER.PLAN.JSON", PlanJson.Mlp()));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Fact]
    public void One_bad_plan_does_not_stop_the_others()
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("bad.plan.json", "{"), GeneratorHarness.Plan("fusion.plan.json"));
        Assert.Equal("CMP050", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal("Fusion.g.cs", Assert.Single(run.Sources).HintName);
    }

    [Fact]
    public void Damaged_plans_never_throw()
    {
        // Every truncation and a few thousand seeded single-character corruptions of a real plan: each either parses
        // or yields exactly one diagnostic, never an exception and never a CMP059 (internal error).
        string plan = PlanJson.Mlp();
        var random = new Random(20240611);
        const string alphabet = "{}[]\",:-.0123456789eE+ \n\\u@x";
        IEnumerable<string> variants = Enumerable.Range(0, plan.Length).Select(n => plan[..n])
            .Concat(Enumerable.Range(0, 3000).Select(_ =>
            {
                char[] chars = plan.ToCharArray();
                chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
                return new string(chars);
            }));

        foreach (string variant in variants)
        {
            var result = CompressGenerator.Parse(TestFiles.PlanDirectory + PlanFile, Microsoft.CodeAnalysis.Text.SourceText.From(variant), CancellationToken.None);
            if (result.Plan is null)
            {
                var diagnostic = Assert.Single(result.Diagnostics);
                Assert.NotEqual("CMP059", diagnostic.Descriptor.Id);
            }
            else
            {
                Assert.Empty(result.Diagnostics);
                Assert.NotEmpty(CompressGenerator.Emit(result.Plan));
            }
        }
    }
}
