using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Fully binary Gemm/MatMul (XNOR-Net, Rastegari et al., ECCV 2016; BNN, Hubara/Courbariaux et al., NIPS 2016): the
/// weights are signs s ∈ {−1, +1} with a per-column scale α, and the input is binarised per call to two levels,
/// x[k] ≈ μ + β·b[k] with b ∈ {−1, +1}; the dot product of the signs is k − 2·popcount(xbits XOR wbits). Then
/// y[j] = act(α[j]·(μ·c[j] + β·(k − 2·popcount)) + bias[j]) with c[j] = Σₖ s[k, j] (<see cref="ColumnSums"/>).
/// </summary>
/// <remarks>
/// <para>Binarisation: threshold τ = mean(x); b = +1 where x &gt; τ; μ and β put the two levels at the means of the
/// inputs above and below τ (hi, lo): μ = (hi + lo)/2, β = (hi − lo)/2 — the least-squares two-level fit for that
/// threshold. For zero-mean symmetric inputs it is XNOR-Net's sign(x) with β = mean|x|; the shift by μ and τ is what
/// makes it usable after a ReLU (all inputs ≥ 0; cf. the learnable threshold of ReActNet's RSign, Liu et al., ECCV 2020).</para>
/// <para>Layout: 8 columns per block, <c>[ceil(n/8)][ceil(k/64)][8]</c> u64 (bit k mod 64 of word [j/8][k/64][j mod 8]
/// is 1 for s = +1), so one Vector512 is 8 columns × 64 inputs and the popcounts land per column in its lanes.
/// Scratch: the input's bits, ceil(k/64) u64.</para>
/// <para>.NET 10 exposes no vector popcount (no <c>Avx512Vpopcntdq</c> class, although this CPU has the instruction;
/// checked by reflection), so the vector bodies count bits by nibble table lookups (<c>vpshufb</c>) summed per 64-bit
/// lane by <c>vpsadbw</c> (Muła, Kurz and Lemire, "Faster population counts using AVX2 instructions", 2018):
/// <c>Block_B1B1_8x64_Avx512BW</c>, <c>Block_B1B1_8x64_Avx2</c>, <c>Block_B1B1_8x64_Vector128</c>; the scalar body
/// uses <see cref="BitOperations.PopCount(ulong)"/> (<c>popcnt</c>).</para>
/// </remarks>
public static class XnorGemmF32
{
    /// <summary>Columns per block. Part of the packed format.</summary>
    public const int BlockColumns = 8;

    internal static int Blocks(int n) => (n + BlockColumns - 1) / BlockColumns;

    internal static int Words(int k) => (k + 63) / 64;

