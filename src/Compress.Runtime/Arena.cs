using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime;

/// <summary>
/// One float buffer per model instance for activations and kernel scratch, planned at build time. The first element
/// is 64-byte aligned (a cache line, one Vector512) and the buffer is pinned, so its address never changes.
/// </summary>
public sealed class Arena
{
    private readonly float[] _buffer;
    private readonly int _offset;

    /// <summary>Allocates a zeroed buffer of <paramref name="floats"/> elements.</summary>
    public Arena(int floats)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(floats);
        // 16 spare floats (64 bytes) give room to move the start to the next 64-byte boundary.
        _buffer = GC.AllocateArray<float>(floats + 16, pinned: true);
        _offset = AlignedOffset.Of(ref MemoryMarshal.GetArrayDataReference(_buffer), sizeof(float));
        Length = floats;
    }

    /// <summary>The whole buffer.</summary>
    public Span<float> Span => MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_buffer), _offset), Length);

    /// <summary>Length in floats.</summary>
    public int Length { get; }
}

internal static class AlignedOffset
{
    /// <summary>Elements of <paramref name="elementSize"/> bytes to skip from a pinned <paramref name="start"/> to reach a 64-byte boundary.</summary>
    public static unsafe int Of<T>(ref T start, int elementSize)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref start);
        nuint pad = (64 - (address & 63)) & 63;
        return (int)(pad / (nuint)elementSize);
    }
}
