using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Compress.Tasks.Graph;

/// <summary>
/// Element sizes, byte conversion and element-wise access for <see cref="Tensor.Data"/>, following the storage
/// convention of <see cref="Tensor"/>: float[] Float, long[] Int64, int[] Int32, byte[] UInt8/Bool, sbyte[] Int8,
/// double[] Double, string[] String; every other type keeps its raw little-endian bytes in a byte[].
/// </summary>
public static class TensorData
{
    /// <summary>Bytes per element; 0 for String (variable) and for the packed 4-bit types (two per byte).</summary>
    public static int ElementSize(DataType type) => type switch
    {
        DataType.Float or DataType.Int32 or DataType.UInt32 => 4,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        DataType.UInt16 or DataType.Int16 or DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Int64 or DataType.Double or DataType.UInt64 => 8,
        (DataType)14 => 8,                                  // COMPLEX64
        (DataType)15 => 16,                                 // COMPLEX128
        (DataType)17 or (DataType)18 or (DataType)19 or (DataType)20 => 1, // FLOAT8 variants
        _ => 0,
    };

    /// <summary>Bytes needed for <paramref name="count"/> elements (packed 4-bit types round up); -1 for String.</summary>
    public static long ByteCount(DataType type, long count) => type switch
    {
        DataType.String => -1,
        (DataType)21 or (DataType)22 or (DataType)23 => (count + 1) / 2, // UINT4, INT4, FLOAT4E2M1
        _ when ElementSize(type) > 0 => count * ElementSize(type),
        _ => -1,
    };

    /// <summary>True when the IR holds this type in a typed array (one array element per tensor element).</summary>
    public static bool IsTypedStorage(DataType type) => type is DataType.Float or DataType.Int64 or DataType.Int32
        or DataType.UInt8 or DataType.Bool or DataType.Int8 or DataType.Double or DataType.String;

    /// <summary>Array elements per tensor element: the element size for types stored as raw bytes, else 1.</summary>
    public static int Stride(DataType type) => IsTypedStorage(type) ? 1 : Math.Max(1, ElementSize(type));

    public static bool IsFloatingPoint(DataType type) =>
        type is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    public static bool IsInteger(DataType type) => type is DataType.Int8 or DataType.UInt8 or DataType.Int16
        or DataType.UInt16 or DataType.Int32 or DataType.UInt32 or DataType.Int64 or DataType.UInt64 or DataType.Bool;

    /// <summary>An empty data array of the storage type for <paramref name="type"/> holding <paramref name="count"/> elements.</summary>
    public static Array Allocate(DataType type, long count) => type switch
    {
        DataType.Float => new float[count],
        DataType.Int64 => new long[count],
        DataType.Int32 => new int[count],
        DataType.UInt8 or DataType.Bool => new byte[count],
        DataType.Int8 => new sbyte[count],
        DataType.Double => new double[count],
        DataType.String => new string[count],
        _ when ByteCount(type, count) >= 0 => new byte[ByteCount(type, count)],
        _ => throw new NotSupportedException($"Tensors of type {type} are not supported."),
    };

    /// <summary>Decodes little-endian bytes (ONNX <c>raw_data</c> or external data) into the IR's storage array.</summary>
    public static Array FromBytes(DataType type, ReadOnlySpan<byte> bytes) => type switch
    {
        DataType.Float => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
        DataType.Int64 => MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
        DataType.Int32 => MemoryMarshal.Cast<byte, int>(bytes).ToArray(),
        DataType.Int8 => MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray(),
        DataType.Double => MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
        _ => bytes.ToArray(),
    };

    // The CLR lets a byte[] pass as sbyte[] (and int[] as uint[]) in type tests, so these helpers dispatch on the
    // element type, never on the array's runtime type.

    /// <summary>The tensor's data as little-endian bytes (what ONNX <c>raw_data</c> holds). Not for String tensors.</summary>
    public static byte[] ToBytes(Tensor tensor) => tensor.Type switch
    {
        DataType.Float => MemoryMarshal.AsBytes(((float[])tensor.Data).AsSpan()).ToArray(),
        DataType.Int64 => MemoryMarshal.AsBytes(((long[])tensor.Data).AsSpan()).ToArray(),
        DataType.Int32 => MemoryMarshal.AsBytes(((int[])tensor.Data).AsSpan()).ToArray(),
        DataType.Int8 => MemoryMarshal.AsBytes(((sbyte[])tensor.Data).AsSpan()).ToArray(),
        DataType.Double => MemoryMarshal.AsBytes(((double[])tensor.Data).AsSpan()).ToArray(),
        DataType.String => throw new NotSupportedException($"Tensor '{tensor.Name}' of type String has no byte form."),
        _ => (byte[])((byte[])tensor.Data).Clone(),
    };

