using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Gemm / MatMul with a constant B: y = act(x·B + bias). B is packed at build time into column panels of 16
/// (<c>[ceil(n/16)][k][16]</c>, zero padded), the GotoBLAS-style layout that lets a register-blocked micro-kernel
/// stream every weight exactly once, sequentially.
/// </summary>
public static partial class GemmF32
{
    /// <summary>Width of a packed column panel (one Vector512 of floats). Part of the packed format: never CPU-dependent.</summary>
    public const int PanelWidth = 16;

    /// <summary>Floats needed by <see cref="PackB"/>: ceil(n/16)·k·16.</summary>
    public static int PackedLength(int k, int n)
    {
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        return checked(Panels(n) * k * PanelWidth);
    }

    internal static int Panels(int n) => (n + PanelWidth - 1) / PanelWidth;

    /// <summary>
    /// Packs B (k×n row-major, or n×k row-major when <paramref name="transposed"/>, as ONNX Gemm transB=1 stores it)
    /// into <c>packed[p][kk][j] = B[kk, 16p + j]</c>, zero for columns ≥ n.
    /// </summary>
    public static void PackB(ReadOnlySpan<float> b, bool transposed, int k, int n, Span<float> packed)
    {
        int length = PackedLength(k, n);
        Guard.AtLeast(b.Length, (long)k * n, nameof(b));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        for (int p = 0; p < Panels(n); p++)
            for (int kk = 0; kk < k; kk++)
                for (int j = 0; j < PanelWidth; j++)
                {
                    int col = p * PanelWidth + j;
                    packed[(p * k + kk) * PanelWidth + j] = col >= n ? 0f : transposed ? b[col * k + kk] : b[kk * n + col];
                }
    }

    /// <summary>y[j] = act(Σₖ x[k]·B[k,j] + bias[j]) for j &lt; n (a Gemm with one row). An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<float> x, ReadOnlySpan<float> packedB, ReadOnlySpan<float> bias, Span<float> y, int k, int n, FusedActivation act)
    {
        Guard.AtLeast(packedB.Length, PackedLength(k, n), nameof(packedB));
        Guard.AtLeast(x.Length, k, nameof(x));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(y.Length, n, nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float bs = ref MemoryMarshal.GetReference(packedB);
        ref float bi = ref MemoryMarshal.GetReference(bias);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) Gemv_F32_8x16_Vector512(ref xs, ref bs, ref bi, !bias.IsEmpty, ref ys, k, n, act);
        else if (Vector256.IsHardwareAccelerated) Gemv_F32_4x16_Vector256(ref xs, ref bs, ref bi, !bias.IsEmpty, ref ys, k, n, act);
        else if (Vector128.IsHardwareAccelerated) Gemv_F32_2x16_Vector128(ref xs, ref bs, ref bi, !bias.IsEmpty, ref ys, k, n, act);
        else
        {
            Gemv_F32_Scalar(ref xs, ref bs, ref bi, !bias.IsEmpty, ref ys, k, n, act);
            return;
        }
        ActivationF32.PostPass(y[..n], act);
    }

    /// <summary>C[i,j] = act(Σₖ A[i,k]·B[k,j] + bias[j]) with A row-major m×k and C row-major m×n. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemm(ReadOnlySpan<float> a, ReadOnlySpan<float> packedB, ReadOnlySpan<float> bias, Span<float> c, int m, int k, int n, FusedActivation act)
    {
        Guard.NonNegative(m, nameof(m));
        Guard.AtLeast(packedB.Length, PackedLength(k, n), nameof(packedB));
        Guard.AtLeast(a.Length, (long)m * k, nameof(a));
        Guard.Optional(bias.Length, n, nameof(bias));
        Guard.AtLeast(c.Length, (long)m * n, nameof(c));
        ref float xs = ref MemoryMarshal.GetReference(a);
        ref float bs = ref MemoryMarshal.GetReference(packedB);
        ref float bi = ref MemoryMarshal.GetReference(bias);
        ref float cs = ref MemoryMarshal.GetReference(c);
        if (Vector512.IsHardwareAccelerated) Gemm_F32_4x32_Vector512(ref xs, ref bs, ref bi, !bias.IsEmpty, ref cs, m, k, n, act);
        else if (Vector256.IsHardwareAccelerated) Gemm_F32_4x16_Vector256(ref xs, ref bs, ref bi, !bias.IsEmpty, ref cs, m, k, n, act);
        else if (Vector128.IsHardwareAccelerated) Gemm_F32_2x16_Vector128(ref xs, ref bs, ref bi, !bias.IsEmpty, ref cs, m, k, n, act);
        else
        {
            Gemm_F32_Scalar(ref xs, ref bs, ref bi, !bias.IsEmpty, ref cs, m, k, n, act);
            return;
        }
        ActivationF32.PostPass(c[..(m * n)], act);
    }

    /// <summary>The reference for <see cref="Gemm"/>: <see cref="Gemv_F32_Scalar"/> per row.</summary>
    internal static void Gemm_F32_Scalar(ref float a, ref float packedB, ref float bias, bool hasBias, ref float c, int m, int k, int n, in FusedActivation act)
    {
        for (int i = 0; i < m; i++)
            Gemv_F32_Scalar(ref Unsafe.Add(ref a, (nint)i * k), ref packedB, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), k, n, act);
    }

    /// <summary>The reference: one dot product per output, in k order.</summary>
    internal static void Gemv_F32_Scalar(ref float x, ref float packedB, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        for (int j = 0; j < n; j++)
        {
            ref float panel = ref Unsafe.Add(ref packedB, (nint)(j / PanelWidth) * k * PanelWidth + j % PanelWidth);
            float sum = hasBias ? Unsafe.Add(ref bias, j) : 0f;
            for (int kk = 0; kk < k; kk++)
                sum += Unsafe.Add(ref x, kk) * Unsafe.Add(ref panel, (nint)kk * PanelWidth);
            Unsafe.Add(ref y, j) = ActivationF32.Scalar(sum, act);
        }
    }
}
