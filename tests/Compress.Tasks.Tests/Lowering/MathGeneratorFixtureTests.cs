using System.Text.Json;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Lowering;

/// <summary>
/// The element-wise math plan the generator tests compile and run (tests/Compress.Generator.Tests/Plans/math_ops.*) is
/// exactly what this lowering writes for a small graph of the unary math ops, Gelu, Pow, Where and a three-input Max,
/// with the weights blob and the plan interpreter's outputs for fixed inputs.
/// </summary>
/// <remarks>
/// After an intended change, rewrite the fixture and review its diff:
/// <code>COMPRESS_UPDATE_BASELINES=1 dotnet test tests/Compress.Tasks.Tests --filter "FullyQualifiedName~MathGeneratorFixtureTests"</code>
/// </remarks>
public class MathGeneratorFixtureTests
{
    static bool Update => Environment.GetEnvironmentVariable("COMPRESS_UPDATE_BASELINES") == "1";

    /// <summary>x [2,8] → Erf, Gelu(tanh), |x|^1.5, Where(const mask, erf, pow), Exp(−x), Max of three, Floor(Sqrt(|x|)·4)·Reciprocal.</summary>
    internal static Compress.Tasks.Graph.Graph MathGraph()
    {
        var g = new TestGraph(opset: 20).Input("x", 2, 8).Const("p", [1.5f]).Const("four", [4f])
            .Node("Erf", ["x"], "erf", [2, 8])
            .Node("Gelu", ["x"], "gelu", [2, 8], Attr("approximate", "tanh"))
            .Node("Abs", ["x"], "abs", [2, 8])
            .Node("Pow", ["abs", "p"], "pow", [2, 8])
            .Node("Where", ["mask", "erf", "pow"], "chosen", [2, 8])
            .Node("Neg", ["x"], "neg", [2, 8])
            .Node("Exp", ["neg"], "exp", [2, 8])
            .Node("Max", ["chosen", "exp", "gelu"], "y", [2, 8])
            .Node("Sqrt", ["abs"], "root", [2, 8])
            .Node("Mul", ["root", "four"], "scaled", [2, 8])
            .Node("Floor", ["scaled"], "floor", [2, 8])
            .Node("Ceil", ["scaled"], "ceil", [2, 8])
            .Node("Add", ["floor", "ceil"], "steps", [2, 8])
            .Node("Reciprocal", ["steps"], "inverse", [2, 8])
            .Node("Log", ["steps"], "z", [2, 8])
            .Output("y", "z", "inverse").Build();
        var mask = new Tensor("mask", DataType.Bool, [8], new byte[] { 1, 0, 0, 1, 1, 0, 1, 0 });
        return g.WithInitializer(mask);
    }

    [Fact]
    public void The_generator_math_fixture_is_what_the_lowering_writes()
    {
        var options = new LoweringOptions
        {
            ClassName = "MathOps", Namespace = "Tests.MathOps", SourceFile = "math_ops.onnx", SourceSha256 = "00", Producer = "Compress.Tasks 0.1.0",
        };
        var lowered = ModelLowering.Lower(MathGraph(), options);
        PlanInvariants.Check(lowered);
        Assert.Equal(
            [PlanCalls.Unary, PlanCalls.Where, PlanCalls.Binary],
            new[] { PlanCalls.Unary, PlanCalls.Where, PlanCalls.Binary }.Where(c => lowered.Plan.Steps.Any(s => s.Call == c)));
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        // Inputs away from 0, so Log and Reciprocal of the Floor/Ceil steps stay finite.
        var inputs = Enumerable.Range(0, 3).Select(s => Harness.Random(16, 700 + s, 2f).Select(v => v + MathF.CopySign(0.5f, v)).ToArray()).ToArray();
        var io = inputs.Select(x => new Int8.Int8GeneratorFixtureTests.IoCase(x, interpreter.Run([x]))).ToArray();

        string folder = Path.Combine(SourceDirectory(), "..", "Compress.Generator.Tests", "Plans");
        string plan = Path.Combine(folder, "math_ops.plan.json"), weights = Path.Combine(folder, "math_ops.weights.bin"), cases = Path.Combine(folder, "math_ops.io.json");
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

    static string SourceDirectory()
    {
        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(Path.Combine(d, "Compress.Tasks.Tests.csproj"))) return d;
        throw new InvalidOperationException("Cannot find the Compress.Tasks.Tests source folder above " + AppContext.BaseDirectory);
    }
}
