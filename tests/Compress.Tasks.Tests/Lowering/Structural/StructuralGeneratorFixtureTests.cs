using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Lowering.Structural;

/// <summary>
/// tests/Compress.Generator.Tests/Plans/structural.plan.json, which the generator tests compile against the runtime's
/// real signatures, is what this lowering writes for a model using every structural kernel call.
/// Regenerate after an intended change: <c>COMPRESS_UPDATE_BASELINES=1 dotnet test tests/Compress.Tasks.Tests --filter "FullyQualifiedName~StructuralGeneratorFixtureTests"</c>.
/// </summary>
public class StructuralGeneratorFixtureTests
{
    internal static Compress.Tasks.Graph.Graph Model() => new GraphBuilder(17).Input("image", 1, 2, 3, 3)
        .Random("Wt", 1, 2, 2, 2, 2).Random("Bt", 2, 2).Init("scales", [1, 1, 2, 2], 4).Ints("pads", [0, 0, 1, 1, 0, 0, 1, 1], 8)
        .Ints("starts", [1], 1).Ints("ends", [-1], 1).Ints("axes", [3], 1).Ints("keep", [0, 1], 2).Random("gamma", 3, 12)
        .Node("ConvTranspose", ["image", "Wt", "Bt"], ["up"], A("strides", 2L, 2L))                     // [1,2,6,6]
        .Node("Resize", ["up", "", "scales"], ["big"], A("mode", "linear"))                              // [1,2,12,12]
        .Node("Pad", ["big", "pads"], ["padded"], A("mode", "reflect"))                                 // [1,2,14,14]
        .Node("Slice", ["padded", "starts", "ends", "axes"], ["cut"])                                    // [1,2,14,12]
        .Node("Gather", ["cut", "keep"], ["rows"], A("axis", 2L))                                        // [1,2,2,12]
        .Node("LayerNormalization", ["rows", "gamma"], ["norm", "mean", "inv"], A("axis", -1L))          // InvStdDev [1,2,2,1]; Mean unused
        .Node("Transpose", ["norm"], ["t"], A("perm", 0L, 1L, 3L, 2L))                                   // [1,2,12,2]
        .Node("MatMul", ["norm", "t"], ["gram"])                                                         // [1,2,2,2]
        .Node("ReduceMean", ["gram"], ["y"], A("axes", new long[] { -1 }), A("keepdims", 0L))
        .Output("y", DataType.Float).Output("inv", DataType.Float).Build();

    [Fact]
    public void The_generator_structural_fixture_is_what_the_lowering_writes()
    {
        var canonical = CanonicalPipeline.Run(Model(), new PassLog());
        var lowered = ModelLowering.Lower(canonical, new LoweringOptions
        {
            ClassName = "Structural", Namespace = "Fixtures", SourceFile = "structural.onnx", SourceSha256 = "00", Producer = "Compress.Tasks 0.1.0",
        });
        PlanInvariants.Check(lowered);
        var calls = lowered.Plan.Steps.Select(s => s.Call).ToHashSet();
        foreach (var call in new[] { PlanCalls.ConvTranspose2d, PlanCalls.ResizeLinear, PlanCalls.GatherAxis, PlanCalls.LayerNorm, PlanCalls.BatchedMatMul, PlanCalls.Reduce })
            Assert.Contains(call, calls);
        OrtCheck.Matches(Model());

        string path = Path.Combine(SourceDirectory(), "..", "Compress.Generator.Tests", "Plans", "structural.plan.json");
        if (Environment.GetEnvironmentVariable("COMPRESS_UPDATE_BASELINES") == "1") File.WriteAllText(path, PlanJsonWriter.Write(lowered.Plan));
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), PlanJsonWriter.Write(lowered.Plan));
    }

    static string SourceDirectory()
    {
        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(Path.Combine(d, "Compress.Tasks.Tests.csproj"))) return d;
        throw new InvalidOperationException("Cannot find the Compress.Tasks.Tests source folder above " + AppContext.BaseDirectory);
    }
}
