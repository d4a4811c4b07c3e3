using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Compress.Generator.Tests;

/// <summary>
/// int8 plans: typed arena spans (<c>"type": "u8"</c>) become <c>MemoryMarshal</c> views of the one float arena, the
/// int8 kernels get their <c>Requant</c> and typed weights, and the generated class has the same float API as fp32.
/// Plans/int8_cnn.* is written by the build task's lowering (tests/Compress.Tasks.Tests/Lowering/Int8/
/// Int8GeneratorFixtureTests.cs), with the plan interpreter's outputs for three inputs.
/// </summary>
public sealed class Int8Tests
{
    private const string Harness = """
        namespace Vision.Int8
        {
            internal static class Harness
            {
                public static void Run(float[] image, float[] scores, float[] features) => new TinyCnn().Run(image, scores, features);

                public static float[][] RunArrays(float[] image)
                {
                    (float[] scores, float[] features) = new TinyCnn().Run(image);
                    return [scores, features];
                }

                public static long AllocatedBytes(float[] image, float[] scores, float[] features, int iterations)
                {
                    var model = new TinyCnn();
                    model.Run(image, scores, features);
                    long before = global::System.GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < iterations; i++)
                    {
                        model.Run(image, scores, features);
                    }

                    return global::System.GC.GetAllocatedBytesForCurrentThread() - before;
                }
            }
        }
        """;

    private sealed record IoCase(float[] Input, float[][] Outputs);

    private static readonly Lazy<Type> HarnessType = new(() =>
    {
        GeneratorRun run = GeneratorHarness.Run([GeneratorHarness.Plan("int8_cnn.plan.json")], Harness);
        Assert.Empty(run.GeneratorDiagnostics);
        byte[] weights = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Plans", "int8_cnn.weights.bin"));
        return InMemoryAssembly.Emit(run.Output.WithAssemblyName("Int8Cnn"), "Vision.Int8.TinyCnn.weights", weights).GetType("Vision.Int8.Harness", throwOnError: true)!;
    });

    private static T Method<T>(string name)
        where T : Delegate => HarnessType.Value.GetMethod(name)!.CreateDelegate<T>();

    private static IoCase[] Cases() =>
        JsonSerializer.Deserialize<IoCase[]>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Plans", "int8_cnn.io.json")))!;

    [Fact]
    public void The_generated_int8_class_computes_what_the_build_time_interpreter_computed_bit_for_bit()
    {
        var run = Method<Action<float[], float[], float[]>>("Run");
        foreach (IoCase c in Cases())
        {
            float[] scores = new float[3], features = new float[36];
            run(c.Input, scores, features);
            Assert.Equal(c.Outputs[0], scores);
            Assert.Equal(c.Outputs[1], features);
        }
    }

    [Fact]
    public void The_array_overload_is_the_same_api_as_fp32()
    {
        IoCase c = Cases()[0];
        float[][] outputs = Method<Func<float[], float[][]>>("RunArrays")(c.Input);
        Assert.Equal(c.Outputs, outputs);
    }

    [Fact]
    public void Run_allocates_nothing()
    {
        long allocated = Method<Func<float[], float[], float[], int, long>>("AllocatedBytes")(Cases()[0].Input, new float[3], new float[36], 1000);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Typed_arena_spans_are_views_of_the_float_arena()
    {
        string source = GeneratorHarness.Run(GeneratorHarness.Plan("int8_cnn.plan.json")).Source("Vision.Int8.TinyCnn.g.cs");
        Assert.Contains("var arena = this._arena.Span;", source);
        Assert.Contains("var arenaU8 = global::System.Runtime.InteropServices.MemoryMarshal.AsBytes(arena);", source);
        Assert.Contains("arenaU8.Slice(512, 36)", source);
        Assert.Contains("new global::Compress.Runtime.Requant(0, 0, 255)", source);
        Assert.DoesNotContain("arenaI32", source);
    }

    [Fact]
    public void An_i32_arena_view_is_a_cast()
    {
        string json = TestFiles.ReadPlan("int8_cnn.plan.json").Replace(
            "{ \"span\": \"weights\", \"type\": \"i32\", \"offset\": 320, \"length\": 3 }",
            "{ \"span\": \"arena\", \"type\": \"i32\", \"offset\": 4, \"length\": 3 }");
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("int8_cnn.plan.json", json));
        Assert.Empty(run.GeneratorDiagnostics);
        string source = run.Source("Vision.Int8.TinyCnn.g.cs");
        Assert.Contains("var arenaI32 = global::System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(arena);", source);
        Assert.Contains("arenaI32.Slice(4, 3)", source);
        Assert.True(run.CompilationDiagnostics.IsEmpty, GeneratorRun.Format(run.CompilationDiagnostics));
    }

    public static TheoryData<string, Action<JsonObject>, string> BadSpans => new()
    {
        // arena.floats is 144, so the arena holds 576 bytes and 144 ints.
        { "u8 past the end", root => Arg(root, 0, 1)["offset"] = 541, "\"steps[0].args[1]\" slices [541, 577) but the arena (576 u8 elements) holds 576" },
        { "i32 past the end", root => SetArena(Arg(root, 0, 1), "i32", 140, 5), "\"steps[0].args[1]\" slices [140, 145) but the arena (144 i32 elements) holds 144" },
        { "unknown type", root => Arg(root, 0, 1)["type"] = "f16", "\"steps[0].args[1].type\" is \"f16\"; expected \"f32\", \"i8\", \"u8\", \"u16\" or \"i32\"" },
        { "type not a string", root => Arg(root, 0, 1)["type"] = 8, "\"steps[0].args[1].type\" is a number, expected a string" },
    };

    [Theory]
    [MemberData(nameof(BadSpans))]
    public void Typed_arena_spans_are_checked_in_elements_of_their_type(string reason, Action<JsonObject> change, string expected)
    {
        _ = reason;
        var root = JsonNode.Parse(TestFiles.ReadPlan("int8_cnn.plan.json"))!.AsObject();
        change(root);
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("int8_cnn.plan.json", root.ToJsonString()));
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CMP050", diagnostic.Id);
        Assert.Contains(expected, diagnostic.GetMessage());
    }

    [Fact]
    public void The_last_u8_byte_of_the_arena_is_in_bounds_and_an_explicit_f32_arena_type_is_the_float_arena()
    {
        var root = JsonNode.Parse(TestFiles.ReadPlan("int8_cnn.plan.json"))!.AsObject();
        Arg(root, 0, 1)["offset"] = 540;
        SetArena(Arg(root, 2, 1), "f32", 128, 16);
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("int8_cnn.plan.json", root.ToJsonString()));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("arena.Slice(128, 16)", run.Source("Vision.Int8.TinyCnn.g.cs"));
    }

    private static JsonObject Arg(JsonObject root, int step, int arg) => root["steps"]![step]!["args"]![arg]!.AsObject();

    private static JsonObject SetArena(JsonObject span, string type, int offset, int length)
    {
        span["type"] = type;
        span["offset"] = offset;
        span["length"] = length;
        return span;
    }
}
