using Compress.Tasks.Lowering;

namespace Compress.Tasks.Tests.Docs;

/// <summary>
/// docs/supported-ops.md is generated from the lowering registry (<see cref="OpLowerers"/>); this test fails when
/// the two disagree. Regenerate with: COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter SupportedOpsDoc
/// </summary>
public class SupportedOpsDocTests
{
    public static string Render() =>
        "# Supported ONNX ops\n\n" +
        "<!-- Generated from src/Compress.Tasks/Lowering/OpLowerers.cs by tests/Compress.Tasks.Tests/Docs/SupportedOpsDocTests.cs; do not edit. -->\n\n" +
        "Every op below lowers to the listed Compress.Runtime kernels (fp32). A model using any other op runs on ONNX Runtime\n" +
        "behind the same class instead (warning CMP033 naming the node; docs/onnxruntime-backend.md), or fails the build with\n" +
        "CMP004 with Backend=\"Kernels\". Activations directly after a Conv, Gemm, MatMul, binary op or BatchNormalization\n" +
        "are fused into that kernel; BatchNormalization after a Conv or Gemm is folded into its weights.\n\n" +
        OpLowerers.MarkdownTable();

    [Fact]
    public void SupportedOpsDocMatchesTheRegistry()
    {
        string path = Path.Combine(RepoRoot(), "docs", "supported-ops.md");
        string expected = Render();
        if (Environment.GetEnvironmentVariable("COMPRESS_UPDATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path), $"{path} is missing; run with COMPRESS_UPDATE_DOCS=1 to generate it.");
        Assert.True(expected == File.ReadAllText(path).ReplaceLineEndings("\n"),
            "docs/supported-ops.md is stale; regenerate it with COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter SupportedOpsDoc");
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compress.sln"))) return dir.FullName;
        throw new InvalidOperationException("Compress.sln not found above " + AppContext.BaseDirectory);
    }
}
