using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Compress.Tasks.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Compress.Tasks.Data;

public sealed partial record TensorFile
{
    /// <summary>
    /// Opens a float32 data file for streaming: only its header is read now; each row (first axis = samples) is read
    /// from disk when asked for, so memory does not depend on the file's size. Formats: NumPy <c>.npy</c> (dtype
    /// <c>&lt;f4</c>, C order), an ONNX <c>TensorProto</c> <c>.pb</c> (FLOAT, data in <c>raw_data</c> or packed
    /// <c>float_data</c>), raw little-endian <c>.f32</c>.
    /// </summary>
    /// <param name="rowLength">Values per row: the model input's length; the file's dims after the first must multiply to it.</param>
    /// <exception cref="CompressException">CMP008 naming the file: missing, unreadable, not float32, wrong shape, or no rows.</exception>
    public static RowReader OpenRows(string path, int rowLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowLength);
        if (!File.Exists(path))
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' does not exist. Check the path in the CompressModel metadata (relative paths are resolved from the project folder).", path);
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        long fileLength = new FileInfo(path).Length;
        (long[] shape, long dataOffset, long dataBytes) = ext switch
        {
            ".npy" => NpyLayout(path, fileLength),
            ".pb" => TensorProtoLayout(path),
            ".f32" => RawLayout(path, fileLength, rowLength),
            _ => throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' has an unsupported format. Use a NumPy .npy file (float32, first axis = samples), an ONNX TensorProto .pb file, or raw little-endian .f32 samples.", path),
        };
        if (shape.Length == 0)
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' holds a scalar; the first axis must be the samples.", path);
        long perRow = 1;
        try { foreach (long d in shape.AsSpan(1)) perRow = checked(perRow * d); }
        catch (OverflowException) { perRow = -1; }
        if (perRow != rowLength)
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' has shape ({string.Join(", ", shape)}): {perRow} values per sample, but the model expects {rowLength}. " +
                "The first axis must be the samples and the rest must match the model's input.", path);
        long rows = shape[0];
        if (rows == 0) throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' holds no samples (its first axis is 0).", path);
        if (rows > int.MaxValue) throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' holds {rows} samples; at most {int.MaxValue} are supported.", path);
        if (dataBytes != rows * rowLength * (long)sizeof(float))
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' holds {dataBytes} bytes of data, but its shape ({string.Join(", ", shape)}) needs {rows * rowLength * (long)sizeof(float)}; the file may be truncated.", path);
        return new RowReader(path, shape, (int)rows, rowLength, dataOffset);
    }

    /// <summary>Float32 rows of a data file read on demand (<see cref="OpenRows"/>); holds an open file handle.</summary>
    public sealed class RowReader : IDisposable
    {
        readonly SafeFileHandle _handle;
        readonly long _dataOffset;

        internal RowReader(string path, long[] shape, int count, int rowLength, long dataOffset)
        {
            Path = path;
            Shape = shape;
            Count = count;
            RowLength = rowLength;
            _dataOffset = dataOffset;
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }

        /// <summary>The file.</summary>
        public string Path { get; }

        /// <summary>The dims stored in the file, first = samples.</summary>
        public IReadOnlyList<long> Shape { get; }

        /// <summary>Rows (samples) in the file.</summary>
        public int Count { get; }

        /// <summary>Values per row.</summary>
        public int RowLength { get; }

        /// <summary>Reads row <paramref name="index"/> into <paramref name="destination"/> (exactly <see cref="RowLength"/> long) without allocating.</summary>
        /// <exception cref="CompressException">CMP008 naming the file, row and element: the row holds NaN or infinity, or the file is shorter than its header says.</exception>
        public void ReadRow(int index, Span<float> destination)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            if (destination.Length != RowLength)
                throw new ArgumentException($"The destination has {destination.Length} values; a row has {RowLength}.", nameof(destination));
            var bytes = MemoryMarshal.AsBytes(destination);
            long offset = _dataOffset + (long)index * RowLength * sizeof(float);
            while (bytes.Length > 0)
            {
                int n = RandomAccess.Read(_handle, bytes, offset);
                if (n == 0)
                    throw new CompressException(ErrorCodes.BadData, $"Data file '{Path}' ends inside sample {index}; it is shorter than its header says (truncated?).", Path);
                bytes = bytes[n..];
                offset += n;
            }
            if (!BitConverter.IsLittleEndian)
            {
                var words = MemoryMarshal.Cast<float, int>(destination);
                BinaryPrimitives.ReverseEndianness(words, words);
            }
            for (int i = 0; i < destination.Length; i++)
                if (!float.IsFinite(destination[i]))
                    throw new CompressException(ErrorCodes.BadData,
                        $"Data file '{Path}' holds {destination[i]} at element {i} of sample {index}; samples must be finite. Clean the data before using it for calibration or validation.", Path);
        }

        public void Dispose() => _handle.Dispose();
    }

    static (long[] Shape, long DataOffset, long DataBytes) NpyLayout(string path, long fileLength)
    {
        NpyHeader npy;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096))
            npy = ReadNpyHeader(path, stream);
        if (npy.Descr is not ("<f4" or "=f4") || (npy.Descr == "=f4" && !BitConverter.IsLittleEndian))
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' holds dtype '{npy.Descr}', expected float32 ('<f4'). Save the samples with x.astype(np.float32).", path);
        return (npy.Shape, npy.DataOffset, fileLength - npy.DataOffset);
    }

    static (long[] Shape, long DataOffset, long DataBytes) RawLayout(string path, long fileLength, int rowLength)
    {
        long stride = (long)rowLength * sizeof(float);
        if (fileLength == 0 || stride == 0 || fileLength % stride != 0)
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' holds {fileLength} bytes, which is not a whole number of samples of {rowLength} float32 values. Check that the file matches the model's input.", path);
        return ([fileLength / stride, rowLength], 0, fileLength);
    }

    /// <summary>The name stored in a TensorProto <c>.pb</c> file (empty when it has none), read without its data.</summary>
    /// <exception cref="CompressException">CMP008: the file is not a readable TensorProto.</exception>
    public static string TensorProtoName(string path) => ScanTensorProto(path).Name;

    static (long[] Shape, long DataOffset, long DataBytes) TensorProtoLayout(string path)
    {
        var t = ScanTensorProto(path);
        if (t.DataType != 1)
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' holds a TensorProto of data type {TensorProtoTypeName(t.DataType)}, expected FLOAT (1).", path);
        if (t.External)
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' keeps its tensor data in an external file, which calibration data cannot use; save the data inside the .pb (raw_data).", path);
        if (t.DataOffset < 0)
        {
            if (t.Shape.Aggregate(1L, (a, d) => a * d) == 0) return (t.Shape, 0, 0);
            throw new CompressException(ErrorCodes.BadData,
                $"Data file '{path}' holds a TensorProto without raw_data or packed float_data{(t.UnpackedFloats ? " (its float_data is not packed)" : "")}; write it with onnx.numpy_helper.from_array, which uses raw_data.", path);
        }
        return (t.Shape, t.DataOffset, t.DataBytes);
    }

    static string TensorProtoTypeName(long type) => type switch
    {
        0 => "UNDEFINED (0)", 2 => "UINT8 (2)", 3 => "INT8 (3)", 6 => "INT32 (6)", 7 => "INT64 (7)", 10 => "FLOAT16 (10)", 11 => "DOUBLE (11)",
        16 => "BFLOAT16 (16)", _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    sealed record TensorProtoLayoutInfo(long[] Shape, long DataType, string Name, long DataOffset, long DataBytes, bool External, bool UnpackedFloats);

    /// <summary>
    /// Walks the top-level fields of a serialized <c>onnx.TensorProto</c> (protobuf wire format) without loading its
    /// data: dims (1), data_type (2), name (8), and where raw_data (9) or packed float_data (4) lies in the file, so rows
    /// can be read in place. A repeated raw_data keeps the last one, as protobuf parsers do.
    /// </summary>
    // Protobuf encoding: https://protobuf.dev/programming-guides/encoding/ ; fields: onnx/onnx.proto TensorProto
    static TensorProtoLayoutInfo ScanTensorProto(string path)
    {
        CompressException Bad(string why) => new(ErrorCodes.BadData, $"Data file '{path}' is not a readable ONNX TensorProto: {why}.", path);
        if (!File.Exists(path))
            throw new CompressException(ErrorCodes.BadData, $"Data file '{path}' does not exist.", path);
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096);
        long length = s.Length;
        var dims = new List<long>();
        long dataType = 0, dataOffset = -1, dataBytes = 0;
        string name = "";
        bool external = false, unpacked = false, floatData = false, rawData = false;

        ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                int b = s.ReadByte();
                if (b < 0) throw Bad("it ends inside a field");
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw Bad("a varint is longer than 10 bytes");
        }

        long Length()
        {
            ulong n = Varint();
            if (n > (ulong)(length - s.Position)) throw Bad("a field runs past the end of the file");
            return (long)n;
        }

        while (s.Position < length)
        {
            ulong key = Varint();
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (field, wire)
            {
                case (1, 0): dims.Add((long)Varint()); break;
                case (1, 2):
                {
                    long end = s.Position + Length();
                    while (s.Position < end) dims.Add((long)Varint());
                    break;
                }
                case (2, 0): dataType = (long)Varint(); break;
                case (8, 2):
                {
                    var bytes = new byte[Length()];
                    s.ReadExactly(bytes);
                    name = Encoding.UTF8.GetString(bytes);
                    break;
                }
                case (9, 2):
                    rawData = true;
                    dataBytes = Length();
                    dataOffset = s.Position;
                    s.Seek(dataBytes, SeekOrigin.Current);
                    break;
                case (4, 2):
                    if (floatData) throw Bad("its float_data is split in several runs");
                    floatData = true;
                    dataBytes = Length();
                    dataOffset = s.Position;
                    s.Seek(dataBytes, SeekOrigin.Current);
                    break;
                case (4, 5): unpacked = true; s.Seek(4, SeekOrigin.Current); break;
                case (14, 0): external = Varint() == 1; break;
                default:
                    switch (wire)
                    {
                        case 0: Varint(); break;
                        case 1: s.Seek(8, SeekOrigin.Current); break;
                        case 2: s.Seek(Length(), SeekOrigin.Current); break;
                        case 5: s.Seek(4, SeekOrigin.Current); break;
                        default: throw Bad($"field {field} has wire type {wire}, which TensorProto does not use");
                    }
                    break;
            }
            if (s.Position > length) throw Bad("it ends inside a field");
        }
        if (unpacked && floatData) throw Bad("its float_data mixes packed and unpacked runs");
        if (rawData && (floatData || unpacked)) throw Bad("it has both raw_data and float_data");
        if (dims.Any(d => d < 0)) throw Bad($"it has a negative dimension [{string.Join(",", dims)}]");
        if (unpacked) dataOffset = -1;
        return new TensorProtoLayoutInfo(dims.ToArray(), dataType, name, dataOffset, dataBytes, external, unpacked);
    }
}
