using System.Runtime.InteropServices;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Tests.Graph;
using Google.Protobuf;

namespace Compress.Tasks.Tests.Onnx;

public class ExternalDataTests
{
    static readonly float[] Weights = [1f, -2f, 3.5f, 8f];

    /// <summary>Writes model.onnx (y = x + w, w external) into <paramref name="dir"/>; returns its path.</summary>
    static string WriteModel(TempFolder dir, string location, long offset = 0, long? length = null) =>
        WriteModel(dir.Path, location, offset, length);

    static string WriteModel(string dir, string location, long offset = 0, long? length = null)
    {
        var graph = OnnxProtos.Graph([OnnxProtos.Node("Add", ["x", "w"], ["y"])], ["x"], ["y"]);
        var w = new TensorProto { Name = "w", DataType = (int)DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.AddRange([1, 4]);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset != 0) w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        if (length is { } l) w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString() });
        graph.Initializer.Add(w);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, OnnxProtos.Model(graph).ToByteArray());
        return path;
    }

    static void WriteData(string path, long offset)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = new byte[offset + 16 + 5];
        MemoryMarshal.AsBytes(Weights.AsSpan()).CopyTo(bytes.AsSpan((int)offset));
        File.WriteAllBytes(path, bytes);
    }

    [Theory]
    [InlineData("weights.bin", 0)]
    [InlineData("weights.bin", 4096)]
    [InlineData("data/weights.bin", 8)]
    [InlineData("./data/weights.bin", 8)]
    public void External_data_inside_the_model_folder_loads(string location, long offset)
    {
        using var dir = TestFiles.TempFolder();
        string model = WriteModel(dir, location, offset, length: 16);
        WriteData(Path.Combine(dir.Path, location), offset);
        var g = OnnxModelReader.Load(model).Graph;
        Assert.Equal(Weights, g.Initializers["w"].Floats);
        Assert.Equal([1L, 4], g.Initializers["w"].Dims.ToArray());
    }

    [Theory]
    [InlineData("../weights.bin")]
    [InlineData("data/../../weights.bin")]
    [InlineData("..\\weights.bin")]
    [InlineData("/etc/passwd")]
    public void External_data_outside_the_model_folder_is_CMP003(string location)
    {
        using var outer = TestFiles.TempFolder();
        string modelDir = outer.File("model");
        string model = WriteModel(modelDir, location);
        WriteData(outer.File("weights.bin"), 0); // exists, but outside the model's folder

        var e = Assert.Throws<CompressException>(() => OnnxModelReader.Load(model));
        Assert.Equal(ErrorCodes.ExternalData, e.Code);
        Assert.Contains("'w'", e.Message);
        Assert.Contains(location, e.Message);
        Assert.Contains("outside the model's folder", e.Message);
        Assert.Contains("move the data file next to the model", e.Message);
        Assert.Equal(Path.GetFullPath(model), e.File);
    }

    [Fact]
    public void Missing_or_short_external_file_is_CMP003()
    {
        using var dir = TestFiles.TempFolder();
        string model = WriteModel(dir, "missing.bin");
        var e = Assert.Throws<CompressException>(() => OnnxModelReader.Load(model));
        Assert.Equal(ErrorCodes.ExternalData, e.Code);
        Assert.Contains("does not exist", e.Message);

        File.WriteAllBytes(dir.File("short.bin"), new byte[10]);
        model = WriteModel(dir, "short.bin", offset: 0, length: 16);
        e = Assert.Throws<CompressException>(() => OnnxModelReader.Load(model));
        Assert.Equal(ErrorCodes.ExternalData, e.Code);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void External_data_without_a_model_folder_is_CMP003()
    {
        using var dir = TestFiles.TempFolder();
        var proto = OnnxModelReader.Parse(File.ReadAllBytes(WriteModel(dir, "weights.bin")), "model.onnx");
        var e = Assert.Throws<CompressException>(() => OnnxModelReader.ToGraph(proto, null, "model.onnx"));
        Assert.Equal(ErrorCodes.ExternalData, e.Code);
    }

    [Fact]
    public void Writing_the_graph_inlines_external_data()
    {
        using var dir = TestFiles.TempFolder();
        string model = WriteModel(dir, "weights.bin");
        WriteData(dir.File("weights.bin"), 0);
        var g = OnnxModelReader.Load(model).Graph;
        var proto = OnnxModelWriter.ToProto(g);
        var w = proto.Graph.Initializer.Single();
        Assert.False(w.HasDataLocation);
        Assert.Equal(16, w.RawData.Length);
        GraphAssert.Equal(g, OnnxModelReader.ToGraph(proto, null, "inline.onnx"));
    }
}
