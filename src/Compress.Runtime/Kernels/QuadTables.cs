using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Per-call lookup tables of partial sums for the weight-only ternary and binary kernels (the table-lookup GEMV of
/// LUT-GEMM, Park et al. 2022, and T-MAC, Wei et al. 2024): for every group ("quad") of 4 consecutive inputs,
/// <c>table[16·q + b] = ((b₀·x₀ + b₁·x₁) + (b₂·x₂ + b₃·x₃))</c> over the 16 bit patterns b — the sum of the inputs a
/// weight bit mask selects. A weight nibble then turns 4 multiply-adds into one lookup and one add. Built with
/// selects (bit masks) and adds only; inputs past k are 0.
/// </summary>
internal static class QuadTables
{
    /// <summary>Floats for <paramref name="quads"/> quads.</summary>
    public static int Length(int quads) => checked(quads * 16);

    /// <summary>Fills <paramref name="quads"/> tables from x[0..k) (zero past k).</summary>
    public static void Build(ReadOnlySpan<float> x, int k, int quads, Span<float> tables)
    {
        int full = Math.Min(quads, k / 4);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float t = ref MemoryMarshal.GetReference(tables);
        int q = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (m0, m1, m2, m3) = Masks512();
            for (; q < full; q++)
            {
                ref float x4 = ref Unsafe.Add(ref xs, 4 * q);
                var v = ((Vector512.Create(x4) & m0) + (Vector512.Create(Unsafe.Add(ref x4, 1)) & m1))
                      + ((Vector512.Create(Unsafe.Add(ref x4, 2)) & m2) + (Vector512.Create(Unsafe.Add(ref x4, 3)) & m3));
                v.StoreUnsafe(ref t, (nuint)(16 * q));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; q < full; q++)
            {
                ref float x4 = ref Unsafe.Add(ref xs, 4 * q);
                var b0 = Vector128.Create(x4);
                var b1 = Vector128.Create(Unsafe.Add(ref x4, 1));
                var b2 = Vector128.Create(Unsafe.Add(ref x4, 2));
                var b3 = Vector128.Create(Unsafe.Add(ref x4, 3));
                for (int part = 0; part < 4; part++)
                {
                    var (m0, m1, m2, m3) = Masks128(part);
                    (((b0 & m0) + (b1 & m1)) + ((b2 & m2) + (b3 & m3))).StoreUnsafe(ref t, (nuint)(16 * q + 4 * part));
                }
            }
        }
        for (; q < quads; q++)
        {
            int i0 = 4 * q;
            float x0 = i0 < k ? x[i0] : 0f, x1 = i0 + 1 < k ? x[i0 + 1] : 0f, x2 = i0 + 2 < k ? x[i0 + 2] : 0f, x3 = i0 + 3 < k ? x[i0 + 3] : 0f;
            for (int b = 0; b < 16; b++) tables[16 * q + b] = Entry(x0, x1, x2, x3, b);
        }
    }

    /// <summary>One entry, in the order every path adds: (b₀x₀ + b₁x₁) + (b₂x₂ + b₃x₃).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Entry(float x0, float x1, float x2, float x3, int b) =>
        (((b & 1) != 0 ? x0 : 0f) + ((b & 2) != 0 ? x1 : 0f)) + (((b & 4) != 0 ? x2 : 0f) + ((b & 8) != 0 ? x3 : 0f));

    /// <summary>Lane b of mask i is all ones when bit i of b is set.</summary>
    static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Masks512()
    {
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Vector512<float> Bit(int i) => Vector512.Equals(lane & Vector512.Create(1 << i), Vector512.Create(1 << i)).AsSingle();
        return (Bit(0), Bit(1), Bit(2), Bit(3));
    }

    static (Vector128<float>, Vector128<float>, Vector128<float>, Vector128<float>) Masks128(int part)
    {
        var lane = Vector128.Create(0, 1, 2, 3) + Vector128.Create(4 * part);
        Vector128<float> Bit(int i) => Vector128.Equals(lane & Vector128.Create(1 << i), Vector128.Create(1 << i)).AsSingle();
        return (Bit(0), Bit(1), Bit(2), Bit(3));
    }
}
