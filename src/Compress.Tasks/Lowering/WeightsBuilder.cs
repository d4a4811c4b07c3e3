using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Compress.Tasks.Lowering;

/// <summary>
/// Builds the weights blob: every tensor little-endian at a 64-byte-aligned byte offset (shift records: unaligned, see
/// <see cref="AddU8Unaligned"/>), identical tensors stored
/// once (compared by content: a SHA-256 key, then the bytes).
/// </summary>
internal sealed class WeightsBuilder
{
    /// <summary>Byte alignment of every tensor in the blob.</summary>
    public const int AlignmentBytes = 64;

    readonly MemoryStream _blob = new();
    readonly Dictionary<string, List<(int ByteOffset, int ByteLength)>> _byHash = new(StringComparer.Ordinal);

    /// <summary>Tensors added, counting duplicates.</summary>
    public int Added { get; private set; }

    /// <summary>Tensors actually stored.</summary>
    public int Stored { get; private set; }

    /// <summary>Adds float32 data; returns its offset in floats (the <c>f32</c> view of the blob).</summary>
    public int AddF32(ReadOnlySpan<float> data)
    {
        var bytes = new byte[checked(data.Length * sizeof(float))];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        return Add(bytes) / sizeof(float);
    }

    /// <summary>Adds signed bytes; returns their offset in bytes (the <c>i8</c> view).</summary>
    public int AddI8(ReadOnlySpan<sbyte> data) => Add(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).ToArray());

    /// <summary>Adds bytes; returns their offset (the <c>u8</c> view).</summary>
    public int AddU8(ReadOnlySpan<byte> data) => Add(data.ToArray());

    /// <summary>
    /// Adds bytes right after the previous tensor, without alignment; returns their offset. For data a kernel reads
    /// once, byte by byte (a shift layer's record, prepared into aligned arena memory on first use), where padding to
    /// a cache line would cost more than the data on small layers.
    /// </summary>
    public int AddU8Unaligned(ReadOnlySpan<byte> data) => Add(data.ToArray(), alignment: 1);

    /// <summary>Adds unsigned 16-bit integers; returns their offset in ushorts (the <c>u16</c> view).</summary>
    public int AddU16(ReadOnlySpan<ushort> data)
    {
        var bytes = new byte[checked(data.Length * sizeof(ushort))];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * sizeof(ushort)), data[i]);
        return Add(bytes) / sizeof(ushort);
    }

    /// <summary>Adds 32-bit integers; returns their offset in ints (the <c>i32</c> view).</summary>
    public int AddI32(ReadOnlySpan<int> data)
    {
        var bytes = new byte[checked(data.Length * sizeof(int))];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * sizeof(int)), data[i]);
        return Add(bytes) / sizeof(int);
    }

    int Add(byte[] bytes, int alignment = AlignmentBytes)
    {
        Added++;
        string key = Convert.ToHexString(SHA256.HashData(bytes));
        if (_byHash.TryGetValue(key, out var candidates))
            foreach (var (offset, length) in candidates)
                if (length == bytes.Length && _blob.GetBuffer().AsSpan(offset, length).SequenceEqual(bytes))
                    return offset;
        int aligned = checked((int)((_blob.Length + alignment - 1) / alignment * alignment));
        _blob.SetLength(aligned);
        _blob.Position = aligned;
        _blob.Write(bytes);
        (candidates ??= _byHash[key] = []).Add((aligned, bytes.Length));
        Stored++;
        return aligned;
    }

    public byte[] ToArray() => _blob.ToArray();
}
