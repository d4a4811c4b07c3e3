using Compress.Runtime.Kernels;

namespace Compress.Runtime.Tests.Sparse;

public class SparseFormatsTests
{
    [Fact]
    public void Bytes_MatchEachPackersLengths()
    {
        var rng = new Random(1);
        int k = 70, n = 50;
        var b = SparseData.Unstructured(rng, k, n, 0.2, true);
        Assert.Equal(4L * GemmF32.PackedLength(k, n), SparseFormats.F32Bytes(SparseFormat.Dense, b, true, k, n));
        Assert.Equal(SparseGemmF32.PackedLengths(b, true, k, n).Bytes(4), SparseFormats.F32Bytes(SparseFormat.Unstructured, b, true, k, n));
        Assert.Equal(BlockSparseGemmF32.PackedLengths(b, true, k, n, 1, 4).Bytes(4), SparseFormats.F32Bytes(SparseFormat.Block1x4, b, true, k, n));
        Assert.Equal(BlockSparseGemmF32.PackedLengths(b, true, k, n, 4, 1).Bytes(4), SparseFormats.F32Bytes(SparseFormat.Block4x1, b, true, k, n));
        Assert.Equal(BlockSparseGemmF32.PackedLengths(b, true, k, n, 8, 1).Bytes(4), SparseFormats.F32Bytes(SparseFormat.Block8x1, b, true, k, n));
        Assert.Equal(-1, SparseFormats.F32Bytes(SparseFormat.NM, b, true, k, n, 2, 4)); // 20 % random is not 2:4
        var nm = SparseData.NM(rng, k, n, 2, 4, true);
        Assert.Equal(NmGemmF32.PackedLengths(k, n, 2, 4).Bytes(4), SparseFormats.F32Bytes(SparseFormat.NM, nm, true, k, n, 2, 4));
        var s8 = new sbyte[k * n];
        for (int i = 0; i < s8.Length; i += 7) s8[i] = 3;
        Assert.Equal(QGemmU8S8.PackedLength(k, n), SparseFormats.S8Bytes(SparseFormat.Dense, s8, false, k, n));
        Assert.Equal(SparseQGemmU8S8.PackedLengths(s8, false, k, n).Bytes(1), SparseFormats.S8Bytes(SparseFormat.Block1x4, s8, false, k, n));
        Assert.Equal(-1, SparseFormats.S8Bytes(SparseFormat.NM, s8, false, k, n));
    }

    [Fact]
    public void SparseBytes_ShrinkWithDensity()
    {
        var rng = new Random(2);
        int k = 256, n = 256;
        long dense = SparseFormats.DenseF32Bytes(k, n);
        long at50 = SparseFormats.F32Bytes(SparseFormat.Unstructured, SparseData.Unstructured(rng, k, n, 0.5, true), true, k, n);
        long at10 = SparseFormats.F32Bytes(SparseFormat.Unstructured, SparseData.Unstructured(rng, k, n, 0.1, true), true, k, n);
        Assert.True(at10 < at50 && at50 < dense, $"{at10} < {at50} < {dense}");
        foreach (var format in Enum.GetValues<SparseFormat>())
        {
            Assert.InRange(SparseFormats.BreakEvenDensityF32(format, 1024, 1024), 0.0, 1.0);
            Assert.True(SparseFormats.BreakEvenDensityF32(format, 256, 256) <= SparseFormats.BreakEvenDensityF32(format, 1024, 1024));
        }
        Assert.InRange(SparseFormats.BreakEvenBlockDensityS8, 0.0, 1.0);
    }
}
