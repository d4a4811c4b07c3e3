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
        "Every op below lowers to the listed Compress.Runtime kernels (fp32). A model using any other op fails the build\n" +
        "with CMP004, naming the node. Activations directly after a Conv, Gemm, MatMul, binary op or BatchNormalization\n" +
        "are fused into that kernel; BatchNormalization after a Conv or Gemm is folded into its weights.\n\n" +
        "Model forms the canonical pipeline takes care of before lowering:\n\n" +
        "- Weights stored as `Constant` nodes become initializers first, so lowering, quantisation, pruning and the low-bit\n" +
        "  methods treat them exactly like initializers.\n" +
        "- Constant subgraphs fold at build time, including the Shape → Gather/Slice → Unsqueeze → Concat → Reshape chains\n" +
        "  PyTorch exports for `x.view(x.size(0), -1)` (a symbolic batch is carried through as a symbol).\n" +
        "- The decomposed layer norm of torch/TF exports (ReduceMean → Sub → Pow(2) or Mul → ReduceMean → Add ε → Sqrt → Div\n" +
        "  [→ Mul γ → Add β]) fuses into one LayerNormalization (the exported `.onnx` is then raised to opset 17).\n" +
        "- TensorFlow (tf2onnx) NHWC inputs: the Transpose(0,3,1,2) in front of the first Conv runs as one `CopyF32.Permute`.\n" +
        "- Inputs with dynamic sizes other than the batch: fix them with the `InputShape` metadata.\n" +
        "- Attribute forms of older opsets (Clip min/max, Squeeze/Unsqueeze/ReduceSum/Split axes, Pad pads, Slice starts/ends,\n" +
        "  BatchNormalization's spatial/is_test/consumed_inputs) are read as the opset of the model says.\n\n" +
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
