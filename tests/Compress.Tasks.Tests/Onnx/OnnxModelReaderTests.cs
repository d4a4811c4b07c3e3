using System.Runtime.InteropServices;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Tests.Graph;
using Google.Protobuf;

namespace Compress.Tasks.Tests.Onnx;

public class OnnxModelReaderTests
{
    public static TheoryData<string> SampleModels => new() { "digits_mlp", "digits_mlp_dyn", "digits_cnn", "digits_dwsep", "wide_mlp" };

    [Theory]
    [MemberData(nameof(SampleModels))]
    public void Loads_sample_models_with_provenance_and_weights(string name)
    {
        var model = OnnxModelReader.Load(TestFiles.Model(name));
        var g = model.Graph;
        Assert.Equal(7, g.Info.IrVersion);
        Assert.Equal(13, g.Info.DefaultOpset);
        Assert.Equal("pytorch", g.Info.ProducerName);
        Assert.Equal("1.13.0", g.Info.ProducerVersion);
        Assert.Contains("dataset", g.Info.Metadata.Keys);
        Assert.Equal(["input"], g.Inputs.Select(i => i.Name));
        Assert.Equal(["logits"], g.Outputs.Select(o => o.Name));
        Assert.Equal(DataType.Float, g.Inputs[0].Type);
        Assert.All(g.Initializers.Values, t => Assert.Equal(t.ElementCount, t.Data.Length));
    }

    [Fact]
    public void Reads_the_mlp_layers_and_symbolic_batch()
    {
        var g = OnnxModelReader.Load(TestFiles.Model("digits_mlp")).Graph;
        Assert.Equal(["Gemm", "Relu", "Gemm", "Relu", "Gemm"], g.Nodes.Select(n => n.OpType));
        Assert.Equal([256L, 64], g.Initializers["fc1.weight"].Dims.ToArray());
        Assert.Equal(1, g.Nodes[0].GetInt("transB", 0));
        Assert.Equal(GraphBuilder.ShapeOf(1, 64), g.Inputs[0].Shape);

        var dyn = OnnxModelReader.Load(TestFiles.Model("digits_mlp_dyn")).Graph;
        Assert.Equal(Dim.Symbolic("N"), dyn.Inputs[0].Shape!.Dims[0]);
        Assert.Equal(Dim.Known(64), dyn.Inputs[0].Shape!.Dims[1]);
        Assert.Equal(Dim.Symbolic("N"), dyn.Outputs[0].Shape!.Dims[0]);
    }

    [Fact]
    public void Constant_nodes_stay_nodes()
    {
        var g = OnnxModelReader.Load(TestFiles.Model("digits_dwsep")).Graph;
        var constants = g.Nodes.Where(n => n.OpType == "Constant").ToList();
        Assert.Equal(2, constants.Count);
        var value = ConstantNode.ValueOf(constants[0])!;
        Assert.Equal(DataType.Int64, value.Type);
        Assert.Equal([-1L], TensorData.ToInt64s(value));
    }

    [Fact]
    public void Missing_file_is_CMP001()
    {
        var e = Assert.Throws<CompressException>(() => OnnxModelReader.Load("/nonexistent/folder/model.onnx"));
        Assert.Equal(ErrorCodes.ModelNotFound, e.Code);
        Assert.Contains("model.onnx", e.Message);
    }

