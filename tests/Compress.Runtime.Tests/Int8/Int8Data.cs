namespace Compress.Runtime.Tests.Int8;

/// <summary>Random u8/s8/s32 data, misaligned views and guard checks for the int8 kernel tests.</summary>
internal static class Int8Data
{
    public const byte GuardByte = 0xA5;

    public static byte[] Bytes(Random rng, int length)
    {
        var a = new byte[length];
        rng.NextBytes(a);
        return a;
    }

    public static sbyte[] SBytes(Random rng, int length)
    {
        var a = new sbyte[length];
        for (int i = 0; i < length; i++) a[i] = (sbyte)rng.Next(-128, 128);
        return a;
    }

    public static int[] Ints(Random rng, int length, int min, int max)
    {
        var a = new int[length];
        for (int i = 0; i < length; i++) a[i] = rng.Next(min, max);
        return a;
    }

    /// <summary>A copy of <paramref name="data"/> starting one element into a fresh buffer (misaligned start).</summary>
    public static ReadOnlySpan<T> Misaligned<T>(ReadOnlySpan<T> data)
    {
        var backing = new T[data.Length + 1];
        data.CopyTo(backing.AsSpan(1));
        return backing.AsSpan(1, data.Length);
    }

    /// <summary>An output of <paramref name="length"/> bytes at index 1 of a buffer pre-filled with guard bytes.</summary>
    public static Span<byte> Output(int length, out byte[] backing)
    {
        backing = new byte[length + 1 + 67];
        backing.AsSpan().Fill(GuardByte);
        return backing.AsSpan(1, length);
    }

    /// <summary>Asserts that nothing was written before or after the <paramref name="length"/> bytes at index 1.</summary>
    public static void AssertGuards(byte[] backing, int length)
    {
        Assert.Equal(GuardByte, backing[0]);
        for (int i = 1 + length; i < backing.Length; i++)
            Assert.True(backing[i] == GuardByte, $"Write past the end at {i - 1} (length {length}).");
    }

    /// <summary>Per-channel requantisation parameters for real multipliers drawn log-uniformly from [lo, hi).</summary>
    public static (int[] Multiplier, int[] Shift) Multipliers(Random rng, int n, double lo = 1e-5, double hi = 1e-2)
    {
        var m = new int[n];
        var s = new int[n];
        for (int j = 0; j < n; j++)
            (m[j], s[j]) = QuantMath.QuantizeMultiplier(lo * Math.Pow(hi / lo, rng.NextDouble()));
        return (m, s);
    }

    public static void AssertEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string? what = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}
