using Compress.Tasks.Graph;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Tasks.Tests.Onnx;

/// <summary>Builds small ONNX protobuf messages for reader and writer tests.</summary>
public static class OnnxProtos
{
    public static ModelProto Model(GraphProto graph, long irVersion = 8, long opset = 13)
    {
        var model = new ModelProto { IrVersion = irVersion, ProducerName = "tests", ProducerVersion = "1", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>A graph whose inputs and outputs are float [1,4] tensors.</summary>
    public static GraphProto Graph(NodeProto[] nodes, string[] inputs, string[] outputs)
    {
        var g = new GraphProto { Name = "g" };
        g.Node.AddRange(nodes);
        g.Input.AddRange(inputs.Select(i => OnnxConvert.ToProto(new ValueInfo(i, DataType.Float, Shape.Of(1, 4)))));
        g.Output.AddRange(outputs.Select(o => OnnxConvert.ToProto(new ValueInfo(o, DataType.Float, Shape.Of(1, 4)))));
        return g;
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, string name = "")
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    public static TensorProto FloatTensor(string name, float[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(data);
        return t;
    }

    /// <summary>Serializes, parses and converts, as loading a file would (without a folder for external data).</summary>
    public static Compress.Tasks.Graph.Graph Load(ModelProto model, string file = "test.onnx") =>
        OnnxModelReader.ToGraph(OnnxModelReader.Parse(model.ToByteArray(), file), null, file);

    /// <summary>Bytes of one unknown field (number 5000, varint 42) to append to a serialized message.</summary>
    public static byte[] UnknownField(int number = 5000, ulong value = 42)
    {
        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(number, WireFormat.WireType.Varint);
        output.WriteUInt64(value);
        output.Flush();
        return stream.ToArray();
    }
}
