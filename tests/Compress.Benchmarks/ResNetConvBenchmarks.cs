using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Benchmarks;

/// <summary>
/// The convolutions of ResNet-18 at 224×224, batch 1 (issue 6): our fp32 kernel (the one the lowering picks: Winograd
/// for wide 3×3 stride-1 layers, else im2col) and the int8 direct conv, against ONNX Runtime running a one-Conv model of
/// the same shape and weights on one intra-op thread. Multiply a row by its count in the net (<see cref="Layers"/>) for
/// the whole-net sum.
/// </summary>
public class ResNetConvBenchmarks : IOperationCount
{
    /// <summary>Name → (shape, how many times ResNet-18 runs it).</summary>
    public static readonly IReadOnlyDictionary<string, (Conv2dShape Shape, int Count)> Layers = new Dictionary<string, (Conv2dShape, int)>
    {
        ["7x7s2 3-64 @224"] = (new(1, 3, 224, 224, 64, 112, 112, 7, 7, 2, 2, 3, 3, 1, 1, 1), 1),
        ["3x3 64-64 @56"] = (new(1, 64, 56, 56, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1), 4),
        ["3x3s2 64-128 @56"] = (new(1, 64, 56, 56, 128, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1),
        ["1x1s2 64-128 @56"] = (new(1, 64, 56, 56, 128, 28, 28, 1, 1, 2, 2, 0, 0, 1, 1, 1), 1),
        ["3x3 128-128 @28"] = (new(1, 128, 28, 28, 128, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1), 3),
        ["3x3s2 128-256 @28"] = (new(1, 128, 28, 28, 256, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1),
        ["1x1s2 128-256 @28"] = (new(1, 128, 28, 28, 256, 14, 14, 1, 1, 2, 2, 0, 0, 1, 1, 1), 1),
        ["3x3 256-256 @14"] = (new(1, 256, 14, 14, 256, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1), 3),
        ["3x3s2 256-512 @14"] = (new(1, 256, 14, 14, 512, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1),
        ["1x1s2 256-512 @14"] = (new(1, 256, 14, 14, 512, 7, 7, 1, 1, 2, 2, 0, 0, 1, 1, 1), 1),
        ["3x3 512-512 @7"] = (new(1, 512, 7, 7, 512, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1), 3),
    };

    [ParamsSource(nameof(LayerNames))]
    public string Layer { get; set; } = "";

    public static IEnumerable<string> LayerNames => Layers.Keys;

    private Conv2dShape _s;
    private bool _winograd;
    private float[] _x = null!, _y = null!, _bias = null!, _scratch = null!;
    private Memory<float> _w;
    private byte[] _xq = null!, _yq = null!, _scratchQ = null!;
    private Memory<sbyte> _wq;
    private int[] _biasQ = null!, _mult = null!, _shift = null!;
    private InferenceSession _session = null!;
    private OrtValue _xv = null!, _yv = null!;
    private RunOptions _runOptions = null!;

    public double Operations(string method)
    {
        var s = Layers[Layer].Shape;
        return 2.0 * s.OutChannels * s.OutHeight * s.OutWidth * s.InChannels * s.KernelHeight * s.KernelWidth;
    }

    [GlobalSetup]
    public void Setup()
    {
        _s = Layers[Layer].Shape;
        var rng = new Random(7);
        int inLength = _s.InChannels * _s.InHeight * _s.InWidth, outLength = _s.OutChannels * _s.OutHeight * _s.OutWidth;
        int weights = _s.OutChannels * _s.InChannels * _s.KernelHeight * _s.KernelWidth;
        _x = Data.Floats(rng, inLength);
        _y = new float[outLength];
        _bias = Data.Floats(rng, _s.OutChannels);
        var w = Data.Floats(rng, weights, 0.1f);
        // The lowering's choice (ConvLowerer.UseWinograd) for these shapes: Winograd on the wide 3×3 stride-1 layers.
        _winograd = WinogradConv2dF32.Supports(_s) && _s.InChannels * _s.OutChannels >= 64 * 64;
        if (_winograd)
        {
            _w = Data.Aligned<float>(WinogradConv2dF32.PackedWeightsLength(_s));
            WinogradConv2dF32.PackWeights(w, _s, _w.Span);
            _scratch = new float[WinogradConv2dF32.ScratchLength(_s)];
        }
        else
        {
            _w = Data.Aligned<float>(Conv2dF32.PackedWeightsLength(_s));
            Conv2dF32.PackWeights(w, _s, _w.Span);
            _scratch = new float[Math.Max(1, Conv2dF32.ScratchLength(_s))];
        }

        _xq = Data.Bytes(rng, inLength);
        _yq = new byte[outLength];
        var wq = Data.SBytes(rng, weights);
        _wq = Data.Aligned<sbyte>(QConv2dU8S8.PackedWeightsLength(_s));
        QConv2dU8S8.PackWeights(wq, _s, _wq.Span);
        _scratchQ = new byte[QConv2dU8S8.ScratchLength(_s)];
        _biasQ = new int[_s.OutChannels];
        _mult = new int[_s.OutChannels];
        _shift = new int[_s.OutChannels];
        for (int c = 0; c < _s.OutChannels; c++) (_mult[c], _shift[c]) = QuantMath.QuantizeMultiplier(0.0005);

        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(ConvModel(_s, w, _bias), options);
        _xv = OrtValue.CreateTensorValueFromMemory(_x, [1, _s.InChannels, _s.InHeight, _s.InWidth]);
        _yv = OrtValue.CreateTensorValueFromMemory(_y, [1, _s.OutChannels, _s.OutHeight, _s.OutWidth]);
        _runOptions = new RunOptions();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _xv.Dispose();
        _yv.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ORT fp32 Conv (1 thread)")]
    public void Ort() => _session.Run(_runOptions, ["x"], [_xv], ["y"], [_yv]);

    [Benchmark(Description = "fp32 (Winograd or im2col, as lowered)")]
    public void Fp32()
    {
        if (_winograd) WinogradConv2dF32.Run(_x, _w.Span, _bias, _y, _scratch, _s, FusedActivation.Relu);
        else Conv2dF32.Run(_x, _w.Span, _bias, _y, _scratch, _s, FusedActivation.Relu);
    }

    [Benchmark(Description = "int8 QConv2dU8S8")]
    public void Int8() => QConv2dU8S8.Run(_xq, _wq.Span, _biasQ, _mult, _shift, _yq, _scratchQ, _s, 3, new Requant(0, 0, 255));

    /// <summary>A one-node ONNX model (opset 13): Conv(x, W, B) with the shape's kernel, strides and pads.</summary>
    private static byte[] ConvModel(Conv2dShape s, float[] w, float[] bias)
    {
        var node = new NodeProto { OpType = "Conv", Name = "conv" };
        node.Input.Add(["x", "W", "B"]);
        node.Output.Add("y");
        int padBottom = Math.Max(0, (s.OutHeight - 1) * s.StrideHeight + s.KernelHeight - s.InHeight - s.PadTop);
        int padRight = Math.Max(0, (s.OutWidth - 1) * s.StrideWidth + s.KernelWidth - s.InWidth - s.PadLeft);
        node.Attribute.Add(Ints("kernel_shape", s.KernelHeight, s.KernelWidth));
        node.Attribute.Add(Ints("strides", s.StrideHeight, s.StrideWidth));
        node.Attribute.Add(Ints("pads", s.PadTop, s.PadLeft, padBottom, padRight));
        var graph = new GraphProto { Name = "conv" };
        graph.Node.Add(node);
        graph.Initializer.Add(Tensor("W", w, s.OutChannels, s.InChannels, s.KernelHeight, s.KernelWidth));
        graph.Initializer.Add(Tensor("B", bias, s.OutChannels));
        graph.Input.Add(Value("x", 1, s.InChannels, s.InHeight, s.InWidth));
        graph.Output.Add(Value("y", 1, s.OutChannels, s.OutHeight, s.OutWidth));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "Compress.Benchmarks" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();

        static AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.Add(values);
            return a;
        }

        static TensorProto Tensor(string name, float[] data, params long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
            t.Dims.Add(dims);
            return t;
        }

        static ValueInfoProto Value(string name, params long[] dims)
        {
            var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
            foreach (long d in dims) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
        }
    }
}
