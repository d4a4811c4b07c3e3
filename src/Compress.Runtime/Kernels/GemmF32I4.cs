using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Weight-only 4-bit Gemm/MatMul with f32 activations (the ONNX Runtime MatMulNBits idea; blockwise symmetric
/// quantisation as in GPTQ/AWQ-style int4 deployment): W[k, j] ≈ scale[block, j]·code with code in [−8, 7], one scale
/// per column per block of <c>blockSize</c> consecutive k. Packed as 16-column panels
/// <c>[ceil(n/16)][k][8 bytes]</c> — byte b of a row holds column b in its low nibble and column b + 8 in its high
/// nibble (two's-complement nibbles) — with scales <c>[ceil(n/16)][ceil(k/blockSize)][16]</c>. The kernel decodes 16
/// columns per k into one Vector512 (or two Vector256) of f32 codes, accumulates Σ x·code per block and folds the
/// block's scale in once per block; the weights stream at 0.5 byte each, 8× less than f32.
/// </summary>
public static partial class GemmF32I4
{
    /// <summary>Columns per packed panel. Part of the packed format.</summary>
    public const int PanelWidth = 16;

    /// <summary>Bytes of nibbles needed by <see cref="Pack"/>: ceil(n/16)·k·8.</summary>
    public static int PackedLength(int k, int n, int blockSize)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        CheckBlockSize(blockSize);
        return checked(Panels(n) * k * (PanelWidth / 2));
    }

    /// <summary>Floats of scales needed by <see cref="Pack"/>: ceil(n/16)·ceil(k/blockSize)·16.</summary>
    public static int ScalesLength(int k, int n, int blockSize)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        CheckBlockSize(blockSize);
        return checked(Panels(n) * Blocks(k, blockSize) * PanelWidth);
    }

    private static void CheckBlockSize(int blockSize)
    {
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "Must be positive.");
    }

    internal static int Panels(int n) => (n + PanelWidth - 1) / PanelWidth;

    internal static int Blocks(int k, int blockSize) => (k + blockSize - 1) / blockSize;

    /// <summary>
    /// Quantises W (k×n row-major, or n×k when <paramref name="transposed"/>) per column and block of
    /// <paramref name="blockSize"/> k: scale = max|w|/7 (1 for an all-zero block is irrelevant: its codes are 0),
    /// code = clamp(round_half_even(w/scale), −8, 7); writes the nibbles and the scales in the layout above (zero past n).
    /// </summary>
    public static void Pack(ReadOnlySpan<float> w, bool transposed, int k, int n, int blockSize, Span<byte> packedNibbles, Span<float> scales)
    {
        int length = PackedLength(k, n, blockSize), scaleLength = ScalesLength(k, n, blockSize);
        Guard.AtLeast(w.Length, (long)k * n, nameof(w));
        Guard.AtLeast(packedNibbles.Length, length, nameof(packedNibbles));
        Guard.AtLeast(scales.Length, scaleLength, nameof(scales));
        packedNibbles[..length].Clear();
        scales[..scaleLength].Clear();
        int blocks = Blocks(k, blockSize);
        for (int j = 0; j < n; j++)
            for (int blk = 0; blk < blocks; blk++)
            {
                int k0 = blk * blockSize, k1 = Math.Min(k, k0 + blockSize);
                float amax = 0f;
                for (int kk = k0; kk < k1; kk++) amax = MathF.Max(amax, MathF.Abs(At(w, transposed, k, n, kk, j)));
                float scale = amax / 7f;
                scales[ScaleIndex(j, blk, blocks)] = scale;
                for (int kk = k0; kk < k1; kk++)
                {
                    int code = scale == 0f ? 0 : (int)Math.Clamp(MathF.Round(At(w, transposed, k, n, kk, j) / scale), -8f, 7f);
                    SetCode(packedNibbles, kk, j, k, code);
                }
            }
    }

    private static float At(ReadOnlySpan<float> w, bool transposed, int k, int n, int kk, int j) => transposed ? w[j * k + kk] : w[kk * n + j];

    internal static int ScaleIndex(int j, int block, int blocks) => ((j / PanelWidth) * blocks + block) * PanelWidth + j % PanelWidth;

    /// <summary>Byte offset of (kk, j) and whether it is the high nibble.</summary>
    internal static (int Index, bool High) NibbleIndex(int kk, int j, int k) =>
        (((j / PanelWidth) * k + kk) * (PanelWidth / 2) + j % (PanelWidth / 2), j % PanelWidth >= PanelWidth / 2);

    private static void SetCode(Span<byte> packed, int kk, int j, int k, int code)
    {
        var (index, high) = NibbleIndex(kk, j, k);
        packed[index] = high ? (byte)((packed[index] & 0x0F) | ((code & 0xF) << 4)) : (byte)((packed[index] & 0xF0) | (code & 0xF));
    }

    /// <summary>The code of (kk, j) in [−8, 7] (tests and the reference).</summary>
    internal static int GetCode(ReadOnlySpan<byte> packed, int kk, int j, int k)
    {
        var (index, high) = NibbleIndex(kk, j, k);
        int nibble = high ? packed[index] >> 4 : packed[index] & 0xF;
        return (nibble ^ 8) - 8;
    }

    /// <summary>y[j] = act(Σ_blocks scale[b, j]·Σ_{k in b} x[k]·code[k, j] + bias[j]). An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<byte> packedNibbles, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias,
        Span<float> y, int k, int n, int blockSize, FusedActivation act)
    {
        Guard.AtLeast(packedNibbles.Length, PackedLength(k, n, blockSize), nameof(packedNibbles));
        Guard.AtLeast(scales.Length, ScalesLength(k, n, blockSize), nameof(scales));
        Guard.AtLeast(x.Length, k, nameof(x));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(y.Length, n, nameof(y));
        if (n == 0) return;
        if (!Vector128.IsHardwareAccelerated)
        {
            Gemv_F32I4_Scalar(x, packedNibbles, scales, bias, y, k, n, blockSize, act);
        }
        else
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref byte ws = ref MemoryMarshal.GetReference(packedNibbles);
            ref float ss = ref MemoryMarshal.GetReference(scales);
            Span<float> panel = stackalloc float[PanelWidth];
            int blocks = Blocks(k, blockSize);
            for (int p = 0; p < Panels(n); p++)
            {
                ref byte w = ref Unsafe.Add(ref ws, (nint)p * k * (PanelWidth / 2));
                ref float sc = ref Unsafe.Add(ref ss, (nint)p * blocks * PanelWidth);
                if (Avx512F.IsSupported) Panel_F32I4_16_Avx512(ref xs, ref w, ref sc, k, blockSize, panel);
                else if (Avx2.IsSupported) Panel_F32I4_16_Avx2(ref xs, ref w, ref sc, k, blockSize, panel);
                else Panel_F32I4_16_Vector128(ref xs, ref w, ref sc, k, blockSize, panel);
                int j0 = p * PanelWidth, valid = Math.Min(PanelWidth, n - j0);
                for (int c = 0; c < valid; c++)
                    y[j0 + c] = ActivationF32.Fused(panel[c] + (bias.IsEmpty ? 0f : bias[j0 + c]), act);
            }
        }
        ActivationF32.PostPass(y[..n], act);
    }

    /// <summary>The reference: per column, per block, Σ x·code in k order, then scaled.</summary>
    internal static void Gemv_F32I4_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias,
        Span<float> y, int k, int n, int blockSize, in FusedActivation act)
    {
        int blocks = Blocks(k, blockSize);
        for (int j = 0; j < n; j++)
        {
            float sum = 0f;
            for (int blk = 0; blk < blocks; blk++)
            {
                int k0 = blk * blockSize, k1 = Math.Min(k, k0 + blockSize);
                float part = 0f;
                for (int kk = k0; kk < k1; kk++) part += x[kk] * GetCode(packed, kk, j, k);
                sum += part * scales[ScaleIndex(j, blk, blocks)];
            }
            if (!bias.IsEmpty) sum += bias[j];
            y[j] = ActivationF32.Fused(sum, act);
        }
    }

    /// <summary>The 8 bytes of one packed row: low nibbles are columns 0–7, high nibbles 8–15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong Lo, ulong Hi) Nibbles(ref byte row)
    {
        ulong v = Unsafe.ReadUnaligned<ulong>(ref row);
        return (v & 0x0F0F0F0F0F0F0F0FUL, (v >> 4) & 0x0F0F0F0F0F0F0F0FUL);
    }

    /// <summary>
    /// Avx512F: two k rows (16 bytes, 32 nibbles) per step — the nibbles split and sign-extended on all 16 bytes at
    /// once with byte ops, regrouped per row by one 64-bit unpack, widened to s32 (<c>vpmovsxbd</c>) and converted
    /// to f32, FMA'd with x[k]; each block's partial sum is scaled once. Port 5 (the shuffle port) does 2 µops per
    /// row, the limit of this decode.
    /// </summary>
    internal static void Panel_F32I4_16_Avx512(ref float x, ref byte w, ref float scales, int k, int blockSize, Span<float> result)
    {
        var total = Vector512<float>.Zero;
        var mask = Vector128.Create((byte)0x0F);
        var eight = Vector128.Create((sbyte)8);
        for (int k0 = 0, blk = 0; k0 < k; k0 += blockSize, blk++)
        {
            int k1 = Math.Min(k, k0 + blockSize), kk = k0;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; kk + 4 <= k1; kk += 4)
            {
                var (r0, r1) = DecodeRows(Vector128.LoadUnsafe(ref Unsafe.Add(ref w, kk * 8)), mask, eight);
                var (r2, r3) = DecodeRows(Vector128.LoadUnsafe(ref Unsafe.Add(ref w, kk * 8 + 16)), mask, eight);
                s0 = Vector512.FusedMultiplyAdd(Widen512(r0), Vector512.Create(Unsafe.Add(ref x, kk)), s0);
                s1 = Vector512.FusedMultiplyAdd(Widen512(r1), Vector512.Create(Unsafe.Add(ref x, kk + 1)), s1);
                s2 = Vector512.FusedMultiplyAdd(Widen512(r2), Vector512.Create(Unsafe.Add(ref x, kk + 2)), s2);
                s3 = Vector512.FusedMultiplyAdd(Widen512(r3), Vector512.Create(Unsafe.Add(ref x, kk + 3)), s3);
            }
            for (; kk < k1; kk++)
            {
                var (lo, hi) = Nibbles(ref Unsafe.Add(ref w, kk * 8));
                var row = (Vector128.Create(lo, hi).AsSByte() ^ eight) - eight;
                s0 = Vector512.FusedMultiplyAdd(Widen512(row), Vector512.Create(Unsafe.Add(ref x, kk)), s0);
            }
            total = Vector512.FusedMultiplyAdd((s0 + s1) + (s2 + s3), Vector512.LoadUnsafe(ref scales, (nuint)(blk * PanelWidth)), total);
        }
        total.CopyTo(result);
    }

    /// <summary>16 packed bytes (rows k and k + 1) → each row's 16 codes as sbytes, columns in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> Row0, Vector128<sbyte> Row1) DecodeRows(Vector128<byte> v, Vector128<byte> mask, Vector128<sbyte> eight)
    {
        var lo = ((v & mask).AsSByte() ^ eight) - eight;                                       // columns 0–7 of both rows
        var hi = ((Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask).AsSByte() ^ eight) - eight; // columns 8–15
        return (Sse2.UnpackLow(lo.AsUInt64(), hi.AsUInt64()).AsSByte(), Sse2.UnpackHigh(lo.AsUInt64(), hi.AsUInt64()).AsSByte());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen512(Vector128<sbyte> codes) => Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(codes));

    /// <summary>Avx2: the same with two Vector256 halves; a nibble n decodes as (n ^ 8) − 8 converted to f32.</summary>
    internal static void Panel_F32I4_16_Avx2(ref float x, ref byte w, ref float scales, int k, int blockSize, Span<float> result)
    {
        Vector256<float> total0 = default, total1 = default;
        for (int k0 = 0, blk = 0; k0 < k; k0 += blockSize, blk++)
        {
            int k1 = Math.Min(k, k0 + blockSize), kk = k0;
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; kk + 2 <= k1; kk += 2)
            {
                var (lo, hi) = Nibbles(ref Unsafe.Add(ref w, kk * 8));
                var xv = Vector256.Create(Unsafe.Add(ref x, kk));
                s0 = Vector256.FusedMultiplyAdd(Decode256(lo), xv, s0);
                s1 = Vector256.FusedMultiplyAdd(Decode256(hi), xv, s1);
                (lo, hi) = Nibbles(ref Unsafe.Add(ref w, kk * 8 + 8));
                xv = Vector256.Create(Unsafe.Add(ref x, kk + 1));
                s2 = Vector256.FusedMultiplyAdd(Decode256(lo), xv, s2);
                s3 = Vector256.FusedMultiplyAdd(Decode256(hi), xv, s3);
            }
            if (kk < k1)
            {
                var (lo, hi) = Nibbles(ref Unsafe.Add(ref w, kk * 8));
                var xv = Vector256.Create(Unsafe.Add(ref x, kk));
                s0 = Vector256.FusedMultiplyAdd(Decode256(lo), xv, s0);
                s1 = Vector256.FusedMultiplyAdd(Decode256(hi), xv, s1);
            }
            total0 = Vector256.FusedMultiplyAdd(s0 + s2, Vector256.LoadUnsafe(ref scales, (nuint)(blk * PanelWidth)), total0);
            total1 = Vector256.FusedMultiplyAdd(s1 + s3, Vector256.LoadUnsafe(ref scales, (nuint)(blk * PanelWidth + 8)), total1);
        }
        total0.CopyTo(result);
        total1.CopyTo(result[8..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Decode256(ulong nibbles) =>
        Vector256.ConvertToSingle((Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(nibbles).AsByte()) ^ Vector256.Create(8)) - Vector256.Create(8));

    /// <summary>Portable Vector128: four 4-column quarters per k.</summary>
    internal static void Panel_F32I4_16_Vector128(ref float x, ref byte w, ref float scales, int k, int blockSize, Span<float> result)
    {
        Vector128<float> t0 = default, t1 = default, t2 = default, t3 = default;
        for (int k0 = 0, blk = 0; k0 < k; k0 += blockSize, blk++)
        {
            int k1 = Math.Min(k, k0 + blockSize);
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int kk = k0; kk < k1; kk++)
            {
                var (lo, hi) = Nibbles(ref Unsafe.Add(ref w, kk * 8));
                var xv = Vector128.Create(Unsafe.Add(ref x, kk));
                s0 += Decode128((uint)lo) * xv;
                s1 += Decode128((uint)(lo >> 32)) * xv;
                s2 += Decode128((uint)hi) * xv;
                s3 += Decode128((uint)(hi >> 32)) * xv;
            }
            ref float sc = ref Unsafe.Add(ref scales, blk * PanelWidth);
            t0 += s0 * Vector128.LoadUnsafe(ref sc);
            t1 += s1 * Vector128.LoadUnsafe(ref sc, 4);
            t2 += s2 * Vector128.LoadUnsafe(ref sc, 8);
            t3 += s3 * Vector128.LoadUnsafe(ref sc, 12);
        }
        t0.CopyTo(result);
        t1.CopyTo(result[4..]);
        t2.CopyTo(result[8..]);
        t3.CopyTo(result[12..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Decode128(uint nibbles)
    {
        var v = Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(nibbles).AsByte())).AsInt32();
        return Vector128.ConvertToSingle((v ^ Vector128.Create(8)) - Vector128.Create(8));
    }
}
