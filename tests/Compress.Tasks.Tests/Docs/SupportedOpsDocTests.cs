using System.Text.RegularExpressions;
using Compress.Tasks.Lowering;
using Compress.Tasks.Tests.Conformance;

namespace Compress.Tasks.Tests.Docs;

/// <summary>
/// docs/supported-ops.md is generated from the lowering registry (<see cref="OpLowerers"/>) and the ONNX node-test
/// results (<see cref="NodeTestSummary"/>, run here); this test fails when they disagree. Without libonnx-testdata the
/// counts column cannot be checked and is ignored (every other cell still is). Regenerate with:
/// COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter SupportedOpsDoc
/// </summary>
public partial class SupportedOpsDocTests
{
    public static string Render(Func<string, string> nodeTests) =>
        "# Supported ONNX ops\n\n" +
        "<!-- Generated from src/Compress.Tasks/Lowering/OpLowerers.cs and the ONNX node-test results by tests/Compress.Tasks.Tests/Docs/SupportedOpsDocTests.cs; do not edit. -->\n\n" +
        "Every op below lowers to the listed Compress.Runtime kernels (fp32). A model using any other op runs on ONNX Runtime\n" +
        "behind the same class instead (warning CMP033 naming the node; docs/onnxruntime-backend.md), or fails the build with\n" +
        "CMP004 with Backend=\"Kernels\". Activations directly after a Conv, Gemm, MatMul, binary op or BatchNormalization\n" +
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
        "*Constant inputs* must be initializers (or fold to constants); a model computing them at run time fails with CMP004.\n" +
        "*Node tests*: the ONNX backend node tests (ONNX 1.12, Debian's `libonnx-testdata`) whose graphs use only ops in\n" +
        "this table, compiled and run the way a build does and compared with the expected outputs (rtol 1e-3, atol 1e-7),\n" +
        "counted for every op in the test's graph: passed / run, and in parentheses the excluded ones — tests that need\n" +
        "something outside this table's claim, such as a non-float32 dtype; docs/conformance.md lists each with its reason.\n" +
        "The tests' constant inputs are given as initializers, as in a real model.\n\n" +
        OpLowerers.MarkdownTable(nodeTests);

    [Fact]
    public void SupportedOpsDocMatchesTheRegistry()
    {
        string path = Path.Combine(RepoRoot(), "docs", "supported-ops.md");
        if (!NodeTestSuite.IsAvailable)
        {
            // The counts need the node tests: compare everything else.
            Assert.True(File.Exists(path), $"{path} is missing; run with COMPRESS_UPDATE_DOCS=1 to generate it.");
            Assert.True(MaskCounts(Render(_ => "?")) == MaskCounts(File.ReadAllText(path).ReplaceLineEndings("\n")),
                "docs/supported-ops.md is stale; regenerate it with COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter SupportedOpsDoc (with libonnx-testdata installed)");
            return;
        }
        string expected = Render(op => NodeTestSummary.ByOp.TryGetValue(op, out var c) ? c.Cell : "—");
        if (Environment.GetEnvironmentVariable("COMPRESS_UPDATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path), $"{path} is missing; run with COMPRESS_UPDATE_DOCS=1 to generate it.");
        Assert.True(expected == File.ReadAllText(path).ReplaceLineEndings("\n"),
            "docs/supported-ops.md is stale; regenerate it with COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter SupportedOpsDoc");
    }

    /// <summary>Every claimed op's node tests pass (the issue's bar); the table shows the counts.</summary>
    [NodeTestsFact]
    public void Every_supported_op_passes_all_its_node_tests()
    {
        Assert.All(NodeTestSummary.ByOp, kv => Assert.True(kv.Value.Passed == kv.Value.Run, $"{kv.Key}: {kv.Value.Cell}"));
    }

    /// <summary>The table with the node-test column's cells replaced by "?".</summary>
    static string MaskCounts(string doc) => CountCell().Replace(doc, "| ? |");

    [GeneratedRegex(@"\| [^|\n]* \|$", RegexOptions.Multiline)]
    private static partial Regex CountCell();

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compress.sln"))) return dir.FullName;
        throw new InvalidOperationException("Compress.sln not found above " + AppContext.BaseDirectory);
    }
}
