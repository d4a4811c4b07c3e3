using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using Google.Protobuf;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Onnx;

public class OnnxModelWriterTests
{
    [Theory]
    [MemberData(nameof(OnnxModelReaderTests.SampleModels), MemberType = typeof(OnnxModelReaderTests))]
    public void Unmodified_models_round_trip_byte_for_byte(string name)
    {
        string source = TestFiles.Model(name);
        var original = File.ReadAllBytes(source);
        var model = OnnxModelReader.Load(source);
        using var dir = TestFiles.TempFolder();
        string copy = dir.File(name + ".onnx");
        OnnxModelWriter.Write(model.Proto, copy);

        Assert.Equal(original, File.ReadAllBytes(copy));
        GraphAssert.Equal(model.Graph, OnnxModelReader.Load(copy).Graph, compareValues: true);
    }

    [Theory]
    [MemberData(nameof(OnnxModelReaderTests.SampleModels), MemberType = typeof(OnnxModelReaderTests))]
    public void Graphs_written_as_new_models_reload_identical(string name)
    {
        var graph = OnnxModelReader.Load(TestFiles.Model(name)).Graph;
        using var dir = TestFiles.TempFolder();
        string path = dir.File("exported.onnx");
        OnnxModelWriter.Write(graph, path);
        GraphAssert.Equal(graph, OnnxModelReader.Load(path).Graph, compareValues: true);
    }

    [Fact]
    public void Unknown_fields_survive_a_round_trip()
    {
        var bytes = File.ReadAllBytes(TestFiles.Model("digits_mlp"));
        var model = ModelProto.Parser.ParseFrom(bytes);

        // An unknown field in a nested message (the first node) and one at the top level (e.g. a future ModelProto field).
        var node = model.Graph.Node[0];
        var nodeWithUnknown = NodeProto.Parser.ParseFrom([.. node.ToByteArray(), .. OnnxProtos.UnknownField(77, 7)]);
        Assert.NotEqual(node, nodeWithUnknown);
        model.Graph.Node[0] = nodeWithUnknown;
        var injected = model.ToByteArray().Concat(OnnxProtos.UnknownField(5000, 42)).ToArray();

        using var dir = TestFiles.TempFolder();
        string path = dir.File("unknown.onnx");
        File.WriteAllBytes(path, injected);
        var loaded = OnnxModelReader.Load(path);
        string copy = dir.File("copy.onnx");
        OnnxModelWriter.Write(loaded.Proto, copy);

        var written = File.ReadAllBytes(copy);
        Assert.Equal(injected, written);
        Assert.NotEqual(bytes.Length, written.Length);
        Assert.Equal(ModelProto.Parser.ParseFrom(injected), ModelProto.Parser.ParseFrom(written)); // equality includes unknown fields
    }

    [Fact]
    public void Writes_atomically_leaving_no_temporary_files()
    {
        var model = OnnxModelReader.Load(TestFiles.Model("digits_mlp")).Proto;
        using var dir = TestFiles.TempFolder();
        string path = Path.Combine(dir.Path, "sub", "dir", "model.onnx");
        OnnxModelWriter.Write(model, path);
        OnnxModelWriter.Write(model, path); // overwrite
        Assert.Equal(["model.onnx"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));

        // A target that cannot be replaced (a directory) fails without leaving a partial file behind.
        string blocked = dir.File("blocked.onnx");
        Directory.CreateDirectory(blocked);
        Assert.ThrowsAny<IOException>(() => OnnxModelWriter.Write(model, blocked));
        Assert.Equal([blocked], Directory.GetFileSystemEntries(dir.Path).Where(p => !p.EndsWith("sub")));
    }

    [Fact]
    public void Fused_activations_are_written_back_as_standard_nodes()
    {
        var g = new GraphBuilder(13)
            .Input("x", 1, 4).Random("w", 1, 3, 4).Random("b", 2, 3)
            .Named("fc", "Gemm", ["x", "w", "b"], ["y"], A("transB", 1L))
            .Output("y").Build();
        g = g with { Nodes = [FusedActivationAttributes.Set(g.Nodes[0], "Clip", 0f, 6f)] };

        var proto = OnnxModelWriter.ToProto(g);
        Assert.Equal(["Gemm", "Clip"], proto.Graph.Node.Select(x => x.OpType));
        Assert.DoesNotContain(proto.Graph.Node[0].Attribute, a => a.Name.StartsWith("compress."));
        Assert.Equal("fc/Clip", proto.Graph.Node[1].Name);
        Assert.Equal(proto.Graph.Node[0].Output[0], proto.Graph.Node[1].Input[0]);
        Assert.Equal("y", proto.Graph.Node[1].Output[0]);
        Assert.Equal(3, proto.Graph.Node[1].Input.Count);

        var reloaded = OnnxModelReader.ToGraph(proto, null, "x.onnx");
        var x = Enumerable.Range(0, 4).Select(i => i * 1.5f - 2f).ToArray();
        Assert.Equal(ReferenceInterpreter.RunOne(g, x, 1, 4), ReferenceInterpreter.RunOne(reloaded, x, 1, 4));

        // Opset 6 Clip carries its bounds as attributes; an infinite bound is simply omitted.
        var old = g with { Info = g.Info with { Opsets = g.Info.Opsets.SetItem("", 6) }, Nodes = [FusedActivationAttributes.Set(g.Nodes[0], "Clip", float.NegativeInfinity, 6f)] };
        var clip = OnnxModelWriter.ToProto(old).Graph.Node[1];
        Assert.Single(clip.Input);
        Assert.Equal(["max"], clip.Attribute.Select(a => a.Name));

        // Kept as attributes on request.
        var raw = OnnxModelWriter.ToProto(g, new OnnxExportOptions { ExpandFusedActivations = false });
        Assert.Single(raw.Graph.Node);
        Assert.Contains(raw.Graph.Node[0].Attribute, a => a.Name == FusedActivationAttributes.Activation && a.S.ToStringUtf8() == "Clip");
    }

    [Fact]
    public void IR3_graphs_list_initializers_among_inputs()
    {
        var g = new GraphBuilder(8).Input("x", 1, 4).Init("w", [1, 2, 3, 4], 1, 4)
            .Node("Add", ["x", "w"], ["y"]).Output("y").Build();
        g = g with { Info = g.Info with { IrVersion = 3 } };
        var proto = OnnxModelWriter.ToProto(g);
        Assert.Equal(["x", "w"], proto.Graph.Input.Select(i => i.Name));
        Assert.Equal(["x"], OnnxModelReader.ToGraph(proto, null, "ir3.onnx").Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Exported_models_are_deterministic_and_carry_overrides()
    {
        var graph = OnnxModelReader.Load(TestFiles.Model("digits_dwsep")).Graph;
        var options = new OnnxExportOptions { ProducerName = "Compress", ProducerVersion = "0.1.0", Metadata = new Dictionary<string, string> { ["compress.variant"] = "fp32" } };
        var a = OnnxModelWriter.ToProto(graph, options).ToByteArray();
        var b = OnnxModelWriter.ToProto(graph, options).ToByteArray();
        Assert.Equal(a, b);
        var model = ModelProto.Parser.ParseFrom(a);
        Assert.Equal("Compress", model.ProducerName);
        Assert.Contains(model.MetadataProps, kv => kv.Key == "compress.variant" && kv.Value == "fp32");
        Assert.Contains(model.MetadataProps, kv => kv.Key == "dataset");
    }
}
