namespace Compress.Runtime.Kernels;

/// <summary>
/// Element counts of one packed sparse weight tensor: <see cref="Values"/> (f32 or s8, per the kernel),
/// <see cref="Indices"/> (ushort) and <see cref="Rows"/> (int; empty for N:M, whose rows all have the same length).
/// </summary>
/// <param name="Values">Value elements (floats for the f32 kernels, sbytes for int8).</param>
/// <param name="Indices">ushort elements of index metadata.</param>
/// <param name="Rows">int elements of slice offsets and the lane → row map.</param>
public readonly record struct SparsePackedLengths(int Values, int Indices, int Rows)
{
    /// <summary>Total bytes with <paramref name="valueBytes"/> bytes per value (4 for f32, 1 for s8).</summary>
    public long Bytes(int valueBytes) => (long)Values * valueBytes + 2L * Indices + 4L * Rows;
}

/// <summary>The sparse weight formats the runtime has kernels for (what <see cref="SparseFormats"/> sizes and rates).</summary>
public enum SparseFormat
{
    /// <summary>Dense <see cref="GemmF32"/> / <see cref="QGemmU8S8"/> panels (the baseline).</summary>
    Dense,

    /// <summary>Unstructured (<see cref="SparseGemmF32"/>: windowed SELL-16-256, 4-byte values + 10 bytes of indices per 16-lane step).</summary>
    Unstructured,

    /// <summary>N:M (<see cref="NmGemmF32"/>): N non-zeros in every group of M consecutive k.</summary>
    NM,

    /// <summary>1×4 blocks (1 row × 4 consecutive k; <see cref="BlockSparseGemmF32"/>, and the int8 <see cref="SparseQGemmU8S8"/>).</summary>
    Block1x4,

    /// <summary>4×1 blocks (4 consecutive rows × 1 k; <see cref="BlockSparseGemmF32"/>).</summary>
    Block4x1,

    /// <summary>8×1 blocks (8 consecutive rows × 1 k; <see cref="BlockSparseGemmF32"/>).</summary>
    Block8x1,
}

/// <summary>
/// Packed sizes of every sparse format, in bytes, so a lowering can count weight bytes per format, plus the break-even
/// densities measured on the reference machine (see docs/runtime-kernels-sparse.md) for choosing one. All sizes are
/// those of the packing functions, exactly (data-dependent formats run the packer's planning pass).
/// </summary>
public static class SparseFormats
{
    /// <summary>Bytes of the dense f32 panels of a k×n weight (<see cref="GemmF32.PackedLength"/>·4).</summary>
    public static long DenseF32Bytes(int k, int n) => 4L * GemmF32.PackedLength(k, n);

    /// <summary>Bytes of the dense s8 panels of a k×n weight (<see cref="QGemmU8S8.PackedLength"/>).</summary>
    public static long DenseS8Bytes(int k, int n) => QGemmU8S8.PackedLength(k, n);

    /// <summary>
    /// Bytes of B (k×n row-major, or n×k when <paramref name="transposed"/>) packed in f32 <paramref name="format"/>;
    /// <paramref name="nmN"/>:<paramref name="nmM"/> only for <see cref="SparseFormat.NM"/>. Returns −1 when the
    /// format cannot hold this matrix (k &gt; 65536, or an N:M group with more than N non-zeros).
    /// </summary>
    public static long F32Bytes(SparseFormat format, ReadOnlySpan<float> b, bool transposed, int k, int n, int nmN = 2, int nmM = 4)
    {
        if (format == SparseFormat.Dense) return DenseF32Bytes(k, n);
        if (k > MaxK) return -1;
        return format switch
        {
            SparseFormat.Unstructured => SparseGemmF32.PackedLengths(b, transposed, k, n).Bytes(4),
            SparseFormat.NM => NmGemmF32.Fits(b, transposed, k, n, nmN, nmM) ? NmGemmF32.PackedLengths(k, n, nmN, nmM).Bytes(4) : -1,
            SparseFormat.Block1x4 => BlockSparseGemmF32.PackedLengths(b, transposed, k, n, 1, 4).Bytes(4),
            SparseFormat.Block4x1 => BlockSparseGemmF32.PackedLengths(b, transposed, k, n, 4, 1).Bytes(4),
            SparseFormat.Block8x1 => BlockSparseGemmF32.PackedLengths(b, transposed, k, n, 8, 1).Bytes(4),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
    }

    /// <summary>Bytes of the s8 weight B packed for <see cref="SparseQGemmU8S8"/> (1×4 blocks), or the dense panels.</summary>
    public static long S8Bytes(SparseFormat format, ReadOnlySpan<sbyte> b, bool transposed, int k, int n) => format switch
    {
        SparseFormat.Dense => DenseS8Bytes(k, n),
        SparseFormat.Block1x4 or SparseFormat.Unstructured => k > MaxK ? -1 : SparseQGemmU8S8.PackedLengths(b, transposed, k, n).Bytes(1),
        _ => -1,
    };

    /// <summary>Largest k the ushort indices can address.</summary>
    public const int MaxK = 65536;

    /// <summary>L2 size of the reference machine the break-even densities were measured on (Emerald Rapids, 2 MB per core).</summary>
    public const long ReferenceL2Bytes = 2L * 1024 * 1024;

    /// <summary>
    /// Weight density (fraction of non-zero weights; for block formats, of non-zero blocks; for N:M, N/M) below which the
    /// f32 sparse kernel ran faster than dense <see cref="GemmF32.Gemv"/> at batch 1 on the reference machine
    /// (docs/runtime-kernels-sparse.md, BenchmarkDotNet medians, rounded down to leave a margin). Two regimes:
    /// dense weights larger than ≈ ¾ of the L2 (k·n·4 bytes; dense then streams from L3 at ≈ 23 GB/s, e.g. 1024×1024)
    /// and smaller ones (dense runs from L2 at ≈ 100 GB/s, e.g. 256×256), where sparsity must be much higher to pay.
    /// A lowering should pick, among the formats a weight fits whose density is under the break-even, the one with the
    /// fewest packed bytes (<see cref="F32Bytes"/>), preferring 8×1 &gt; 4×1 ≈ 1×4 ≈ unstructured at equal bytes.
    /// </summary>
    public static double BreakEvenDensityF32(SparseFormat format, int k, int n)
    {
        bool fromL3 = DenseF32Bytes(k, n) > ReferenceL2Bytes * 3 / 4;
        return format switch
        {
            SparseFormat.Dense => 1.0,
            SparseFormat.Unstructured => fromL3 ? 0.60 : 0.25,
            SparseFormat.NM => fromL3 ? 0.70 : 0.35,
            SparseFormat.Block1x4 => fromL3 ? 0.60 : 0.12,
            SparseFormat.Block4x1 => fromL3 ? 0.55 : 0.18,
            SparseFormat.Block8x1 => fromL3 ? 0.65 : 0.35,
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
    }

    /// <summary>
    /// The same for <see cref="SparseQGemmU8S8"/> against dense <see cref="QGemmU8S8.Gemv"/> (whose s8 weights are 4×
    /// smaller and stay in L2, so sparsity must be much higher to pay): the density of non-zero 1×4 blocks (4-aligned
    /// k-groups of a column). Unstructured int8 weights count every group holding a non-zero: at 90 % random sparsity
    /// 34 % of the groups survive, which does not pay; at 95 % (19 %) it does, barely.
    /// </summary>
    public const double BreakEvenBlockDensityS8 = 0.20;
}
