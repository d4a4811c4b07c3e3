using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>Entry checks shared by the kernels: validated once per call so the inner loops can run without bounds checks.</summary>
internal static class Guard
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AtLeast(int length, long required, string name)
    {
        if (length < required) Throw(length, required, name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Optional(int length, long required, string name)
    {
        if (length != 0 && length < required) Throw(length, required, name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NonNegative(int value, string name)
    {
        if (value < 0) ThrowNegative(value, name);
    }

    [DoesNotReturn]
    private static void Throw(int length, long required, string name) =>
        throw new ArgumentException($"'{name}' has {length} elements; at least {required} are required.", name);

    [DoesNotReturn]
    private static void ThrowNegative(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, "Must not be negative.");
}
