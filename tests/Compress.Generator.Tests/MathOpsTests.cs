using System.Text.Json;
using Compress.Generator.Tests.Infrastructure;

namespace Compress.Generator.Tests;

/// <summary>
/// The element-wise math kernels (UnaryF32 with its UnaryOp enum, WhereF32 with a u8 weights mask in an fp32 plan, a
/// three-input Max, Pow) through the generator. Plans/math_ops.* is written by the build task's lowering
/// (tests/Compress.Tasks.Tests/Lowering/MathGeneratorFixtureTests.cs), with the plan interpreter's outputs for three inputs.
/// </summary>
public sealed class MathOpsTests
{
    private const string Harness = """
        namespace Tests.MathOps
        {
            internal static class Harness
            {
                public static void Run(float[] x, float[] y, float[] z, float[] inverse) => new MathOps().Run(x, y, z, inverse);
            }
        }
        """;

    private sealed record IoCase(float[] Input, float[][] Outputs);

    [Fact]
    public void The_generated_class_computes_what_the_build_time_interpreter_computed_bit_for_bit()
    {
        GeneratorRun run = GeneratorHarness.Run([GeneratorHarness.Plan("math_ops.plan.json")], Harness);
        Assert.Empty(run.GeneratorDiagnostics);
        byte[] weights = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Plans", "math_ops.weights.bin"));
        var type = InMemoryAssembly.Emit(run.Output.WithAssemblyName("MathOps"), "Tests.MathOps.MathOps.weights", weights)
            .GetType("Tests.MathOps.Harness", throwOnError: true)!;
        var model = type.GetMethod("Run")!.CreateDelegate<Action<float[], float[], float[], float[]>>();
        var cases = JsonSerializer.Deserialize<IoCase[]>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Plans", "math_ops.io.json")))!;
        Assert.Equal(3, cases.Length);
        foreach (IoCase c in cases)
        {
            float[] y = new float[16], z = new float[16], inverse = new float[16];
            model(c.Input, y, z, inverse);
            Assert.Equal(c.Outputs[0], y);
            Assert.Equal(c.Outputs[1], z);
            Assert.Equal(c.Outputs[2], inverse);
        }
    }
}
