using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>Short copies and fills the kernels inline (im2col rows, padded planes): a call to memmove/memset costs
/// more than the few vectors these move.</summary>
internal static class Block
{
    /// <summary>Copies n floats between non-overlapping buffers; inlined vector loop, cheaper than a memmove call for the short runs im2col makes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(ref float src, ref float dst, int n)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) Vector512.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref dst, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Vector256.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref dst, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4) Vector128.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref dst, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref dst, i) = Unsafe.Add(ref src, i);
    }

    /// <summary>Zeroes <paramref name="rows"/> floats <paramref name="stride"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ZeroColumn(ref float dst, nint stride, int rows)
    {
        for (int r = 0; r < rows; r++) Unsafe.Add(ref dst, r * stride) = 0f;
    }

    /// <summary>Zeroes n floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Zero(ref float dst, int n)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) Vector512<float>.Zero.StoreUnsafe(ref dst, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Vector256<float>.Zero.StoreUnsafe(ref dst, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4) Vector128<float>.Zero.StoreUnsafe(ref dst, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref dst, i) = 0f;
    }
}
