using System.Runtime.InteropServices;
using System.Text;

namespace ImageFeatures;

/// <summary>
/// The evaluation images: 16 seeded synthetic photographs written at build time by samples/SyntheticImages and
/// already preprocessed as ML.NET's DnnImageFeaturizer preprocesses them (its ResNetPreprocess.onnx: planar RGB 0–255
/// → BGR minus the ImageNet mean image), i.e. exactly what ResNet18.onnx takes.
/// </summary>
public static class Images
{
    public const int Channels = 3;
    public const int Height = 224;
    public const int Width = 224;
    public const int Length = Channels * Height * Width;

    /// <summary>Reads a float32 .npy file of [count, 3, 224, 224] tensors (NumPy format 1.0, little-endian, C order).</summary>
    public static float[] ReadNpy(string path, out int count)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"'{path}' is not a .npy file.");
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        if (!header.Contains("'<f4'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
            throw new InvalidDataException($"'{path}' is not a C-order float32 .npy file: {header.Trim()}");
        var data = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(10 + headerLength)).ToArray();
        if (data.Length == 0 || data.Length % Length != 0)
            throw new InvalidDataException($"'{path}' holds {data.Length} floats, not a whole number of [3, 224, 224] images.");
        count = data.Length / Length;
        return data;
    }
}

/// <summary>The model's output: 512 features (the global-average-pooled last residual stage).</summary>
public static class Features
{
    public const int Length = 512;

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(aa * bb);
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
