using Compress.Tasks.Lowering;
using Compress.Tasks.Lowering.Quantized;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>
/// The table of quantised kernels (<see cref="QuantizedLowering.All"/>): consistent with the plan calls and the
/// interpreter, and rendered into docs/quantized-ops.md. Regenerate the doc with:
/// COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter QuantizedOpsDoc
/// </summary>
public class Int8RegistryTests
{
    [Fact]
    public void Every_quantised_call_has_an_interpreter_entry_and_every_lowerer_emits_only_known_calls()
    {
        Assert.All(PlanCalls.Quantized, c => Assert.Contains(c, PlanInterpreter.SupportedCalls));
        Assert.Empty(PlanCalls.Quantized.Intersect(PlanCalls.All));
        foreach (var l in QuantizedLowering.All)
        {
            Assert.NotEmpty(l.Notes);
            Assert.NotNull(OpLowerers.Find(l.OpType)); // every quantised op has an fp32 fallback
            Assert.All(l.Calls, c => Assert.Contains(c, PlanCalls.Quantized));
        }
        Assert.Equal(QuantizedLowering.All.Length, QuantizedLowering.All.Select(l => (l.OpType, l.Precision)).Distinct().Count());
    }

    public static string Render() =>
        "# Quantised kernels\n\n" +
        "<!-- Generated from src/Compress.Tasks/Lowering/Quantized/QuantizedLowering.cs by tests/Compress.Tasks.Tests/Lowering/Int8/Int8RegistryTests.cs; do not edit. -->\n\n" +
        "A node the quantisation passes decide to run as Int8, Int8Dynamic or Int4 lowers to these Compress.Runtime kernels\n" +
        "when its form is supported, and to its fp32 kernel otherwise (the plan step's comment says why). Conversions between\n" +
        "f32 and u8 (`Kernels.QuantizeF32.Run`, `Kernels.DequantizeU8.Run`) are placed where the representations meet; see\n" +
        "docs/plan-format.md, \"How the task lowers a quantised graph\".\n\n" +
        QuantizedLowering.MarkdownTable();

    [Fact]
    public void QuantizedOpsDocMatchesTheRegistry()
    {
        string path = Path.Combine(RepoRoot(), "docs", "quantized-ops.md");
        string expected = Render();
        if (Environment.GetEnvironmentVariable("COMPRESS_UPDATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path), $"{path} is missing; run with COMPRESS_UPDATE_DOCS=1 to generate it.");
        Assert.True(expected == File.ReadAllText(path).ReplaceLineEndings("\n"),
            "docs/quantized-ops.md is stale; regenerate it with COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter QuantizedOpsDoc");
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compress.sln"))) return dir.FullName;
        throw new InvalidOperationException("Compress.sln not found above " + AppContext.BaseDirectory);
    }
}
