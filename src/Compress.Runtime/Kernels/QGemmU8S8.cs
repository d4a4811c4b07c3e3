using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Quantised Gemm / MatMul with a constant B (Jacob et al., CVPR 2018, integer-arithmetic-only inference):
/// u8 activations × s8 weights accumulated in s32, bias in s32 (with the input zero point already folded in, see
/// <see cref="ColumnSums"/>), and a fused epilogue that requantises to u8 (<see cref="Gemv"/>), scales to f32
/// (<see cref="GemvToF32"/>) or does both halves of dynamic quantisation (<see cref="GemvDynamic"/>).
/// B is packed at build time as <c>[ceil(n/16)][ceil(k/4)][16][4]</c>: 16-column panels whose 32-bit lanes hold 4
/// consecutive k of one column — exactly the operand order of <c>vpdpbusd</c>, so one 64-byte block feeds one
/// Vector512 or two Vector256 dot-product instructions.
/// </summary>
public static partial class QGemmU8S8
{
    /// <summary>Columns per packed panel. Part of the packed format: never CPU-dependent.</summary>
    public const int PanelWidth = 16;

    /// <summary>Consecutive k values per 32-bit lane. Part of the packed format.</summary>
    public const int KGroup = 4;

    /// <summary>Bytes needed by <see cref="PackB"/>: ceil(n/16)·ceil(k/4)·64.</summary>
    public static int PackedLength(int k, int n)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        return checked(Panels(n) * KGroups(k) * PanelWidth * KGroup);
    }

    internal static int Panels(int n) => (n + PanelWidth - 1) / PanelWidth;

    internal static int KGroups(int k) => (k + KGroup - 1) / KGroup;

    /// <summary>Byte offset of B[kk, j] in the packed layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint PackedIndex(int kk, int j, int k) =>
        (((nint)(j / PanelWidth) * KGroups(k) + kk / KGroup) * PanelWidth + j % PanelWidth) * KGroup + kk % KGroup;

    /// <summary>
    /// Packs B (k×n row-major, or n×k row-major when <paramref name="transposed"/>, as ONNX Gemm transB=1 stores it)
    /// into <c>packed[p][g][c][i] = B[4g + i, 16p + c]</c>, zero for k ≥ <paramref name="k"/> or columns ≥ <paramref name="n"/>.
    /// </summary>
    public static void PackB(ReadOnlySpan<sbyte> b, bool transposed, int k, int n, Span<sbyte> packed)
    {
        int length = PackedLength(k, n);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        packed[..length].Clear();
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++)
                packed[(int)PackedIndex(kk, j, k)] = transposed ? b[j * k + kk] : b[kk * n + j];
    }

    /// <summary>
    /// sums[j] = Σₖ B[k, j] (B as given to <see cref="PackB"/>). At build time the input zero point is folded into the
    /// bias with it: bias'[j] = bias[j] − zp_x·sums[j], since Σₖ (x[k] − zp_x)·B[k,j] = Σₖ x[k]·B[k,j] − zp_x·sums[j].
    /// </summary>
    public static void ColumnSums(ReadOnlySpan<sbyte> b, bool transposed, int k, int n, Span<int> sums)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        Guard.AtLeast(sums.Length, n, nameof(sums));
        for (int j = 0; j < n; j++)
        {
            int s = 0;
            for (int kk = 0; kk < k; kk++)
                s += transposed ? b[j * k + kk] : b[kk * n + j];
            sums[j] = s;
        }
    }

    /// <summary>
    /// y[j] = clamp(zp_y + MultiplyByQuantizedMultiplier(Σₖ x[k]·B[k,j] + bias'[j], multiplier[j], shift[j]), Min, Max)
    /// → u8 (also clamped to [0, 255]). An empty bias means none; multiplier and shift are per output column.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> packedB, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, int k, int n, in Requant rq) =>
        Gemm(x, packedB, bias, multiplier, shift, y, 1, k, n, rq);

    /// <summary>The same as <see cref="Gemv"/> for m rows: A row-major m×k (u8), C row-major m×n (u8).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemm(ReadOnlySpan<byte> a, ReadOnlySpan<sbyte> packedB, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> c, int m, int k, int n, in Requant rq)
    {
        CheckCommon(a.Length, packedB.Length, bias.Length, c.Length, m, k, n);
        Guard.AtLeast(multiplier.Length, n, nameof(multiplier));
        Guard.AtLeast(shift.Length, n, nameof(shift));
        var epilogue = new RequantEpilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty,
            ref MemoryMarshal.GetReference(multiplier), ref MemoryMarshal.GetReference(shift), ref MemoryMarshal.GetReference(c), n, rq);
        Run(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(packedB), ref epilogue, m, k, n);
    }

    /// <summary>
    /// y[j] = act(scale[j]·(Σₖ x[k]·B[k,j] + bias'[j])) → f32, with scale[j] = s_x·s_w[j]: the int8 layer whose consumer
    /// wants floats (the last layer, or one followed by an op with no quantised kernel). An empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvToF32(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> packedB, ReadOnlySpan<int> bias, ReadOnlySpan<float> scale,
        Span<float> y, int k, int n, FusedActivation act) =>
        GemmToF32(x, packedB, bias, scale, y, 1, k, n, act);

    /// <summary>The same as <see cref="GemvToF32"/> for m rows: A row-major m×k (u8), C row-major m×n (f32).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemmToF32(ReadOnlySpan<byte> a, ReadOnlySpan<sbyte> packedB, ReadOnlySpan<int> bias, ReadOnlySpan<float> scale,
        Span<float> c, int m, int k, int n, FusedActivation act)
    {
        CheckCommon(a.Length, packedB.Length, bias.Length, c.Length, m, k, n);
        Guard.AtLeast(scale.Length, n, nameof(scale));
        var epilogue = new F32Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(scale),
            ref MemoryMarshal.GetReference(c), n, act);
        Run(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(packedB), ref epilogue, m, k, n);
        if (!ActivationF32.IsRegisterFusable(act.Kind)) ActivationF32.PostPass(c[..(m * n)], act);
    }

    /// <summary>
    /// Dynamic quantisation (MatMulInteger-style, for models without calibration data): x is quantised per call to u8
    /// over [min(x, 0), max(x, 0)] (so 0 is exact) into <paramref name="scratch"/> (≥ k bytes), multiplied with the
    /// s8 weights in s32, and dequantised in the epilogue: y[j] = act(s_x·s_w[j]·(acc[j] − zp_x·sums[j]) + bias[j]).
    /// <paramref name="columnSums"/> comes from <see cref="ColumnSums"/>; an empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvDynamic(ReadOnlySpan<float> x, Span<byte> scratch, ReadOnlySpan<sbyte> packedB, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> weightScale, ReadOnlySpan<float> bias, Span<float> y, int k, int n, FusedActivation act)
    {
        CheckCommon(x.Length, packedB.Length, 0, y.Length, 1, k, n);
        Guard.AtLeast(scratch.Length, k, nameof(scratch));
        Guard.AtLeast(columnSums.Length, n, nameof(columnSums));
        Guard.AtLeast(weightScale.Length, n, nameof(weightScale));
        Guard.Optional(bias.Length, n, nameof(bias));
        var (scaleX, zeroPoint) = QuantizeF32.ChooseParameters(x[..k]);
        QuantizeF32.Run(x[..k], scratch[..k], scaleX, zeroPoint);
        var epilogue = new DynamicEpilogue(ref MemoryMarshal.GetReference(columnSums), zeroPoint, scaleX,
            ref MemoryMarshal.GetReference(weightScale), ref MemoryMarshal.GetReference(bias), !bias.IsEmpty,
            ref MemoryMarshal.GetReference(y), n, act);
        Run(ref MemoryMarshal.GetReference(scratch), ref MemoryMarshal.GetReference(packedB), ref epilogue, 1, k, n);
        if (!ActivationF32.IsRegisterFusable(act.Kind)) ActivationF32.PostPass(y[..n], act);
    }

    private static void CheckCommon(int aLength, int packedLength, int biasLength, int cLength, int m, int k, int n)
    {
        Guard.NonNegative(m, nameof(m));
        Guard.AtLeast(packedLength, PackedLength(k, n), "packedB");
        Guard.AtLeast(aLength, (long)m * k, "x");
        Guard.Optional(biasLength, n, "bias");
        Guard.AtLeast(cLength, (long)m * n, "y");
    }

    /// <summary>Picks the fastest dot-product body this CPU supports; every body hands 16-column results to the epilogue.</summary>
    private static void Run<TEpilogue>(ref byte a, ref sbyte packedB, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        if (m == 0 || n == 0) return;
        if (AvxVnni.IsSupported) Gemm_U8S8I32_4x16_AvxVnni(ref a, ref packedB, ref epilogue, m, k, n);
        else if (Avx512BW.IsSupported) Gemm_U8S8I32_4x16_Avx512BW(ref a, ref packedB, ref epilogue, m, k, n);
        else if (Vector128.IsHardwareAccelerated) Gemm_U8S8I32_1x8_Vector128(ref a, ref packedB, ref epilogue, m, k, n);
        else Gemm_U8S8I32_Scalar(ref a, ref packedB, ref epilogue, m, k, n);
    }

    /// <summary>The reference: one s32 dot product per output in k order, read from the packed layout.</summary>
    internal static void Gemm_U8S8I32_Scalar<TEpilogue>(ref byte a, ref sbyte packedB, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        for (int i = 0; i < m; i++)
        {
            ref byte x = ref Unsafe.Add(ref a, (nint)i * k);
            for (int j = 0; j < n; j++)
            {
                int acc = 0;
                for (int kk = 0; kk < k; kk++)
                    acc += Unsafe.Add(ref x, kk) * Unsafe.Add(ref packedB, PackedIndex(kk, j, k));
                epilogue.Store(acc, i, j);
            }
        }
    }
}
