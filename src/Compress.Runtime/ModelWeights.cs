using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime;

/// <summary>
/// A model's constants: the raw little-endian blob embedded in the user's assembly, copied once per process into a
/// pinned, 64-byte-aligned buffer that lives as long as the process, and viewed as floats, bytes or ints.
/// Tensor offsets in the blob are multiples of 64 bytes, so every tensor starts on a cache line (except shift records,
/// which kernels read once, byte by byte: <see cref="Kernels.ShiftRecord"/>).
/// </summary>
public sealed class ModelWeights
{
    private static readonly ConcurrentDictionary<(Assembly, string), ModelWeights> s_loaded = new();

    private readonly byte[] _buffer;
    private readonly int _offset;

    private ModelWeights(ReadOnlySpan<byte> bytes)
    {
        // 64 spare bytes give room to move the start to the next 64-byte boundary; pinned so the address never moves.
        _buffer = GC.AllocateUninitializedArray<byte>(bytes.Length + 64, pinned: true);
        _offset = AlignedOffset.Of(ref MemoryMarshal.GetArrayDataReference(_buffer), 1);
        ByteLength = bytes.Length;
        bytes.CopyTo(_buffer.AsSpan(_offset, bytes.Length));
    }

    /// <summary>
    /// Reads the manifest resource <paramref name="resourceName"/> of <paramref name="assembly"/> (once per process:
    /// later calls with the same assembly and name return the same instance).
    /// </summary>
    /// <exception cref="InvalidOperationException">The resource is missing or is not <paramref name="expectedBytes"/> long.</exception>
    public static ModelWeights Load(Assembly assembly, string resourceName, int expectedBytes)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(resourceName);
        if (s_loaded.TryGetValue((assembly, resourceName), out var cached))
        {
            if (cached.ByteLength != expectedBytes) throw WrongLength(assembly, resourceName, cached.ByteLength, expectedBytes);
            return cached;
        }
        using Stream? stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(
                $"The embedded resource '{resourceName}' holding the model weights was not found in assembly '{assembly.GetName().Name}'. " +
                "Rebuild the project so the Compress targets embed it.");
        long length = stream.Length;
        if (length != expectedBytes) throw WrongLength(assembly, resourceName, length, expectedBytes);
        var bytes = new byte[expectedBytes];
        stream.ReadExactly(bytes);
        return s_loaded.GetOrAdd((assembly, resourceName), new ModelWeights(bytes));
    }

    private static InvalidOperationException WrongLength(Assembly assembly, string resourceName, long actual, int expected) =>
        new($"The embedded resource '{resourceName}' in assembly '{assembly.GetName().Name}' is {actual} bytes long but the " +
            $"generated code expects {expected} bytes; the weights and the generated class come from different builds. Rebuild the project.");

    /// <summary>Copies <paramref name="bytes"/> into a new aligned buffer (tests and build-time interpreters).</summary>
    public static ModelWeights FromBytes(ReadOnlySpan<byte> bytes) => new(bytes);

    private ref byte Start => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_buffer), _offset);

    /// <summary>The blob as floats (ByteLength / 4 elements).</summary>
    public ReadOnlySpan<float> F32 => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, float>(ref Start), ByteLength / sizeof(float));

    /// <summary>The blob as signed bytes.</summary>
    public ReadOnlySpan<sbyte> I8 => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, sbyte>(ref Start), ByteLength);

    /// <summary>The blob as bytes.</summary>
    public ReadOnlySpan<byte> U8 => MemoryMarshal.CreateReadOnlySpan(ref Start, ByteLength);

    /// <summary>The blob as unsigned 16-bit integers (ByteLength / 2 elements; sparse weight indices).</summary>
    public ReadOnlySpan<ushort> U16 => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, ushort>(ref Start), ByteLength / sizeof(ushort));

    /// <summary>The blob as 32-bit integers (ByteLength / 4 elements).</summary>
    public ReadOnlySpan<int> I32 => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, int>(ref Start), ByteLength / sizeof(int));

    /// <summary>Length of the blob in bytes.</summary>
    public int ByteLength { get; }
}
