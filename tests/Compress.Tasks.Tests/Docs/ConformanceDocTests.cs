using Compress.Tasks.Tests.Conformance;

namespace Compress.Tasks.Tests.Docs;

/// <summary>
/// docs/conformance.md is generated from <see cref="NodeTestExclusions"/> (the exclusion list) around fixed prose;
/// this test fails when they disagree. Regenerate with: COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter ConformanceDoc
/// </summary>
public class ConformanceDocTests
{
    public static string Render()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("""
            # ONNX node-test conformance

            <!-- Generated from tests/Compress.Tasks.Tests/Conformance/NodeTestExclusions.cs by tests/Compress.Tasks.Tests/Docs/ConformanceDocTests.cs; do not edit. -->

            Every op in [supported-ops.md](supported-ops.md) is checked against the ONNX backend node tests
            (`onnx/backend/test/data/node`): one small model per test, with inputs and expected outputs as TensorProto files.
            The *node tests* column of that table is filled from these runs.

            ## Where the data comes from

            Debian's `libonnx-testdata` package (ONNX 1.12 on Debian 12) installs the tests under
            `/usr/share/libonnx-testdata/data/node/<test>/` (`model.onnx`, `test_data_set_*/input_*.pb`, `output_*.pb`).
            `.ci/run` installs it (`apt-get install -y libonnx-testdata`) before the tests when it runs as root with apt-get.
            Set `COMPRESS_ONNX_NODE_TESTS` to use another folder (e.g. a newer ONNX checkout's `onnx/backend/test/data/node`).
            Without the data the conformance cases are reported as skipped, with the reason and the install command.

            ## How to run

            ```sh
            sudo apt-get install -y libonnx-testdata
            dotnet test tests/Compress.Tasks.Tests --filter "FullyQualifiedName~Conformance"   # one case per node test
            COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter SupportedOpsDoc   # refresh the counts
            ```

            ## What a case does

            A node test takes part when every node of its graph is an op of the supported table (default domain). It runs
            through the path a user's build takes: the ONNX reader, the canonical pipeline, lowering to a plan, and the plan
            executed by the Compress.Runtime kernels (the build-time validator's `PlanInterpreter`); every output is compared
            with the expected one at the ONNX backend's tolerance, |got − expected| ≤ 1e-7 + 1e-3·|expected| (NaN matches NaN).
            Node tests pass every operand as a graph input; an operand the table lists under *constant inputs* (Conv's W,
            Reshape's shape …) is given as an initializer holding the test's value, as in a real model. Nothing else is changed.

            ## Exclusions

            A test of a supported op is excluded only when it needs something the table does not claim. An excluded test is
            still compiled, and its case checks that the build refuses it with a CMP error rather than computing something
            else; a case fails when an excluded test starts to pass, so the list cannot go stale.

            | node test | needs |
            |---|---|

            """);
        foreach (var (name, reason) in NodeTestExclusions.All.OrderBy(e => e.Key, StringComparer.Ordinal))
            sb.Append($"| `{name}` | {reason} |\n");
        return sb.ToString();
    }

    [Fact]
    public void ConformanceDocMatchesTheExclusions()
    {
        string path = Path.Combine(SupportedOpsDocTests.RepoRoot(), "docs", "conformance.md");
        string expected = Render();
        if (Environment.GetEnvironmentVariable("COMPRESS_UPDATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path), $"{path} is missing; run with COMPRESS_UPDATE_DOCS=1 to generate it.");
        Assert.True(expected == File.ReadAllText(path).ReplaceLineEndings("\n"),
            "docs/conformance.md is stale; regenerate it with COMPRESS_UPDATE_DOCS=1 dotnet test tests/Compress.Tasks.Tests --filter ConformanceDoc");
    }
}
