using System.Runtime.CompilerServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX MatMul of two run-time tensors (attention's Q·Kᵀ and P·V; https://onnx.ai/onnx/operators/onnx__MatMul.html):
/// per batch, B is packed into <see cref="GemmF32"/>'s panel layout and multiplied by the GEMM (or GEMV) kernels.
/// </summary>
public static class BatchedMatMulF32
{
    /// <summary>Floats of scratch <see cref="Run"/> needs: one packed B.</summary>
    public static int ScratchLength(int k, int n) => GemmF32.PackedLength(k, n);

    /// <summary>
    /// y[t] = a[t]·b[t] for t &lt; batch, a[t] the m×k matrix at t·aStride, b[t] the k×n matrix at t·bStride, y[t] the
    /// m×n matrix at t·m·n. A stride of 0 broadcasts one matrix to every batch (B is then packed once).
    /// <paramref name="packed"/> is scratch of <see cref="ScratchLength"/> floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, Span<float> packed,
        int batch, int m, int k, int n, int aStride, int bStride)
    {
        Guard.NonNegative(batch, nameof(batch));
        Guard.NonNegative(m, nameof(m));
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
        Guard.NonNegative(aStride, nameof(aStride));
        Guard.NonNegative(bStride, nameof(bStride));
        if (batch == 0 || m == 0 || n == 0) return;
        Guard.AtLeast(a.Length, (long)(batch - 1) * aStride + (long)m * k, nameof(a));
        Guard.AtLeast(b.Length, (long)(batch - 1) * bStride + (long)k * n, nameof(b));
        Guard.AtLeast(y.Length, (long)batch * m * n, nameof(y));
        Guard.AtLeast(packed.Length, ScratchLength(k, n), nameof(packed));
        for (int t = 0; t < batch; t++)
        {
            if (t == 0 || bStride != 0) GemmF32.PackB(b.Slice(t * bStride, k * n), transposed: false, k, n, packed);
            var at = a.Slice(t * aStride, m * k);
            var yt = y.Slice(t * m * n, m * n);
            if (m == 1) GemmF32.Gemv(at, packed, default, yt, k, n, FusedActivation.None);
            else GemmF32.Gemm(at, packed, default, yt, m, k, n, FusedActivation.None);
        }
    }

    /// <summary>The scalar reference, in double.</summary>
    internal static void Run_F32_Scalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int batch, int m, int k, int n, int aStride, int bStride)
    {
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double)a[t * aStride + i * k + p] * b[t * bStride + p * n + j];
                    y[(t * m + i) * n + j] = (float)s;
                }
    }
}
