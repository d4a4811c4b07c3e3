using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Weight-only ternary Gemm/MatMul with f32 activations (Trained Ternary Quantization, Zhu et al., ICLR 2017, in its
/// post-training form): W[k, j] ∈ {−αn[j], 0, +αp[j]}, stored as two bit masks — P (the +αp weights) and N (the −αn
/// ones), 2 bits per weight — and computed with no multiplication in the inner loop:
/// y[j] = act(αp[j]·Σ_{k∈P_j} x[k] − αn[j]·Σ_{k∈N_j} x[k] + bias[j]). The masked sums come from per-call tables of
/// partial sums over groups of 4 inputs (<see cref="QuadTables"/>): each weight nibble is one table lookup and one add.
/// </summary>
/// <remarks>
/// Layout: 16-column panels, <c>[ceil(n/16)][ceil(k/4)][16]</c> bytes — byte c of quad q holds column c's P bits for
/// k = 4q…4q+3 in its low nibble (bit i ↔ k = 4q + i) and its N bits in the high nibble. Bodies:
/// <c>Panel_F32T2_16_Avx512</c> (the 16 bytes of a quad widened to 16 lanes, <c>vpermps</c> looks each lane's nibble
/// up in the quad's 16-float table: two lookups per 64 weights), <c>Panel_F32T2_16_Avx2</c> (two 8-entry lookups and a
/// blend by bit 3), <c>Gemv_F32T2_Lookup_Scalar</c> (the same lookups one column at a time; every other CPU), and the
/// reference <c>Gemv_F32T2_Scalar</c> (the definition, in k order). Scratch: the tables, 16 floats per quad.
/// </remarks>
public static class TernaryGemmF32
{
    /// <summary>Columns per panel. Part of the packed format.</summary>
    public const int PanelWidth = 16;

    internal static int Panels(int n) => (n + PanelWidth - 1) / PanelWidth;

    internal static int Quads(int k) => (k + 3) / 4;

    /// <summary>Bytes of masks needed by <see cref="Pack"/>: ceil(n/16)·ceil(k/4)·16 (2 bits per weight).</summary>
    public static int PackedLength(int k, int n)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        return checked(Panels(n) * Quads(k) * PanelWidth);
    }

    /// <summary>Floats of scratch <see cref="Gemv"/> needs (the tables): ceil(k/4)·16.</summary>
    public static int ScratchLength(int k)
    {
        Guard.NonNegative(k, nameof(k));
        return QuadTables.Length(Quads(k));
    }

    /// <summary>
    /// Packs ternary codes t ∈ {−1, 0, +1} of W (k×n row-major, or n×k when <paramref name="transposed"/>) into the
    /// masks (zero past k and n).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A code is not −1, 0 or 1.</exception>
    public static void Pack(ReadOnlySpan<sbyte> t, bool transposed, int k, int n, Span<byte> masks)
    {
        int length = PackedLength(k, n);
        Guard.AtLeast(t.Length, (long)k * n, nameof(t));
        Guard.AtLeast(masks.Length, length, nameof(masks));
        masks[..length].Clear();
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++)
            {
                int code = transposed ? t[j * k + kk] : t[kk * n + j];
                if (code is < -1 or > 1) throw new ArgumentOutOfRangeException(nameof(t), code, "Ternary codes are −1, 0 or 1.");
                if (code != 0) masks[Index(kk, j, k)] |= (byte)(1 << (kk % 4 + (code < 0 ? 4 : 0)));
            }
    }

    /// <summary>Byte offset of (kk, j)'s mask byte.</summary>
    internal static int Index(int kk, int j, int k) => ((j / PanelWidth) * Quads(k) + kk / 4) * PanelWidth + j % PanelWidth;

    /// <summary>The code of (kk, j): −1, 0 or 1 (tests and the reference).</summary>
    internal static int Code(ReadOnlySpan<byte> masks, int kk, int j, int k)
    {
        int b = masks[Index(kk, j, k)], bit = kk % 4;
        return ((b >> bit) & 1) - ((b >> (bit + 4)) & 1);
    }

    /// <summary>
    /// y[j] = act(αp[j]·Σ_{t[k,j]=+1} x[k] − αn[j]·Σ_{t[k,j]=−1} x[k] + bias[j]); <paramref name="scratch"/> ≥
    /// <see cref="ScratchLength"/> floats. An empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<byte> masks, ReadOnlySpan<float> alphaPositive, ReadOnlySpan<float> alphaNegative,
        ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch, int k, int n, FusedActivation act)
    {
        Guard.AtLeast(masks.Length, PackedLength(k, n), nameof(masks));
        Guard.AtLeast(x.Length, k, nameof(x));
        Guard.AtLeast(alphaPositive.Length, n, nameof(alphaPositive));
        Guard.AtLeast(alphaNegative.Length, n, nameof(alphaNegative));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(y.Length, n, nameof(y));
        Guard.AtLeast(scratch.Length, ScratchLength(k), nameof(scratch));
        if (n == 0) return;
        int quads = Quads(k);
        QuadTables.Build(x, k, quads, scratch);
        ref float tables = ref MemoryMarshal.GetReference(scratch);
        ref byte m = ref MemoryMarshal.GetReference(masks);
        if (Avx512F.IsSupported || Avx2.IsSupported)
        {
            Span<float> sums = stackalloc float[2 * PanelWidth];
            for (int p = 0; p < Panels(n); p++)
            {
                ref byte panel = ref Unsafe.Add(ref m, (nint)p * quads * PanelWidth);
                if (Avx512F.IsSupported) Panel_F32T2_16_Avx512(ref tables, ref panel, quads, sums);
                else Panel_F32T2_16_Avx2(ref tables, ref panel, quads, sums);
                int j0 = p * PanelWidth, valid = Math.Min(PanelWidth, n - j0);
                if (valid == PanelWidth && Vector512.IsHardwareAccelerated)
                {
                    var v = Vector512.Create<float>(alphaPositive[j0..]) * Vector512.Create<float>(sums)
                          - Vector512.Create<float>(alphaNegative[j0..]) * Vector512.Create<float>(sums[PanelWidth..]);
                    if (!bias.IsEmpty) v += Vector512.Create<float>(bias[j0..]);
                    ActivationF32.Apply(v, act).CopyTo(y[j0..]);
                    continue;
                }
                for (int c = 0; c < valid; c++)
                {
                    int j = j0 + c;
                    float v = alphaPositive[j] * sums[c] - alphaNegative[j] * sums[PanelWidth + c];
                    y[j] = ActivationF32.Fused(bias.IsEmpty ? v : v + bias[j], act);
                }
            }
        }
        else Gemv_F32T2_Lookup_Scalar(scratch, masks, alphaPositive, alphaNegative, bias, y, k, n, act);
        ActivationF32.PostPass(y[..n], act);
    }

    /// <summary>
    /// Avx512: per quad, the 16 mask bytes widened to 16 lanes (<c>vpmovzxbd</c>); <c>vpermps</c> uses the low 4 bits
    /// of each lane, so the lanes themselves index the P sums and, shifted right by 4, the N sums. Two quads per
    /// iteration into four accumulators. Writes the 16 P sums, then the 16 N sums.
    /// </summary>
    internal static void Panel_F32T2_16_Avx512(ref float tables, ref byte masks, int quads, Span<float> sums)
    {
        Vector512<float> p0 = default, n0 = default, p1 = default, n1 = default;
        int q = 0;
        for (; q + 2 <= quads; q += 2)
        {
            var i0 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref masks, (nuint)(q * 16)));
            var i1 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref masks, (nuint)(q * 16 + 16)));
            var t0 = Vector512.LoadUnsafe(ref tables, (nuint)(q * 16));
            var t1 = Vector512.LoadUnsafe(ref tables, (nuint)(q * 16 + 16));
            p0 += Avx512F.PermuteVar16x32(t0, i0);
            n0 += Avx512F.PermuteVar16x32(t0, Vector512.ShiftRightLogical(i0, 4));
            p1 += Avx512F.PermuteVar16x32(t1, i1);
            n1 += Avx512F.PermuteVar16x32(t1, Vector512.ShiftRightLogical(i1, 4));
        }
        if (q < quads)
        {
            var i0 = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref masks, (nuint)(q * 16)));
            var t0 = Vector512.LoadUnsafe(ref tables, (nuint)(q * 16));
            p0 += Avx512F.PermuteVar16x32(t0, i0);
            n0 += Avx512F.PermuteVar16x32(t0, Vector512.ShiftRightLogical(i0, 4));
        }
        (p0 + p1).CopyTo(sums);
        (n0 + n1).CopyTo(sums[PanelWidth..]);
    }

    /// <summary>
    /// Avx2: per quad and 8-column half, the mask bytes widened to 8 lanes; a nibble b looks up <c>t[b &amp; 7]</c> and
    /// <c>t[8 + (b &amp; 7)]</c> (two <c>vpermps</c> over the table's halves) and keeps one by bit 3 (<c>vblendvps</c>).
    /// </summary>
    internal static void Panel_F32T2_16_Avx2(ref float tables, ref byte masks, int quads, Span<float> sums)
    {
        Vector256<float> p0 = default, p1 = default, n0 = default, n1 = default;
        for (int q = 0; q < quads; q++)
        {
            var lo = Vector256.LoadUnsafe(ref tables, (nuint)(q * 16));
            var hi = Vector256.LoadUnsafe(ref tables, (nuint)(q * 16 + 8));
            var i0 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref masks, (nuint)(q * 16)));
            var i1 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref masks, (nuint)(q * 16 + 8)));
            p0 += Lookup8(lo, hi, i0);
            p1 += Lookup8(lo, hi, i1);
            n0 += Lookup8(lo, hi, Vector256.ShiftRightLogical(i0, 4));
            n1 += Lookup8(lo, hi, Vector256.ShiftRightLogical(i1, 4));
        }
        p0.CopyTo(sums);
        p1.CopyTo(sums[8..]);
        n0.CopyTo(sums[PanelWidth..]);
        n1.CopyTo(sums[(PanelWidth + 8)..]);
    }

    /// <summary>table[nibble] for the nibble in bits 0–3 of each lane, from a 16-entry table given as two halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Lookup8(Vector256<float> lo, Vector256<float> hi, Vector256<int> index) =>
        Avx.BlendVariable(Avx2.PermuteVar8x32(lo, index), Avx2.PermuteVar8x32(hi, index), Vector256.ShiftLeft(index, 28).AsSingle());

    /// <summary>The table lookups one column at a time (CPUs without Avx2).</summary>
    internal static void Gemv_F32T2_Lookup_Scalar(ReadOnlySpan<float> tables, ReadOnlySpan<byte> masks, ReadOnlySpan<float> alphaPositive,
        ReadOnlySpan<float> alphaNegative, ReadOnlySpan<float> bias, Span<float> y, int k, int n, in FusedActivation act)
    {
        int quads = Quads(k);
        for (int j = 0; j < n; j++)
        {
            int start = (j / PanelWidth) * quads * PanelWidth + j % PanelWidth;
            float sp = 0f, sn = 0f;
            for (int q = 0; q < quads; q++)
            {
                int b = masks[start + q * PanelWidth];
                sp += tables[16 * q + (b & 0xF)];
                sn += tables[16 * q + (b >> 4)];
            }
            float v = alphaPositive[j] * sp - alphaNegative[j] * sn;
            y[j] = ActivationF32.Fused(bias.IsEmpty ? v : v + bias[j], act);
        }
    }

    /// <summary>The reference: the definition, Σ over k in order of the selected inputs.</summary>
    internal static void Gemv_F32T2_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<byte> masks, ReadOnlySpan<float> alphaPositive,
        ReadOnlySpan<float> alphaNegative, ReadOnlySpan<float> bias, Span<float> y, int k, int n, in FusedActivation act)
    {
        for (int j = 0; j < n; j++)
        {
            float sp = 0f, sn = 0f;
            for (int kk = 0; kk < k; kk++)
            {
                int c = Code(masks, kk, j, k);
                if (c > 0) sp += x[kk];
                else if (c < 0) sn += x[kk];
            }
            float v = alphaPositive[j] * sp - alphaNegative[j] * sn;
            y[j] = ActivationF32.Scalar(bias.IsEmpty ? v : v + bias[j], act);
        }
    }
}