    /// <summary>Bytes of bits needed by <see cref="Pack"/>: ceil(n/8)·ceil(k/64)·64.</summary>
    public static int PackedLength(int k, int n)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        return checked(Blocks(n) * Words(k) * BlockColumns * sizeof(ulong));
    }

    /// <summary>Bytes of scratch <see cref="Gemv"/> needs: ceil(k/64)·8.</summary>
    public static int ScratchLength(int k)
    {
        Guard.NonNegative(k, nameof(k));
        return checked(Words(k) * sizeof(ulong));
    }

    /// <summary>Packs signs s ∈ {−1, +1} of W (k×n row-major, or n×k when <paramref name="transposed"/>); zero bits past k and n.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A sign is not −1 or 1.</exception>
    public static void Pack(ReadOnlySpan<sbyte> s, bool transposed, int k, int n, Span<byte> packed)
    {
        int length = PackedLength(k, n);
        Guard.AtLeast(s.Length, (long)k * n, nameof(s));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        packed[..length].Clear();
        var words = MemoryMarshal.Cast<byte, ulong>(packed[..length]);
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++)
            {
                int sign = transposed ? s[j * k + kk] : s[kk * n + j];
                if (sign is not (-1 or 1)) throw new ArgumentOutOfRangeException(nameof(s), sign, "Binary signs are −1 or 1.");
                if (sign > 0) words[WordIndex(kk, j, k)] |= 1UL << (kk % 64);
            }
    }

    internal static int WordIndex(int kk, int j, int k) => ((j / BlockColumns) * Words(k) + kk / 64) * BlockColumns + j % BlockColumns;

    /// <summary>c[j] = Σₖ s[k, j] (build time; the μ term of the result).</summary>
    public static void ColumnSums(ReadOnlySpan<sbyte> s, bool transposed, int k, int n, Span<int> sums)
    {
        Guard.AtLeast(s.Length, (long)k * n, nameof(s));
        Guard.AtLeast(sums.Length, n, nameof(sums));
        for (int j = 0; j < n; j++)
        {
            int c = 0;
            for (int kk = 0; kk < k; kk++) c += transposed ? s[j * k + kk] : s[kk * n + j];
            sums[j] = c;
        }
    }

    /// <summary>
    /// Binarises x[0..k) into <paramref name="bits"/> (bit = x &gt; mean) and returns the two levels' midpoint μ and
    /// half distance β (both 0 for k = 0; β = 0 when every input equals the mean).
    /// </summary>
    public static (float Mu, float Beta) Binarize(ReadOnlySpan<float> x, int k, Span<ulong> bits)
    {
        Guard.AtLeast(x.Length, k, nameof(x));
        Guard.AtLeast(bits.Length, Words(k), nameof(bits));
        if (k == 0) return (0f, 0f);
        x = x[..k];
        float sum = System.Numerics.Tensors.TensorPrimitives.Sum(x);
        float tau = sum / k;
        float hiSum = 0f;
        int hiCount = 0;
        int w = 0, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            var t = Vector512.Create(tau);
            var acc = Vector512<float>.Zero;
            for (; i + 64 <= k; i += 64, w++)
            {
                ulong word = 0;
                for (int part = 0; part < 4; part++)
                {
                    var v = Vector512.LoadUnsafe(ref xs, (nuint)(i + 16 * part));
                    var gt = Vector512.GreaterThan(v, t);
                    acc += v & gt.AsSingle();
                    word |= (ulong)gt.ExtractMostSignificantBits() << (16 * part);
                }
                bits[w] = word;
                hiCount += BitOperations.PopCount(bits[w]);
            }
            hiSum = Vector512.Sum(acc);
        }
        for (; w < Words(k); w++)
        {
            ulong word = 0;
            for (int b = 0; b < 64 && i < k; b++, i++)
                if (x[i] > tau)
                {
                    word |= 1UL << b;
                    hiSum += x[i];
                    hiCount++;
                }
            bits[w] = word;
        }
        int loCount = k - hiCount;
        float hi = hiCount > 0 ? hiSum / hiCount : tau;
        float lo = loCount > 0 ? (sum - hiSum) / loCount : tau;
        if (hiCount == 0) hi = lo;
        return ((hi + lo) * 0.5f, (hi - lo) * 0.5f);
    }

    /// <summary>
    /// y[j] = act(α[j]·(μ·c[j] + β·(k − 2·popcount(xbits ⊕ wbits[j]))) + bias[j]) with x binarised per call
    /// (<see cref="Binarize"/>) into <paramref name="scratch"/> (≥ <see cref="ScratchLength"/> bytes). An empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<byte> packed, ReadOnlySpan<float> alpha, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> bias, Span<float> y, Span<byte> scratch, int k, int n, FusedActivation act)
    {
        Guard.AtLeast(packed.Length, PackedLength(k, n), nameof(packed));
        Guard.AtLeast(x.Length, k, nameof(x));
        Guard.AtLeast(alpha.Length, n, nameof(alpha));
        Guard.AtLeast(columnSums.Length, n, nameof(columnSums));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(y.Length, n, nameof(y));
        Guard.AtLeast(scratch.Length, ScratchLength(k), nameof(scratch));
        if (n == 0) return;
        int words = Words(k);
        var xbits = MemoryMarshal.Cast<byte, ulong>(scratch[..(words * sizeof(ulong))]);
        var (mu, beta) = Binarize(x, k, xbits);
        var w = MemoryMarshal.Cast<byte, ulong>(packed[..PackedLength(k, n)]);
        Span<int> counts = stackalloc int[BlockColumns];
        for (int b = 0; b < Blocks(n); b++)
        {
            var block = w.Slice(b * words * BlockColumns, words * BlockColumns);
            if (Avx512BW.IsSupported) Block_B1B1_8x64_Avx512BW(xbits, block, counts);
            else if (Avx2.IsSupported) Block_B1B1_8x64_Avx2(xbits, block, counts);
            else if (Vector128.IsHardwareAccelerated) Block_B1B1_8x64_Vector128(xbits, block, counts);
            else Block_B1B1_8x64_Scalar(xbits, block, counts);
            int j0 = b * BlockColumns, valid = Math.Min(BlockColumns, n - j0);
            if (valid == BlockColumns && Vector256.IsHardwareAccelerated)
            {
                var agree = Vector256.Create((float)k) - Vector256.Create(2f) * Vector256.ConvertToSingle(Vector256.Create<int>(counts));
                var v = Vector256.Create<float>(alpha[j0..]) *
                        (Vector256.Create(mu) * Vector256.ConvertToSingle(Vector256.Create<int>(columnSums[j0..])) + Vector256.Create(beta) * agree);
                if (!bias.IsEmpty) v += Vector256.Create<float>(bias[j0..]);
                ActivationF32.Apply(v, act).CopyTo(y[j0..]);
                continue;
            }
            for (int c = 0; c < valid; c++)
            {
                int j = j0 + c;
                float v = alpha[j] * (mu * columnSums[j] + beta * (k - 2 * counts[c]));
                y[j] = ActivationF32.Fused(bias.IsEmpty ? v : v + bias[j], act);
            }
        }
        ActivationF32.PostPass(y[..n], act);
    }

    /// <summary>The scalar body: one <c>popcnt</c> per column and word.</summary>
    internal static void Block_B1B1_8x64_Scalar(ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> block, Span<int> counts)
    {
        counts.Clear();
        for (int t = 0; t < x.Length; t++)
            for (int c = 0; c < BlockColumns; c++)
                counts[c] += BitOperations.PopCount(x[t] ^ block[t * BlockColumns + c]);
    }

    /// <summary>
    /// Avx512BW: per word, one 64-byte load (8 columns), XOR with the broadcast input word, nibble counts by two
    /// <c>vpshufb</c> from a 16-entry table, accumulated as bytes for up to 31 words (8 per byte per word), then summed
    /// per column by <c>vpsadbw</c>.
    /// </summary>
    internal static void Block_B1B1_8x64_Avx512BW(ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> block, Span<int> counts)
    {
        var lut = Vector512.Create(NibbleCounts());
        var mask = Vector512.Create((byte)0x0F);
        ref ulong w = ref MemoryMarshal.GetReference(block);
        var total = Vector512<ulong>.Zero;
        for (int t0 = 0; t0 < x.Length; t0 += 31)
        {
            var bytes = Vector512<byte>.Zero;
            int end = Math.Min(x.Length, t0 + 31);
            for (int t = t0; t < end; t++)
            {
                var v = (Vector512.LoadUnsafe(ref w, (nuint)(t * BlockColumns)) ^ Vector512.Create(x[t])).AsByte();
                bytes += Avx512BW.Shuffle(lut, v & mask) + Avx512BW.Shuffle(lut, Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask);
            }
            total += Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
        }
        Avx512F.ConvertToVector256Int32(total).CopyTo(counts);
    }

    /// <summary>Avx2: the same with two Vector256 per word (columns 0–3, 4–7).</summary>
    internal static void Block_B1B1_8x64_Avx2(ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> block, Span<int> counts)
    {
        var lut = Vector256.Create(NibbleCounts());
        var mask = Vector256.Create((byte)0x0F);
        ref ulong w = ref MemoryMarshal.GetReference(block);
        Vector256<ulong> t0Total = default, t1Total = default;
        for (int t0 = 0; t0 < x.Length; t0 += 31)
        {
            Vector256<byte> b0 = default, b1 = default;
            int end = Math.Min(x.Length, t0 + 31);
            for (int t = t0; t < end; t++)
            {
                var xw = Vector256.Create(x[t]);
                var v0 = (Vector256.LoadUnsafe(ref w, (nuint)(t * BlockColumns)) ^ xw).AsByte();
                var v1 = (Vector256.LoadUnsafe(ref w, (nuint)(t * BlockColumns + 4)) ^ xw).AsByte();
                b0 += Avx2.Shuffle(lut, v0 & mask) + Avx2.Shuffle(lut, Vector256.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & mask);
                b1 += Avx2.Shuffle(lut, v1 & mask) + Avx2.Shuffle(lut, Vector256.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & mask);
            }
            t0Total += Avx2.SumAbsoluteDifferences(b0, Vector256<byte>.Zero).AsUInt64();
            t1Total += Avx2.SumAbsoluteDifferences(b1, Vector256<byte>.Zero).AsUInt64();
        }
        for (int c = 0; c < 4; c++)
        {
            counts[c] = (int)t0Total.GetElement(c);
            counts[c + 4] = (int)t1Total.GetElement(c);
        }
    }

    /// <summary>Portable Vector128: two columns per vector, the byte lookups through <see cref="Vector128.Shuffle(Vector128{byte}, Vector128{byte})"/>.</summary>
    internal static void Block_B1B1_8x64_Vector128(ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> block, Span<int> counts)
    {
        var lut = NibbleCounts();
        var mask = Vector128.Create((byte)0x0F);
        ref ulong w = ref MemoryMarshal.GetReference(block);
        for (int pair = 0; pair < BlockColumns / 2; pair++)
        {
            var total = Vector128<ulong>.Zero;
            for (int t0 = 0; t0 < x.Length; t0 += 31)
            {
                var bytes = Vector128<byte>.Zero;
                int end = Math.Min(x.Length, t0 + 31);
                for (int t = t0; t < end; t++)
                {
                    var v = (Vector128.LoadUnsafe(ref w, (nuint)(t * BlockColumns + 2 * pair)) ^ Vector128.Create(x[t])).AsByte();
                    bytes += Vector128.Shuffle(lut, v & mask) + Vector128.Shuffle(lut, Vector128.ShiftRightLogical(v, 4));
                }
                // Per 64-bit lane byte sums (at most 31·8·8 = 1984: fits u16).
                var (l16, h16) = Vector128.Widen(bytes);
                total += Vector128.Create((ulong)Vector128.Sum(l16), Vector128.Sum(h16));
            }
            counts[2 * pair] = (int)total.GetElement(0);
            counts[2 * pair + 1] = (int)total.GetElement(1);
        }
    }

    /// <summary>Bits set in each nibble value 0–15.</summary>
    private static Vector128<byte> NibbleCounts() => Vector128.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}
