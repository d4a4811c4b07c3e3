using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Tasks.Onnx;

/// <summary>
/// Conversion between ONNX protobuf messages and the graph IR, one value at a time: tensors (raw, typed, external
/// and sparse data), attributes and value infos. <see cref="OnnxModelReader"/> and <see cref="OnnxModelWriter"/>
/// assemble whole models from these.
/// </summary>
public static class OnnxConvert
{
    /// <summary>
    /// A tensor from its ONNX form: <c>raw_data</c>, the typed fields (<c>float_data</c>, <c>int32_data</c>,
    /// <c>int64_data</c>, <c>double_data</c>, <c>uint64_data</c>, <c>string_data</c>) or external data read from a file
    /// inside <paramref name="modelDirectory"/>.
    /// </summary>
    /// <param name="modelDirectory">The model's folder, for external data; null when the model was not loaded from a file.</param>
    /// <param name="file">The model file, named in errors.</param>
    /// <exception cref="CompressException">CMP002 for inconsistent data, CMP003 for bad external data.</exception>
    public static Tensor ToTensor(TensorProto proto, string? modelDirectory, string file, string? name = null)
    {
        name ??= proto.Name;
        var type = (DataType)proto.DataType;
        if (type == DataType.Undefined) throw Corrupt(file, $"tensor '{name}' has no data type");
        var dims = proto.Dims.ToImmutableArray();
        if (dims.Any(d => d < 0)) throw Corrupt(file, $"tensor '{name}' has a negative dimension [{string.Join(",", dims)}]");
        long count;
        try { count = dims.Aggregate(1L, (a, d) => checked(a * d)); }
        catch (OverflowException) { throw Corrupt(file, $"tensor '{name}' has dimensions [{string.Join(",", dims)}] too large to hold"); }
        if (proto.Segment is not null) throw Corrupt(file, $"tensor '{name}' is stored in segments, which Compress does not support");

        if (proto.HasDataLocation && proto.DataLocation == TensorProto.Types.DataLocation.External)
            return new Tensor(name, type, dims, FromBytes(ReadExternal(proto, name, type, count, modelDirectory, file), name, type, count, file, "external data"));
        if (proto.HasRawData)
            return new Tensor(name, type, dims, FromBytes(proto.RawData.Span, name, type, count, file, "raw_data"));
        return new Tensor(name, type, dims, FromTypedFields(proto, name, type, count, file));
    }

    static Array FromBytes(ReadOnlySpan<byte> bytes, string name, DataType type, long count, string file, string source)
    {
        long expected = TensorData.ByteCount(type, count);
        if (expected < 0) throw Corrupt(file, $"tensor '{name}' of type {type} cannot be stored in {source}");
        if (bytes.Length != expected)
            throw Corrupt(file, $"tensor '{name}' ({type}, {count} elements) has {bytes.Length} bytes of {source}, expected {expected}; the file may be truncated or corrupt");
        return TensorData.FromBytes(type, bytes);
    }

    static Array FromTypedFields(TensorProto p, string name, DataType type, long count, string file)
    {
        void Check(int actual, long expected, string field)
        {
            if (actual != expected)
                throw Corrupt(file, actual == 0
                    ? $"tensor '{name}' ({type}, {count} elements) has no data"
                    : $"tensor '{name}' ({type}, {count} elements) has {actual} values in {field}, expected {expected}");
        }
        switch (type)
        {
            case DataType.Float:
                Check(p.FloatData.Count, count, "float_data");
                return p.FloatData.ToArray();
            case (DataType)14: // COMPLEX64: pairs of floats
                Check(p.FloatData.Count, 2 * count, "float_data");
                return MemoryMarshal.AsBytes(p.FloatData.ToArray().AsSpan()).ToArray();
            case DataType.Double:
                Check(p.DoubleData.Count, count, "double_data");
                return p.DoubleData.ToArray();
            case (DataType)15: // COMPLEX128: pairs of doubles
                Check(p.DoubleData.Count, 2 * count, "double_data");
                return MemoryMarshal.AsBytes(p.DoubleData.ToArray().AsSpan()).ToArray();
            case DataType.Int64:
                Check(p.Int64Data.Count, count, "int64_data");
                return p.Int64Data.ToArray();
            case DataType.Int32:
                Check(p.Int32Data.Count, count, "int32_data");
                return p.Int32Data.ToArray();
            case DataType.Int8:
                Check(p.Int32Data.Count, count, "int32_data");
                return p.Int32Data.Select(v => (sbyte)v).ToArray();
            case DataType.UInt8 or DataType.Bool or (DataType)17 or (DataType)18 or (DataType)19 or (DataType)20:
                Check(p.Int32Data.Count, count, "int32_data");
                return p.Int32Data.Select(v => (byte)v).ToArray();
            case DataType.Int16 or DataType.UInt16 or DataType.Float16 or DataType.BFloat16:
                Check(p.Int32Data.Count, count, "int32_data");
                return MemoryMarshal.AsBytes(p.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()).ToArray();
            case DataType.UInt32:
                Check(p.Uint64Data.Count, count, "uint64_data");
                return MemoryMarshal.AsBytes(p.Uint64Data.Select(v => (uint)v).ToArray().AsSpan()).ToArray();
            case DataType.UInt64:
                Check(p.Uint64Data.Count, count, "uint64_data");
                return MemoryMarshal.AsBytes(p.Uint64Data.ToArray().AsSpan()).ToArray();
            case DataType.String:
                Check(p.StringData.Count, count, "string_data");
                return p.StringData.Select(s => s.ToStringUtf8()).ToArray();
            default:
                if (count == 0) return TensorData.Allocate(type, 0);
                throw Corrupt(file, $"tensor '{name}' of type {type} must store its data in raw_data");
        }
    }

