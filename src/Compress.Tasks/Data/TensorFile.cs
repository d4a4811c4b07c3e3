using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Data;

/// <summary>
/// A batch of samples read from a data file: <see cref="Count"/> samples of <see cref="SampleLength"/> values each,
/// row-major. Reads NumPy <c>.npy</c> (format 1.0–3.0, C order; float32, float64, int8/uint8, int32, int64) and raw
/// little-endian <c>.f32</c> / <c>.u8</c> files (no header: the sample length comes from the model).
/// </summary>
public sealed record TensorFile(string Path, int Count, int SampleLength, double[] Values)
{
    public ReadOnlySpan<double> Sample(int i) => Values.AsSpan(i * SampleLength, SampleLength);

    public float[] SampleAsFloats(int i)
    {
        var s = Sample(i);
        var f = new float[s.Length];
        for (int j = 0; j < s.Length; j++) f[j] = (float)s[j];
        return f;
    }

    /// <summary>Reads float samples for a model input of <paramref name="sampleLength"/> values.</summary>
    public static TensorFile ReadSamples(string path, int sampleLength) => Read(path, sampleLength, expectLabels: false);

    /// <summary>Reads one integer class label per sample.</summary>
    public static TensorFile ReadLabels(string path) => Read(path, 1, expectLabels: true);

    static TensorFile Read(string path, int sampleLength, bool expectLabels)
    {
        if (!File.Exists(path))
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' does not exist. Check the path in the CompressModel metadata (relative paths are resolved from the project folder).", path);
        byte[] bytes = File.ReadAllBytes(path);
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".npy" => ReadNpy(path, bytes, sampleLength, expectLabels),
            ".f32" when !expectLabels => FromRaw(path, bytes, sampleLength, 4, (b, i) => BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(i * 4))),
            ".u8" when expectLabels => FromRaw(path, bytes, 1, 1, (b, i) => b[i]),
            _ => throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' has an unsupported format. Use a NumPy .npy file (first axis = samples), or raw little-endian {(expectLabels ? ".u8 labels" : ".f32 samples")}.", path),
        };
    }

    static TensorFile FromRaw(string path, byte[] bytes, int sampleLength, int elementSize, Func<byte[], int, double> read)
    {
        long stride = (long)sampleLength * elementSize;
        if (bytes.Length == 0 || bytes.Length % stride != 0)
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' holds {bytes.Length} bytes, which is not a whole number of samples of {sampleLength} values × {elementSize} bytes. Check that the file matches the model's input.", path);
        int count = (int)(bytes.Length / stride);
        var values = new double[count * sampleLength];
        for (int i = 0; i < values.Length; i++) values[i] = read(bytes, i);
        Validate(path, values);
        return new TensorFile(path, count, sampleLength, values);
    }

    // NumPy format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
    static TensorFile ReadNpy(string path, byte[] bytes, int sampleLength, bool expectLabels)
    {
        CompressException Bad(string why) => new(ErrorCodes.BadData, $"Data file '{path}' is not a readable .npy file: {why}.", path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw Bad("the NumPy magic bytes are missing");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3) { headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)); headerStart = 12; }
        else throw Bad($"format version {major} is not supported");
        if (headerStart + headerLength > bytes.Length) throw Bad("the header is truncated");
        string header = Encoding.UTF8.GetString(bytes, headerStart, headerLength);
        var descr = Regex.Match(header, @"'descr'\s*:\s*'([^']*)'");
        var fortran = Regex.Match(header, @"'fortran_order'\s*:\s*(True|False)");
        var shapeMatch = Regex.Match(header, @"'shape'\s*:\s*\(([^)]*)\)");
        if (!descr.Success || !fortran.Success || !shapeMatch.Success) throw Bad("the header has no descr/fortran_order/shape");
        if (fortran.Groups[1].Value == "True") throw Bad("Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        long[] shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        (int size, ElementReader read) = descr.Groups[1].Value switch
        {
            "<f4" => (4, new ElementReader(b => BinaryPrimitives.ReadSingleLittleEndian(b))),
            "<f8" => (8, new ElementReader(b => BinaryPrimitives.ReadDoubleLittleEndian(b))),
            "|u1" or "<u1" => (1, new ElementReader(b => b[0])),
            "|i1" or "<i1" => (1, new ElementReader(b => (sbyte)b[0])),
            "<i4" => (4, new ElementReader(b => BinaryPrimitives.ReadInt32LittleEndian(b))),
            "<i8" => (8, new ElementReader(b => BinaryPrimitives.ReadInt64LittleEndian(b))),
            string other => throw Bad($"dtype '{other}' is not supported (use float32 for samples, an integer type for labels)"),
        };
        bool isFloat = descr.Groups[1].Value.Contains('f');
        if (!expectLabels && !isFloat)
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' holds {descr.Groups[1].Value} values; model inputs need float32 samples (np.float32).", path);
        if (expectLabels && isFloat)
            throw new CompressException(ErrorCodes.BadData, $"Label file '{path}' holds floats; labels must be integers (e.g. np.uint8 or np.int64).", path);
        if (shape.Length == 0) throw Bad("it holds a scalar; the first axis must be the samples");
        long count = shape[0];
        long perSample = shape.Skip(1).Aggregate(1L, (a, d) => a * d);
        if (perSample != sampleLength)
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' has shape ({string.Join(", ", shape)}): {perSample} values per sample, but the model expects {sampleLength}. The first axis must be the samples and the rest must match the model's input.", path);
        long total = count * perSample;
        if (headerStart + headerLength + total * size != bytes.Length) throw Bad($"its data is {bytes.Length - headerStart - headerLength} bytes, not {total * size} as the shape says");
        var values = new double[total];
        int start = headerStart + headerLength;
        for (long i = 0; i < total; i++) values[i] = read(bytes.AsSpan(start + (int)(i * size), size));
        if (count == 0) throw Bad("it holds no samples");
        Validate(path, values);
        return new TensorFile(path, (int)count, sampleLength, values);
    }

    delegate double ElementReader(ReadOnlySpan<byte> bytes);

    static void Validate(string path, double[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' contains a non-finite value (NaN or infinity) at element {i}. Clean the data before using it for validation or calibration.", path);
    }
}
