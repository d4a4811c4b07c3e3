using System.Text.Json;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>
/// The int8 plan the generator tests compile, snapshot and run (tests/Compress.Generator.Tests/Plans/int8_cnn.*) is
/// exactly what this lowering writes for a small CNN, with the weights blob and the plan interpreter's outputs for
/// fixed inputs; the generator's behaviour test checks the generated class computes the same bits.
/// </summary>
/// <remarks>
/// After an intended change to the int8 lowering, rewrite the fixture and review its diff (and the generator snapshot):
/// <code>COMPRESS_UPDATE_BASELINES=1 dotnet test tests/Compress.Tasks.Tests --filter "FullyQualifiedName~Int8GeneratorFixtureTests"</code>
/// </remarks>
public class Int8GeneratorFixtureTests
{
    static bool Update => Environment.GetEnvironmentVariable("COMPRESS_UPDATE_BASELINES") == "1";

    /// <summary>x [1,1,6,6] → Conv 1→4 3×3 pad 1 + Relu → MaxPool 2×2 → Flatten (also an output) → Gemm 36→8 + Relu → Gemm 8→3.</summary>
    internal static global::Compress.Tasks.Graph.Graph TinyCnn() => new TestGraph().Input("image", 1, 1, 6, 6)
        .Const("W", Harness.Random(4 * 9, 1, 0.5f), 4, 1, 3, 3).Const("B", Harness.Random(4, 2, 0.1f), 4)
        .Const("W1", Harness.Random(36 * 8, 3, 0.3f), 36, 8).Const("b1", Harness.Random(8, 4, 0.1f), 8)
        .Const("W2", Harness.Random(8 * 3, 5, 0.5f), 8, 3).Const("b2", Harness.Random(3, 6, 0.1f), 3)
        .Node("Conv", ["image", "W", "B"], "conv", [1, 4, 6, 6], [Ints("pads", 1, 1, 1, 1), .. Fused("Relu")])
        .Node("MaxPool", ["conv"], "pool", [1, 4, 3, 3], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
        .Node("Flatten", ["pool"], "features", [1, 36], Attr("axis", 1L))
        .Node("Gemm", ["features", "W1", "b1"], "hidden", [1, 8], Fused("Relu"))
        .Node("Gemm", ["hidden", "W2", "b2"], "scores", [1, 3])
        .Output("scores", "features").Build();

    [Fact]
    public void The_generator_int8_fixture_is_what_the_lowering_writes()
    {
        var g = TinyCnn();
        var samples = Int8Harness.Samples(8, 36, seed: 500);
        var options = new LoweringOptions
        {
            ClassName = "TinyCnn", Namespace = "Vision.Int8", SourceFile = "tiny_cnn.onnx", SourceSha256 = "00", Producer = "Compress.Tasks 0.1.0",
        };
        var lowered = ModelLowering.Lower(g, options, Int8Harness.Result(g, samples));
        TypedPlanInvariants.Check(lowered);
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        var inputs = Enumerable.Range(0, 3).Select(s => Harness.Random(36, 600 + s, 1.2f)).ToArray();
        var io = inputs.Select(x => new IoCase(x, interpreter.Run([x]))).ToArray();

        string folder = Path.Combine(SourceDirectory(), "..", "Compress.Generator.Tests", "Plans");
        string plan = Path.Combine(folder, "int8_cnn.plan.json"), weights = Path.Combine(folder, "int8_cnn.weights.bin"), cases = Path.Combine(folder, "int8_cnn.io.json");
        string ioJson = JsonSerializer.Serialize(io, new JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";
        if (Update)
        {
            File.WriteAllText(plan, PlanJsonWriter.Write(lowered.Plan));
            File.WriteAllBytes(weights, lowered.Weights);
            File.WriteAllText(cases, ioJson);
        }
        Assert.Equal(File.ReadAllText(plan).ReplaceLineEndings("\n"), PlanJsonWriter.Write(lowered.Plan));
        Assert.Equal(File.ReadAllBytes(weights), lowered.Weights);
        Assert.Equal(File.ReadAllText(cases).ReplaceLineEndings("\n"), ioJson);
    }

    /// <summary>One input and the outputs the plan interpreter computes for it.</summary>
    public sealed record IoCase(float[] Input, float[][] Outputs);

    static string SourceDirectory()
    {
        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(Path.Combine(d, "Compress.Tasks.Tests.csproj"))) return d;
        throw new InvalidOperationException("Cannot find the Compress.Tasks.Tests source folder above " + AppContext.BaseDirectory);
    }
}
