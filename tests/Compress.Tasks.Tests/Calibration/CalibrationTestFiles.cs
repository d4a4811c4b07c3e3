using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Passes;
using Google.Protobuf;

namespace Compress.Tasks.Tests.Calibration;

/// <summary>Writes the data files calibration reads (.npy, TensorProto .pb) and lowers the sample models.</summary>
internal static class CalibrationTestFiles
{
    /// <summary>A NumPy 1.0 file; <paramref name="descr"/> other than &lt;f4 writes the floats' bytes as they are (for dtype errors).</summary>
    public static string WriteNpy(string path, float[] data, long[] shape, string descr = "<f4")
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var f = File.Create(path);
        f.Write([0x93, .. "NUMPY"u8, 1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        f.Write(len);
        f.Write(Encoding.ASCII.GetBytes(header));
        var bytes = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
        f.Write(bytes);
        return path;
    }

    /// <summary>An ONNX TensorProto, data in raw_data (as onnx.numpy_helper writes it) or in packed float_data.</summary>
    public static string WritePb(string path, float[] data, long[] shape, string name = "", bool raw = true,
        TensorProto.Types.DataType type = TensorProto.Types.DataType.Float)
    {
        var t = new TensorProto { DataType = (int)type };
        if (name.Length > 0) t.Name = name;
        t.Dims.AddRange(shape);
        if (raw)
        {
            var bytes = new byte[data.Length * 4];
            for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
            t.RawData = ByteString.CopyFrom(bytes);
        }
        else t.FloatData.AddRange(data);
        File.WriteAllBytes(path, t.ToByteArray());
        return path;
    }

    public static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "models", name + ".onnx");

    /// <summary>The 256 digits calibration samples (256 × 64 float32).</summary>
    public static string CalibrationNpy => Path.Combine(AppContext.BaseDirectory, "data", "digits_calib_x.npy");

    /// <summary>A sample model read, canonicalised and lowered to fp32, as the build does.</summary>
    public static LoweredModel Lower(string model)
    {
        var loaded = OnnxModelReader.Load(Model(model));
        var canonical = CanonicalPipeline.Run(loaded.Graph, new PassLog());
        return ModelLowering.Lower(canonical, new LoweringOptions { ClassName = "M", Namespace = "T", SourceFile = model + ".onnx" });
    }

    /// <summary>The canonical graph of a sample model.</summary>
    public static global::Compress.Tasks.Graph.Graph Canonical(string model) =>
        CanonicalPipeline.Run(OnnxModelReader.Load(Model(model)).Graph, new PassLog());

    /// <summary>Deterministic standard normal samples (Box–Muller).</summary>
    public static float[] Gaussian(int count, int seed, double sigma = 1)
    {
        var r = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
            x[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }
}
