using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime.Kernels;

/// <summary>Data movement: strided row copies (ONNX Concat, Identity, Slice along rows) and ONNX Transpose as a strided gather.</summary>
public static partial class CopyF32
{
    /// <summary>y[r·dstStride + i] = x[r·srcStride + i] for r &lt; rows, i &lt; rowLength.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Rows(ReadOnlySpan<float> x, Span<float> y, int rows, int rowLength, int srcStride, int dstStride)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(rowLength, nameof(rowLength));
        Guard.NonNegative(srcStride, nameof(srcStride));
        Guard.NonNegative(dstStride, nameof(dstStride));
        if (rows == 0 || rowLength == 0) return;
        Guard.AtLeast(x.Length, (long)(rows - 1) * srcStride + rowLength, nameof(x));
        Guard.AtLeast(y.Length, (long)(rows - 1) * dstStride + rowLength, nameof(y));
        for (int r = 0; r < rows; r++)
            x.Slice(r * srcStride, rowLength).CopyTo(y.Slice(r * dstStride, rowLength));
    }

    /// <summary>ONNX Transpose: y in output order, y[i0..i5] = x[Σ i_d·S_d].</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Permute(ReadOnlySpan<float> x, Span<float> y, in Permute6 p)
    {
        if (p.D0 < 0 || p.D1 < 0 || p.D2 < 0 || p.D3 < 0 || p.D4 < 0 || p.D5 < 0
            || p.S0 < 0 || p.S1 < 0 || p.S2 < 0 || p.S3 < 0 || p.S4 < 0 || p.S5 < 0)
            throw new ArgumentException($"Invalid {p}.", nameof(p));
        long n = p.Length;
        Guard.AtLeast(y.Length, n, nameof(y));
        if (n == 0) return;
        Guard.AtLeast(x.Length, (long)(p.D0 - 1) * p.S0 + (long)(p.D1 - 1) * p.S1 + (long)(p.D2 - 1) * p.S2
            + (long)(p.D3 - 1) * p.S3 + (long)(p.D4 - 1) * p.S4 + (long)(p.D5 - 1) * p.S5 + 1, nameof(x));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int inner = p.D5;
        for (int i0 = 0; i0 < p.D0; i0++)
            for (int i1 = 0; i1 < p.D1; i1++)
                for (int i2 = 0; i2 < p.D2; i2++)
                    for (int i3 = 0; i3 < p.D3; i3++)
                        for (int i4 = 0; i4 < p.D4; i4++)
                        {
                            ref float src = ref Unsafe.Add(ref xs, (nint)i0 * p.S0 + (nint)i1 * p.S1 + (nint)i2 * p.S2 + (nint)i3 * p.S3 + (nint)i4 * p.S4);
                            if (p.S5 == 1)
                            {
                                // Contiguous innermost run (Permute6.Create merges these): a vectorised block copy.
                                MemoryMarshal.CreateReadOnlySpan(ref src, inner).CopyTo(MemoryMarshal.CreateSpan(ref ys, inner));
                            }
                            else
                            {
                                nint stride = p.S5;
                                for (nint i = 0; i < inner; i++) Unsafe.Add(ref ys, i) = Unsafe.Add(ref src, i * stride);
                            }
                            ys = ref Unsafe.Add(ref ys, inner);
                        }
    }

    internal static void Permute_F32_Scalar(ReadOnlySpan<float> x, Span<float> y, in Permute6 p)
    {
        int o = 0;
        for (int i0 = 0; i0 < p.D0; i0++)
            for (int i1 = 0; i1 < p.D1; i1++)
                for (int i2 = 0; i2 < p.D2; i2++)
                    for (int i3 = 0; i3 < p.D3; i3++)
                        for (int i4 = 0; i4 < p.D4; i4++)
                            for (int i5 = 0; i5 < p.D5; i5++)
                                y[o++] = x[i0 * p.S0 + i1 * p.S1 + i2 * p.S2 + i3 * p.S3 + i4 * p.S4 + i5 * p.S5];
    }
}