    static byte[] ReadExternal(TensorProto p, string name, DataType type, long count, string? modelDirectory, string file)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in p.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset" when !long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out offset):
                case "length" when !long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out length):
                    throw External(file, $"Tensor '{name}' has an invalid external data {entry.Key} '{entry.Value}' (expected a non-negative integer). Re-save the model.");
            }
        }
        if (string.IsNullOrEmpty(location))
            throw External(file, $"Tensor '{name}' is marked as external data but has no 'location'. Re-save the model with its weights inside the .onnx file or next to it.");
        if (modelDirectory is null)
            throw External(file, $"Tensor '{name}' keeps its data in the external file '{location}', which can only be found when the model is loaded from a file.");

        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDirectory)) + Path.DirectorySeparatorChar;
        bool escapes = Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\')
            || location.Split('/', '\\').Contains("..");
        string full = escapes ? location : Path.GetFullPath(Path.Combine(root, location));
        if (escapes || !full.StartsWith(root, StringComparison.Ordinal))
            throw External(file, $"Tensor '{name}' keeps its data at external location '{location}', which is outside the model's folder '{root}'. " +
                "For safety Compress reads external data only from files inside the folder of the .onnx file: move the data file next to the model " +
                "and save the model again with a relative location (e.g. onnx.save_model(..., save_as_external_data=True, location=\"weights.bin\")).");
        if (!File.Exists(full))
            throw External(full, $"Tensor '{name}' keeps its data in '{location}' (resolved to '{full}'), which does not exist. Copy the data file next to the model.");

        long expected = TensorData.ByteCount(type, count);
        if (expected < 0) throw Corrupt(file, $"tensor '{name}' of type {type} cannot be stored as external data");
        if (length < 0) length = expected;
        if (length != expected)
            throw External(full, $"Tensor '{name}' ({type}, {count} elements) declares {length} bytes of external data in '{location}', expected {expected}. Re-save the model.");
        try
        {
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (offset + length > stream.Length)
                throw External(full, $"Tensor '{name}' reads bytes {offset}..{offset + length} of '{location}', but the file has only {stream.Length} bytes; it is truncated or belongs to another model.");
            stream.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[length];
            stream.ReadExactly(buffer);
            return buffer;
        }
        catch (IOException e)
        {
            throw new CompressException(ErrorCodes.ExternalData, $"Tensor '{name}': cannot read external data '{location}': {e.Message}", full, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CompressException(ErrorCodes.ExternalData, $"Tensor '{name}': cannot read external data '{location}': {e.Message}", full, e);
        }
    }

    /// <summary>A sparse initializer as a dense tensor (values scattered by linear or coordinate indices, zeros elsewhere).</summary>
    public static Tensor ToTensor(SparseTensorProto sparse, string? modelDirectory, string file)
    {
        if (sparse.Values is null || sparse.Indices is null) throw Corrupt(file, "a sparse initializer has no values or indices");
        var values = ToTensor(sparse.Values, modelDirectory, file);
        var indices = TensorData.ToInt64s(ToTensor(sparse.Indices, modelDirectory, file));
        string name = values.Name;
        var dims = sparse.Dims.ToImmutableArray();
        long count = dims.Aggregate(1L, (a, d) => a * d), nnz = values.ElementCount;
        var strides = TensorData.Strides(dims);
        var dense = TensorData.Allocate(values.Type, count);
        int stride = TensorData.Stride(values.Type);
        bool coordinates = indices.Length == nnz * dims.Length && dims.Length > 1;
        if (!coordinates && indices.Length != nnz) throw Corrupt(file, $"sparse initializer '{name}' has {indices.Length} indices for {nnz} values");
        for (long i = 0; i < nnz; i++)
        {
            long at = 0;
            if (coordinates)
                for (int d = 0; d < dims.Length; d++) at += indices[i * dims.Length + d] * strides[d];
            else at = indices[i];
            if (at < 0 || at >= count) throw Corrupt(file, $"sparse initializer '{name}' has an index out of range");
            Array.Copy(values.Data, i * stride, dense, at * stride, stride);
        }
        return new Tensor(name, values.Type, dims, dense);
    }

    /// <summary>A tensor in ONNX form: numeric data as little-endian <c>raw_data</c>, strings in <c>string_data</c>.</summary>
    public static TensorProto ToProto(Tensor tensor)
    {
        var p = new TensorProto { DataType = (int)tensor.Type };
        if (tensor.Name.Length > 0) p.Name = tensor.Name;
        p.Dims.AddRange(tensor.Dims);
        if (tensor.Data is string[] strings) p.StringData.AddRange(strings.Select(ByteString.CopyFromUtf8));
        else p.RawData = ByteString.CopyFrom(TensorData.ToBytes(tensor));
        return p;
    }

    /// <summary>An attribute from its ONNX form; kinds the IR does not model become <see cref="AttributeKind.Opaque"/>.</summary>
    public static AttributeValue ToAttribute(AttributeProto a, string? modelDirectory, string file)
    {
        var type = a.HasType ? a.Type : InferType(a);
        return type switch
        {
            AttributeProto.Types.AttributeType.Float => AttributeValue.Of(a.F),
            AttributeProto.Types.AttributeType.Int => AttributeValue.Of(a.I),
            AttributeProto.Types.AttributeType.String => AttributeValue.Of(a.S.ToStringUtf8()),
            AttributeProto.Types.AttributeType.Tensor when a.T is not null => AttributeValue.Of(ToTensor(a.T, modelDirectory, file)),
            AttributeProto.Types.AttributeType.Graph when a.G is not null => new AttributeValue(AttributeKind.Graph) { GraphBytes = a.G.ToByteArray() },
            AttributeProto.Types.AttributeType.Floats => AttributeValue.Of(a.Floats.ToArray()),
            AttributeProto.Types.AttributeType.Ints => AttributeValue.Of(a.Ints.ToArray()),
            AttributeProto.Types.AttributeType.Strings => new AttributeValue(AttributeKind.Strings)
            {
                Strings = a.Strings.Select(s => s.ToStringUtf8()).ToImmutableArray(),
            },
            _ => new AttributeValue(AttributeKind.Opaque) { OpaqueBytes = a.ToByteArray() },
        };
    }

    /// <summary>IR version 1 had no type discriminator: the kind follows from the field that is set.</summary>
    static AttributeProto.Types.AttributeType InferType(AttributeProto a) =>
        a.HasF ? AttributeProto.Types.AttributeType.Float
        : a.HasI ? AttributeProto.Types.AttributeType.Int
        : a.HasS ? AttributeProto.Types.AttributeType.String
        : a.T is not null ? AttributeProto.Types.AttributeType.Tensor
        : a.G is not null ? AttributeProto.Types.AttributeType.Graph
        : a.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats
        : a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints
        : a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings
        : AttributeProto.Types.AttributeType.Undefined;

    /// <summary>An attribute in ONNX form.</summary>
    public static AttributeProto ToProto(string name, AttributeValue value)
    {
        var p = new AttributeProto();
        switch (value.Kind)
        {
            case AttributeKind.Float: p.Type = AttributeProto.Types.AttributeType.Float; p.F = value.Float; break;
            case AttributeKind.Int: p.Type = AttributeProto.Types.AttributeType.Int; p.I = value.Int; break;
            case AttributeKind.String: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(value.String ?? ""); break;
            case AttributeKind.Tensor: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = ToProto(value.Tensor!); break;
            case AttributeKind.Floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(value.Floats); break;
            case AttributeKind.Ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(value.Ints); break;
            case AttributeKind.Strings: p.Type = AttributeProto.Types.AttributeType.Strings; p.Strings.AddRange(value.Strings.Select(ByteString.CopyFromUtf8)); break;
            case AttributeKind.Graph: p.Type = AttributeProto.Types.AttributeType.Graph; p.G = GraphProto.Parser.ParseFrom(value.GraphBytes.Span); break;
            case AttributeKind.Opaque: p = AttributeProto.Parser.ParseFrom(value.OpaqueBytes.Span); break;
        }
        p.Name = name;
        return p;
    }

    /// <summary>The element type and shape of a value; non-tensor types give <see cref="DataType.Undefined"/> and no shape.</summary>
    public static ValueInfo ToValueInfo(ValueInfoProto v)
    {
        if (v.Type?.TensorType is not { } tensor) return new ValueInfo(v.Name, DataType.Undefined, null);
        Shape? shape = tensor.Shape is null ? null : new Shape(tensor.Shape.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 => Dim.Known(d.DimValue),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => Dim.Symbolic(d.DimParam),
            _ => new Dim(-1),
        }).ToImmutableArray());
        return new ValueInfo(v.Name, (DataType)tensor.ElemType, shape);
    }

    /// <summary>A value info in ONNX form: a tensor type, known dims as dim_value, symbols as dim_param.</summary>
    public static ValueInfoProto ToProto(ValueInfo v)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)v.Type };
        if (v.Shape is { } shape)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var d in shape.Dims)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.IsKnown) dim.DimValue = d.Value;
                else if (d.Symbol is { Length: > 0 } s && s != "?") dim.DimParam = s;
                tensor.Shape.Dim.Add(dim);
            }
        }
        return new ValueInfoProto { Name = v.Name, Type = new TypeProto { TensorType = tensor } };
    }

    internal static CompressException Corrupt(string file, string message) =>
        new(ErrorCodes.ModelCorrupt, $"'{file}' is not a valid ONNX model: {message}.", file);

    static CompressException External(string file, string message) => new(ErrorCodes.ExternalData, message, file);
}
