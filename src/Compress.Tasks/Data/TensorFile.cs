using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Data;

/// <summary>
/// A batch of samples read from a data file: <see cref="Count"/> samples of <see cref="SampleLength"/> values each,
/// row-major. Reads NumPy <c>.npy</c> (format 1.0–3.0, C order; float32, float64, int8/uint8, int32, int64) and raw
/// little-endian <c>.f32</c> / <c>.u8</c> files (no header: the sample length comes from the model). For data too
/// large to hold, <see cref="OpenRows"/> streams float32 samples one at a time instead (TensorFile.Rows.cs).
/// </summary>
public sealed partial record TensorFile(string Path, int Count, int SampleLength, double[] Values)
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
        CompressException Bad(string why) => NotNpy(path, why);
        var npy = ReadNpyHeader(path, new MemoryStream(bytes, writable: false));
        long[] shape = npy.Shape;
        (int size, ElementReader read) = npy.Descr switch
        {
            "<f4" => (4, new ElementReader(b => BinaryPrimitives.ReadSingleLittleEndian(b))),
            "<f8" => (8, new ElementReader(b => BinaryPrimitives.ReadDoubleLittleEndian(b))),
            "|u1" or "<u1" => (1, new ElementReader(b => b[0])),
            "|i1" or "<i1" => (1, new ElementReader(b => (sbyte)b[0])),
            "<i4" => (4, new ElementReader(b => BinaryPrimitives.ReadInt32LittleEndian(b))),
            "<i8" => (8, new ElementReader(b => BinaryPrimitives.ReadInt64LittleEndian(b))),
            string other => throw Bad($"dtype '{other}' is not supported (use float32 for samples, an integer type for labels)"),
        };
        bool isFloat = npy.Descr.Contains('f');
        if (!expectLabels && !isFloat)
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' holds {npy.Descr} values; model inputs need float32 samples (np.float32).", path);
        if (expectLabels && isFloat)
            throw new CompressException(ErrorCodes.BadData, $"Label file '{path}' holds floats; labels must be integers (e.g. np.uint8 or np.int64).", path);
        if (shape.Length == 0) throw Bad("it holds a scalar; the first axis must be the samples");
        long count = shape[0];
        long perSample = shape.Skip(1).Aggregate(1L, (a, d) => a * d);
        if (perSample != sampleLength)
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' has shape ({string.Join(", ", shape)}): {perSample} values per sample, but the model expects {sampleLength}. The first axis must be the samples and the rest must match the model's input.", path);
        long total = count * perSample;
        if (npy.DataOffset + total * size != bytes.Length) throw Bad($"its data is {bytes.Length - npy.DataOffset} bytes, not {total * size} as the shape says");
        var values = new double[total];
        int start = (int)npy.DataOffset;
        for (long i = 0; i < total; i++) values[i] = read(bytes.AsSpan(start + (int)(i * size), size));
        if (count == 0) throw Bad("it holds no samples");
        Validate(path, values);
        return new TensorFile(path, (int)count, sampleLength, values);
    }

    delegate double ElementReader(ReadOnlySpan<byte> bytes);

    /// <summary>The header of a <c>.npy</c> file: dtype string (<c>"&lt;f4"</c>), shape, and where the data starts.</summary>
    internal sealed record NpyHeader(string Descr, long[] Shape, long DataOffset);

    static CompressException NotNpy(string path, string why) => new(ErrorCodes.BadData, $"Data file '{path}' is not a readable .npy file: {why}.", path);

    /// <summary>Reads the magic, version and header dict of a <c>.npy</c> file from the start of <paramref name="stream"/>.</summary>
    // NumPy format 1.0–3.0: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
    internal static NpyHeader ReadNpyHeader(string path, Stream stream)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < 10 || prefix[0] != 0x93 || !prefix.Slice(1, 5).SequenceEqual("NUMPY"u8)) throw NotNpy(path, "the NumPy magic bytes are missing");
        int major = prefix[6];
        long headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]); headerStart = 10; }
        else if (major is 2 or 3)
        {
            if (got < 12) throw NotNpy(path, "the header is truncated");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            headerStart = 12;
        }
        else throw NotNpy(path, $"format version {major} is not supported");
        if (headerLength > 1 << 20) throw NotNpy(path, $"the header claims {headerLength} bytes");
        var header = new byte[headerLength];
        stream.Position = headerStart;
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) != header.Length) throw NotNpy(path, "the header is truncated");
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(header);
        var descr = Regex.Match(text, @"'descr'\s*:\s*'([^']*)'");
        var fortran = Regex.Match(text, @"'fortran_order'\s*:\s*(True|False)");
        var shapeMatch = Regex.Match(text, @"'shape'\s*:\s*\(([^)]*)\)");
        if (!descr.Success || !fortran.Success || !shapeMatch.Success) throw NotNpy(path, "the header has no descr/fortran_order/shape");
        if (fortran.Groups[1].Value == "True") throw NotNpy(path, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        long[] shape;
        try
        {
            shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw NotNpy(path, $"the shape ({shapeMatch.Groups[1].Value}) is not a tuple of sizes");
        }
        return new NpyHeader(descr.Groups[1].Value, shape, headerStart + headerLength);
    }

    static void Validate(string path, double[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' contains a non-finite value (NaN or infinity) at element {i}. Clean the data before using it for validation or calibration.", path);
    }
}