    /// <summary>Every element widened to double (integers, floats, Float16, BFloat16, Bool).</summary>
    public static double[] ToDoubles(Tensor tensor)
    {
        long n = tensor.ElementCount;
        var result = new double[n];
        switch (tensor.Type)
        {
            case DataType.Float: { var a = (float[])tensor.Data; for (long i = 0; i < n; i++) result[i] = a[i]; break; }
            case DataType.Double: Array.Copy((double[])tensor.Data, result, n); break;
            case DataType.Int64: { var a = (long[])tensor.Data; for (long i = 0; i < n; i++) result[i] = a[i]; break; }
            case DataType.Int32: { var a = (int[])tensor.Data; for (long i = 0; i < n; i++) result[i] = a[i]; break; }
            case DataType.Int8: { var a = (sbyte[])tensor.Data; for (long i = 0; i < n; i++) result[i] = a[i]; break; }
            case DataType.UInt8 or DataType.Bool: { var a = (byte[])tensor.Data; for (long i = 0; i < n; i++) result[i] = a[i]; break; }
            default:
                var span = ((byte[])tensor.Data).AsSpan();
                for (int i = 0; i < n; i++)
                {
                    result[i] = tensor.Type switch
                    {
                        DataType.Float16 => (double)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..])),
                        DataType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]) << 16),
                        DataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]),
                        DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(span[(2 * i)..]),
                        DataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(span[(4 * i)..]),
                        DataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(span[(8 * i)..]),
                        _ => throw new NotSupportedException($"Tensor '{tensor.Name}' of type {tensor.Type} cannot be read as numbers."),
                    };
                }
                break;
        }
        return result;
    }

    /// <summary>Every element of an integer (or Bool) tensor as long, exactly; floating-point tensors are truncated.</summary>
    public static long[] ToInt64s(Tensor tensor) => tensor.Type switch
    {
        DataType.Int64 => (long[])tensor.Data,
        DataType.Int32 => Array.ConvertAll((int[])tensor.Data, v => (long)v),
        DataType.Int8 => Array.ConvertAll((sbyte[])tensor.Data, v => (long)v),
        DataType.UInt8 or DataType.Bool => Array.ConvertAll((byte[])tensor.Data, v => (long)v),
        DataType.UInt64 => MemoryMarshal.Cast<byte, long>((byte[])tensor.Data).ToArray(),
        _ => Array.ConvertAll(ToDoubles(tensor), v => (long)v),
    };

    /// <summary>Builds a tensor of <paramref name="type"/> from doubles, converting each element (saturating for integers).</summary>
    public static Tensor FromDoubles(string name, DataType type, ImmutableArray<long> dims, double[] values)
    {
        Array data = type switch
        {
            DataType.Float => Array.ConvertAll(values, v => (float)v),
            DataType.Double => values,
            DataType.Int64 => Array.ConvertAll(values, v => double.IsNaN(v) ? 0 : (long)v),
            DataType.Int32 => Array.ConvertAll(values, v => double.IsNaN(v) ? 0 : (int)Math.Clamp(v, int.MinValue, int.MaxValue)),
            DataType.Int8 => Array.ConvertAll(values, v => double.IsNaN(v) ? (sbyte)0 : (sbyte)Math.Clamp(v, sbyte.MinValue, sbyte.MaxValue)),
            DataType.UInt8 => Array.ConvertAll(values, v => double.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(v, 0, byte.MaxValue)),
            DataType.Bool => Array.ConvertAll(values, v => v != 0 ? (byte)1 : (byte)0),
            DataType.Float16 => HalfBytes(values),
            _ => throw new NotSupportedException($"Cannot build a {type} tensor from numbers."),
        };
        return new Tensor(name, type, dims, data);
    }

    /// <summary>Builds a tensor of an integer <paramref name="type"/> from longs (wrapping like a C cast).</summary>
    public static Tensor FromInt64s(string name, DataType type, ImmutableArray<long> dims, long[] values) => type switch
    {
        DataType.Int64 => new Tensor(name, type, dims, values),
        DataType.Int32 => new Tensor(name, type, dims, Array.ConvertAll(values, v => (int)v)),
        DataType.Int8 => new Tensor(name, type, dims, Array.ConvertAll(values, v => (sbyte)v)),
        DataType.UInt8 => new Tensor(name, type, dims, Array.ConvertAll(values, v => (byte)v)),
        DataType.Bool => new Tensor(name, type, dims, Array.ConvertAll(values, v => v != 0 ? (byte)1 : (byte)0)),
        _ => FromDoubles(name, type, dims, Array.ConvertAll(values, v => (double)v)),
    };

    static byte[] HalfBytes(double[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)values[i]));
        return bytes;
    }

    /// <summary>Row-major strides (in elements) of a shape.</summary>
    public static long[] Strides(IReadOnlyList<long> dims)
    {
        var strides = new long[dims.Count];
        long s = 1;
        for (int i = dims.Count - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= dims[i];
        }
        return strides;
    }

    /// <summary>
    /// For each element of the broadcast <paramref name="outDims"/>, the index of the element it reads in a tensor
    /// of <paramref name="dims"/> under numpy broadcasting (dims aligned at the right, size-1 dims repeated).
    /// </summary>
    public static long[] BroadcastIndices(IReadOnlyList<long> dims, IReadOnlyList<long> outDims)
    {
        long count = outDims.Aggregate(1L, (a, d) => a * d);
        var result = new long[count];
        int offset = outDims.Count - dims.Count;
        var inStrides = Strides(dims);
        var index = new long[outDims.Count];
        for (long i = 0; i < count; i++)
        {
            long src = 0;
            for (int a = offset; a < outDims.Count; a++)
                if (dims[a - offset] != 1) src += index[a] * inStrides[a - offset];
            result[i] = src;
            for (int a = outDims.Count - 1; a >= 0; a--)
            {
                if (++index[a] < outDims[a]) break;
                index[a] = 0;
            }
        }
        return result;
    }
}
