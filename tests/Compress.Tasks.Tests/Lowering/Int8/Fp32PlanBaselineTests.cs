using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>
/// The int8 lowering must leave fp32 plans alone: the plan JSON of every Digits sample model is compared byte for byte
/// with a baseline written before the int8 work (Baselines/&lt;model&gt;.plan.json; the plan carries the weights'
/// SHA-256, so the weights are compared too).
/// </summary>
/// <remarks>
/// After an intended change to fp32 lowering, rewrite the baselines and review their diff:
/// <code>COMPRESS_UPDATE_BASELINES=1 dotnet test tests/Compress.Tasks.Tests --filter "FullyQualifiedName~Fp32PlanBaselineTests"</code>
/// </remarks>
public class Fp32PlanBaselineTests
{
    static bool Update => Environment.GetEnvironmentVariable("COMPRESS_UPDATE_BASELINES") == "1";

    /// <summary>Fixed provenance, so the baselines do not depend on the tool version.</summary>
    static LoweringOptions Options => Harness.Options with { Producer = "Compress.Tasks (baseline)" };

    [Theory]
    [InlineData("digits_mlp")]
    [InlineData("digits_mlp_dyn")]
    [InlineData("digits_cnn")]
    [InlineData("digits_dwsep")]
    [InlineData("wide_mlp")]
    public void Fp32_plan_is_byte_identical_to_the_baseline(string model)
    {
        var canonical = CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model(model)).Graph, new PassLog());
        string actual = PlanJsonWriter.Write(ModelLowering.Lower(canonical, Options).Plan);
        string path = Path.Combine(SourceDirectory(), "Lowering", "Int8", "Baselines", model + ".plan.json");
        if (Update) File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), $"No baseline {path}; run with COMPRESS_UPDATE_BASELINES=1 to write it, then review it.");
        Assert.Equal(File.ReadAllText(path).Replace("\r\n", "\n"), actual);
    }

    static string SourceDirectory()
    {
        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
            if (File.Exists(Path.Combine(d, "Compress.Tasks.Tests.csproj"))) return d;
        throw new InvalidOperationException("Cannot find the Compress.Tasks.Tests source folder above " + AppContext.BaseDirectory);
    }
}
