using System.Collections.Immutable;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;

namespace Compress.Tasks.Tests.Conformance;

/// <summary>One ONNX backend node test: its folder (model.onnx, test_data_set_*/input_*.pb, output_*.pb) and the ops its graph uses.</summary>
public sealed record NodeTestCase(string Name, string Folder, ImmutableArray<string> Ops);

/// <summary>
/// The ONNX backend node tests (https://github.com/onnx/onnx/tree/main/onnx/backend/test/data/node) as Debian's
/// <c>libonnx-testdata</c> package installs them, narrowed to those whose graphs use only ops Compress claims
/// (<see cref="OpLowerers"/>). <c>COMPRESS_ONNX_NODE_TESTS</c> points elsewhere (another ONNX version's data/node).
/// </summary>
public static class NodeTestSuite
{
    /// <summary>Where <c>apt-get install libonnx-testdata</c> puts the node tests (ONNX 1.12 on Debian 12).</summary>
    public const string DebianFolder = "/usr/share/libonnx-testdata/data/node";

    public const string FolderVariable = "COMPRESS_ONNX_NODE_TESTS";

    public static string Folder { get; } = Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } f ? f : DebianFolder;

    public static bool IsAvailable => Directory.Exists(Folder);

    /// <summary>Why the conformance cases are skipped when the data is absent.</summary>
    public static string MissingReason =>
        $"ONNX backend node tests not found at {Folder}: install them with `apt-get install -y libonnx-testdata` " +
        $"(Debian/Ubuntu; .ci/run does) or set {FolderVariable} to an ONNX checkout's onnx/backend/test/data/node.";

    static readonly Lazy<ImmutableArray<NodeTestCase>> _claimed = new(FindClaimed);

    /// <summary>Every node test whose graph uses only claimed ops (default domain), sorted by name; empty without the data.</summary>
    public static ImmutableArray<NodeTestCase> Claimed => _claimed.Value;

    /// <summary>A claimed node test by name.</summary>
    public static NodeTestCase Get(string name) =>
        Claimed.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"No claimed node test '{name}' under {Folder}.", nameof(name));

    static ImmutableArray<NodeTestCase> FindClaimed()
    {
        if (!IsAvailable) return [];
        var cases = new List<NodeTestCase>();
        foreach (string dir in Directory.EnumerateDirectories(Folder).Order(StringComparer.Ordinal))
        {
            string model = Path.Combine(dir, "model.onnx");
            if (!File.Exists(model)) continue;
            var graph = OnnxModelReader.Parse(File.ReadAllBytes(model), model).Graph;
            bool claimed = graph.Node.Count > 0 &&
                graph.Node.All(n => n.Domain is "" or "ai.onnx" && OpLowerers.Find(n.OpType) is not null);
            if (claimed)
                cases.Add(new NodeTestCase(Path.GetFileName(dir), dir,
                    graph.Node.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal).ToImmutableArray()));
        }
        return cases.ToImmutableArray();
    }
}
