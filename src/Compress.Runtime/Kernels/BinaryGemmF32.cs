using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Weight-only binary Gemm/MatMul with f32 activations (BinaryConnect, Courbariaux et al., NIPS 2015, at inference;
/// the per-channel scale of XNOR-Net's binary-weight networks, Rastegari et al., ECCV 2016): W[k, j] = α[j]·s with
/// s ∈ {−1, +1}, one bit per weight. With P_j the +1 weights, Σₖ x[k]·s = 2·Σ_{k∈P_j} x[k] − Σₖ x[k], so
/// y[j] = act(α[j]·(2·Σ_{P_j} x − Σ x) + bias[j]) — no multiplication in the inner loop: the masked sums are table
/// lookups over groups of 4 inputs (<see cref="QuadTables"/>), one per weight nibble.
/// </summary>
/// <remarks>
/// Layout: 16-column panels, <c>[ceil(n/16)][ceil(k/8)][16]</c> bytes — byte c of octet o holds column c's bits for
/// k = 8o…8o+3 in its low nibble and k = 8o+4…8o+7 in its high nibble (bit i ↔ the i-th k of the nibble; 1 = +1).
/// Bodies: <c>Panel_F32B1_16_Avx512</c> (two <c>vpermps</c> lookups per 16 bytes = 128 weights),
/// <c>Panel_F32B1_16_Avx2</c>, <c>Gemv_F32B1_Lookup_Scalar</c>, and the reference <c>Gemv_F32B1_Scalar</c>.
/// </remarks>
public static class BinaryGemmF32
{
    /// <summary>Columns per panel. Part of the packed format.</summary>
    public const int PanelWidth = 16;

    internal static int Panels(int n) => (n + PanelWidth - 1) / PanelWidth;

    internal static int Octets(int k) => (k + 7) / 8;

    /// <summary>Bytes of bits needed by <see cref="Pack"/>: ceil(n/16)·ceil(k/8)·16 (1 bit per weight).</summary>
    public static int PackedLength(int k, int n)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        return checked(Panels(n) * Octets(k) * PanelWidth);
    }

    /// <summary>Floats of scratch <see cref="Gemv"/> needs (the tables of 2·ceil(k/8) quads).</summary>
    public static int ScratchLength(int k)
    {
        Guard.NonNegative(k, nameof(k));
        return QuadTables.Length(2 * Octets(k));
    }

    /// <summary>Packs signs s ∈ {−1, +1} of W (k×n row-major, or n×k when <paramref name="transposed"/>); zero bits past k and n.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A sign is not −1 or 1.</exception>
    public static void Pack(ReadOnlySpan<sbyte> s, bool transposed, int k, int n, Span<byte> bits)
    {
        int length = PackedLength(k, n);
        Guard.AtLeast(s.Length, (long)k * n, nameof(s));
        Guard.AtLeast(bits.Length, length, nameof(bits));
        bits[..length].Clear();
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++)
            {
                int sign = transposed ? s[j * k + kk] : s[kk * n + j];
                if (sign is not (-1 or 1)) throw new ArgumentOutOfRangeException(nameof(s), sign, "Binary signs are −1 or 1.");
                if (sign > 0) bits[Index(kk, j, k)] |= (byte)(1 << (kk % 8));
            }
    }

    internal static int Index(int kk, int j, int k) => ((j / PanelWidth) * Octets(k) + kk / 8) * PanelWidth + j % PanelWidth;

    /// <summary>The sign of (kk, j) (tests and the reference).</summary>
    internal static int Sign(ReadOnlySpan<byte> bits, int kk, int j, int k) => ((bits[Index(kk, j, k)] >> (kk % 8)) & 1) != 0 ? 1 : -1;

    /// <summary>
    /// y[j] = act(α[j]·Σₖ x[k]·s[k, j] + bias[j]) computed as α[j]·(2·Σ_{s=+1} x − Σ x); <paramref name="scratch"/> ≥
    /// <see cref="ScratchLength"/> floats. An empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<byte> bits, ReadOnlySpan<float> alpha, ReadOnlySpan<float> bias,
        Span<float> y, Span<float> scratch, int k, int n, FusedActivation act)
    {
        Guard.AtLeast(bits.Length, PackedLength(k, n), nameof(bits));
        Guard.AtLeast(x.Length, k, nameof(x));
        Guard.AtLeast(alpha.Length, n, nameof(alpha));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(y.Length, n, nameof(y));
        Guard.AtLeast(scratch.Length, ScratchLength(k), nameof(scratch));
        if (n == 0) return;
        int octets = Octets(k);
        QuadTables.Build(x, k, 2 * octets, scratch);
        float total = 0f;
        for (int q = 0; q < 2 * octets; q++) total += scratch[16 * q + 15];
        ref float tables = ref MemoryMarshal.GetReference(scratch);
        ref byte w = ref MemoryMarshal.GetReference(bits);
        if (Avx512F.IsSupported || Avx2.IsSupported)
        {
            Span<float> sums = stackalloc float[PanelWidth];
            for (int p = 0; p < Panels(n); p++)
            {
                ref byte panel = ref Unsafe.Add(ref w, (nint)p * octets * PanelWidth);
                if (Avx512F.IsSupported) Panel_F32B1_16_Avx512(ref tables, ref panel, octets, sums);
                else Panel_F32B1_16_Avx2(ref tables, ref panel, octets, sums);
                int j0 = p * PanelWidth, valid = Math.Min(PanelWidth, n - j0);
                if (valid == PanelWidth && Vector512.IsHardwareAccelerated)
                {
                    var v = Vector512.Create<float>(alpha[j0..]) * (Vector512.Create(2f) * Vector512.Create<float>(sums) - Vector512.Create(total));
                    if (!bias.IsEmpty) v += Vector512.Create<float>(bias[j0..]);
                    ActivationF32.Apply(v, act).CopyTo(y[j0..]);
                    continue;
                }
                for (int c = 0; c < valid; c++)
                {
                    int j = j0 + c;
                    float v = alpha[j] * (2f * sums[c] - total);
                    y[j] = ActivationF32.Fused(bias.IsEmpty ? v : v + bias[j], act);
                }
            }
        }
        else Gemv_F32B1_Lookup_Scalar(scratch, total, bits, alpha, bias, y, k, n, act);
        ActivationF32.PostPass(y[..n], act);
    }

    /// <summary>Avx512: per octet the 16 bytes widened to 16 lanes; the low nibble looks up quad 2o, the high one quad 2o + 1.</summary>
    internal static void Panel_F32B1_16_Avx512(ref float tables, ref byte bits, int octets, Span<float> sums)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int o = 0;
        for (; o + 2 <= octets; o += 2)
        {
            var i0 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref bits, (nuint)(o * 16)));
            var i1 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref bits, (nuint)(o * 16 + 16)));
            a0 += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref tables, (nuint)(o * 32)), i0);
            a1 += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref tables, (nuint)(o * 32 + 16)), Vector512.ShiftRightLogical(i0, 4));
            a2 += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref tables, (nuint)(o * 32 + 32)), i1);
            a3 += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref tables, (nuint)(o * 32 + 48)), Vector512.ShiftRightLogical(i1, 4));
        }
        if (o < octets)
        {
            var i0 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref bits, (nuint)(o * 16)));
            a0 += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref tables, (nuint)(o * 32)), i0);
            a1 += Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref tables, (nuint)(o * 32 + 16)), Vector512.ShiftRightLogical(i0, 4));
        }
        ((a0 + a1) + (a2 + a3)).CopyTo(sums);
    }

    /// <summary>Avx2: 8-column halves, each nibble looked up in a 16-entry table as two 8-entry halves and a blend.</summary>
    internal static void Panel_F32B1_16_Avx2(ref float tables, ref byte bits, int octets, Span<float> sums)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int o = 0; o < octets; o++)
        {
            var lo0 = Vector256.LoadUnsafe(ref tables, (nuint)(o * 32));
            var hi0 = Vector256.LoadUnsafe(ref tables, (nuint)(o * 32 + 8));
            var lo1 = Vector256.LoadUnsafe(ref tables, (nuint)(o * 32 + 16));
            var hi1 = Vector256.LoadUnsafe(ref tables, (nuint)(o * 32 + 24));
            var i0 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref bits, (nuint)(o * 16)));
            var i1 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref bits, (nuint)(o * 16 + 8)));
            a0 += TernaryGemmF32.Lookup8(lo0, hi0, i0);
            a1 += TernaryGemmF32.Lookup8(lo0, hi0, i1);
            a2 += TernaryGemmF32.Lookup8(lo1, hi1, Vector256.ShiftRightLogical(i0, 4));
            a3 += TernaryGemmF32.Lookup8(lo1, hi1, Vector256.ShiftRightLogical(i1, 4));
        }
        (a0 + a2).CopyTo(sums);
        (a1 + a3).CopyTo(sums[8..]);
    }

    /// <summary>The table lookups one column at a time (CPUs without Avx2).</summary>
    internal static void Gemv_F32B1_Lookup_Scalar(ReadOnlySpan<float> tables, float total, ReadOnlySpan<byte> bits, ReadOnlySpan<float> alpha,
        ReadOnlySpan<float> bias, Span<float> y, int k, int n, in FusedActivation act)
    {
        int octets = Octets(k);
        for (int j = 0; j < n; j++)
        {
            int start = (j / PanelWidth) * octets * PanelWidth + j % PanelWidth;
            float sp = 0f;
            for (int o = 0; o < octets; o++)
            {
                int b = bits[start + o * PanelWidth];
                sp += tables[32 * o + (b & 0xF)] + tables[32 * o + 16 + (b >> 4)];
            }
            float v = alpha[j] * (2f * sp - total);
            y[j] = ActivationF32.Fused(bias.IsEmpty ? v : v + bias[j], act);
        }
    }

    /// <summary>The reference: the definition α·Σₖ x[k]·s[k, j] in k order.</summary>
    internal static void Gemv_F32B1_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<byte> bits, ReadOnlySpan<float> alpha, ReadOnlySpan<float> bias,
        Span<float> y, int k, int n, in FusedActivation act)
    {
        for (int j = 0; j < n; j++)
        {
            float s = 0f;
            for (int kk = 0; kk < k; kk++) s += Sign(bits, kk, j, k) > 0 ? x[kk] : -x[kk];
            float v = alpha[j] * s;
            y[j] = ActivationF32.Scalar(bias.IsEmpty ? v : v + bias[j], act);
        }
    }
}