    public static TheoryData<string, byte[]> CorruptFiles()
    {
        var mlp = File.ReadAllBytes(TestFiles.Model("digits_mlp"));
        var random = new byte[4096];
        new Random(42).NextBytes(random);
        return new()
        {
            { "empty", [] },
            { "random", random },
            { "text", "hello, this is not a model\n"u8.ToArray() },
            { "truncated-half", mlp[..(mlp.Length / 2)] },
            { "truncated-end", mlp[..^3] },
            { "one-byte", mlp[..1] },
        };
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Corrupt_files_are_CMP002(string label, byte[] bytes)
    {
        using var dir = TestFiles.TempFolder();
        string path = dir.File(label + ".onnx");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CompressException>(() => OnnxModelReader.Load(path));
        Assert.Equal(ErrorCodes.ModelCorrupt, e.Code);
        Assert.Contains("not a valid ONNX model", e.Message);
        Assert.Equal(path, e.File);
    }

    [Fact]
    public void A_graph_without_nodes_or_outputs_is_CMP002()
    {
        var noNodes = OnnxProtos.Model(OnnxProtos.Graph([], ["x"], ["x"]));
        Assert.Equal(ErrorCodes.ModelCorrupt, Assert.Throws<CompressException>(() => OnnxProtos.Load(noNodes)).Code);

        var noOutputs = OnnxProtos.Model(OnnxProtos.Graph([OnnxProtos.Node("Relu", ["x"], ["y"])], ["x"], []));
        var e = Assert.Throws<CompressException>(() => OnnxProtos.Load(noOutputs));
        Assert.Equal(ErrorCodes.ModelCorrupt, e.Code);
        Assert.Contains("no outputs", e.Message);

        var noGraph = new ModelProto { IrVersion = 7 };
        Assert.Equal(ErrorCodes.ModelCorrupt, Assert.Throws<CompressException>(() => OnnxProtos.Load(noGraph)).Code);
    }

    [Fact]
    public void A_node_reading_an_unproduced_value_is_CMP002()
    {
        var model = OnnxProtos.Model(OnnxProtos.Graph(
            [OnnxProtos.Node("Add", ["x", "ghost"], ["y"], name: "add1")], ["x"], ["y"]));
        var e = Assert.Throws<CompressException>(() => OnnxProtos.Load(model));
        Assert.Equal(ErrorCodes.ModelCorrupt, e.Code);
        Assert.Contains("'add1'", e.Message);
        Assert.Contains("'ghost'", e.Message);
    }

    [Fact]
    public void Cycles_and_double_producers_are_CMP002()
    {
        var cycle = OnnxProtos.Model(OnnxProtos.Graph(
            [OnnxProtos.Node("Add", ["x", "b"], ["a"]), OnnxProtos.Node("Relu", ["a"], ["b"])], ["x"], ["a"]));
        Assert.Contains("cycle", Assert.Throws<CompressException>(() => OnnxProtos.Load(cycle)).Message);

        var twice = OnnxProtos.Model(OnnxProtos.Graph(
            [OnnxProtos.Node("Relu", ["x"], ["y"]), OnnxProtos.Node("Sigmoid", ["x"], ["y"])], ["x"], ["y"]));
        Assert.Contains("produced twice", Assert.Throws<CompressException>(() => OnnxProtos.Load(twice)).Message);
    }

    [Fact]
    public void Nodes_out_of_order_are_sorted_topologically_and_stably()
    {
        var model = OnnxProtos.Model(OnnxProtos.Graph(
        [
            OnnxProtos.Node("Sigmoid", ["b"], ["y"], name: "last"),
            OnnxProtos.Node("Relu", ["x"], ["a"], name: "first"),
            OnnxProtos.Node("Tanh", ["x"], ["c"], name: "independent"),
            OnnxProtos.Node("Add", ["a", "c"], ["b"], name: "middle"),
        ], ["x"], ["y"]));
        var g = OnnxProtos.Load(model);
        Assert.Equal(["first", "independent", "middle", "last"], g.Nodes.Select(n => n.Name));
    }

    [Fact]
    public void IR3_initializers_listed_as_inputs_are_not_model_inputs()
    {
        var graph = OnnxProtos.Graph([OnnxProtos.Node("Add", ["x", "w"], ["y"])], ["x", "w"], ["y"]);
        graph.Initializer.Add(OnnxProtos.FloatTensor("w", [1, 2, 3, 4], 1, 4));
        var model = OnnxProtos.Model(graph, irVersion: 3, opset: 8);
        var g = OnnxProtos.Load(model);
        Assert.Equal(["x"], g.Inputs.Select(i => i.Name));
        Assert.True(g.IsConstant("w"));
        Assert.Equal([1f, 2, 3, 4], g.Initializers["w"].Floats);
        Assert.Equal(3, g.Info.IrVersion);
        Assert.Equal(8, g.Info.DefaultOpset);
    }

    [Fact]
    public void Typed_data_fields_of_every_common_type_are_read()
    {
        var g = OnnxProtos.Graph([OnnxProtos.Node("Relu", ["x"], ["y"])], ["x"], ["y"]);
        TensorProto T(string name, DataType type, params long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)type };
            t.Dims.AddRange(dims);
            g.Initializer.Add(t);
            return t;
        }
        T("f", DataType.Float, 3).FloatData.AddRange([1.5f, -2f, 3f]);
        T("d", DataType.Double, 2).DoubleData.AddRange([0.25, -8]);
        T("l", DataType.Int64, 2).Int64Data.AddRange([long.MaxValue, -1]);
        T("i", DataType.Int32, 2).Int32Data.AddRange([7, -7]);
        T("i8", DataType.Int8, 2).Int32Data.AddRange([-128, 127]);
        T("u8", DataType.UInt8, 2).Int32Data.AddRange([0, 255]);
        T("b", DataType.Bool, 2).Int32Data.AddRange([1, 0]);
        T("h", DataType.Float16, 1).Int32Data.Add(BitConverter.HalfToUInt16Bits((Half)1.5));
        T("u64", DataType.UInt64, 1).Uint64Data.Add(ulong.MaxValue);
        T("s", DataType.String, 2).StringData.AddRange([ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("βγ")]);
        T("raw", DataType.Float, 2).RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes<float>([0.5f, 4f]).ToArray());
        T("scalar", DataType.Int64).Int64Data.Add(42);
        T("empty", DataType.Float, 0);

        var init = OnnxProtos.Load(OnnxProtos.Model(g)).Initializers;
        Assert.Equal([1.5f, -2f, 3f], init["f"].Floats);
        Assert.Equal([0.25, -8], (double[])init["d"].Data);
        Assert.Equal([long.MaxValue, -1], init["l"].Int64s);
        Assert.Equal([7, -7], (int[])init["i"].Data);
        Assert.Equal([(sbyte)-128, (sbyte)127], (sbyte[])init["i8"].Data);
        Assert.Equal([(byte)0, (byte)255], (byte[])init["u8"].Data);
        Assert.Equal([(byte)1, (byte)0], (byte[])init["b"].Data);
        Assert.Equal([1.5], TensorData.ToDoubles(init["h"]));
        Assert.Equal(Enumerable.Repeat((byte)0xFF, 8), (byte[])init["u64"].Data);
        Assert.Equal(["a", "βγ"], (string[])init["s"].Data);
        Assert.Equal([0.5f, 4f], init["raw"].Floats);
        Assert.Equal([42L], init["scalar"].Int64s);
        Assert.Empty(init["scalar"].Dims);
        Assert.Empty(init["empty"].Floats);
    }

    [Fact]
    public void Tensor_data_of_the_wrong_size_is_CMP002_naming_the_tensor()
    {
        var g = OnnxProtos.Graph([OnnxProtos.Node("Relu", ["x"], ["y"])], ["x"], ["y"]);
        var t = new TensorProto { Name = "short", DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(new byte[7]) };
        t.Dims.Add(2);
        g.Initializer.Add(t);
        var e = Assert.Throws<CompressException>(() => OnnxProtos.Load(OnnxProtos.Model(g)));
        Assert.Equal(ErrorCodes.ModelCorrupt, e.Code);
        Assert.Contains("'short'", e.Message);

        var g2 = OnnxProtos.Graph([OnnxProtos.Node("Relu", ["x"], ["y"])], ["x"], ["y"]);
        var noData = new TensorProto { Name = "nodata", DataType = (int)DataType.Float };
        noData.Dims.Add(3);
        g2.Initializer.Add(noData);
        Assert.Contains("has no data", Assert.Throws<CompressException>(() => OnnxProtos.Load(OnnxProtos.Model(g2))).Message);
    }

    [Fact]
    public void Attributes_of_every_kind_are_converted()
    {
        var node = OnnxProtos.Node("Relu", ["x"], ["y"]);
        node.Attribute.Add(new AttributeProto { Name = "f", Type = AttributeProto.Types.AttributeType.Float, F = 0f });
        node.Attribute.Add(new AttributeProto { Name = "i", Type = AttributeProto.Types.AttributeType.Int, I = -3 });
        node.Attribute.Add(new AttributeProto { Name = "s", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("SAME_UPPER") });
        var fs = new AttributeProto { Name = "fs", Type = AttributeProto.Types.AttributeType.Floats };
        fs.Floats.AddRange([1f, 2f]);
        node.Attribute.Add(fs);
        var ints = new AttributeProto { Name = "is", Type = AttributeProto.Types.AttributeType.Ints };
        ints.Ints.AddRange([1, -1]);
        node.Attribute.Add(ints);
        node.Attribute.Add(new AttributeProto { Name = "t", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxProtos.FloatTensor("", [9f], 1) });
        node.Attribute.Add(new AttributeProto { Name = "legacy", I = 5 }); // IR 1: no type discriminator
        var tensors = new AttributeProto { Name = "ts", Type = AttributeProto.Types.AttributeType.Tensors };
        tensors.Tensors.Add(OnnxProtos.FloatTensor("", [1f], 1));
        node.Attribute.Add(tensors);

        var a = OnnxProtos.Load(OnnxProtos.Model(OnnxProtos.Graph([node], ["x"], ["y"]))).Nodes[0].Attributes;
        Assert.Equal(AttributeKind.Float, a["f"].Kind);
        Assert.Equal(-3, a["i"].Int);
        Assert.Equal("SAME_UPPER", a["s"].String);
        Assert.Equal([1f, 2f], a["fs"].Floats.ToArray());
        Assert.Equal([1L, -1], a["is"].Ints.ToArray());
        Assert.Equal([9f], a["t"].Tensor!.Floats);
        Assert.Equal(AttributeKind.Int, a["legacy"].Kind);
        Assert.Equal(5, a["legacy"].Int);
        Assert.Equal(AttributeKind.Opaque, a["ts"].Kind);
        Assert.Equal(tensors.ToByteArray(), a["ts"].OpaqueBytes.ToArray());
    }

    [Fact]
    public void Repeated_numbers_parse_packed_and_unpacked()
    {
        // TensorProto.dims (field 1) written packed, float_data (field 4) written unpacked: both must parse.
        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteLength(2);
        output.WriteInt64(1);
        output.WriteInt64(2);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt32((int)DataType.Float);
        foreach (var v in new[] { 3f, 4f })
        {
            output.WriteTag(4, WireFormat.WireType.Fixed32);
            output.WriteFloat(v);
        }
        output.WriteTag(8, WireFormat.WireType.LengthDelimited);
        output.WriteString("w");
        output.Flush();
        var tensor = TensorProto.Parser.ParseFrom(stream.ToArray());
        var t = OnnxConvert.ToTensor(tensor, null, "test");
        Assert.Equal([1L, 2], t.Dims.ToArray());
        Assert.Equal([3f, 4f], t.Floats);
    }
}
