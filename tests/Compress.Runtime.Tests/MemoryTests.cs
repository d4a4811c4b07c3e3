using System.Reflection;
using System.Runtime.CompilerServices;

namespace Compress.Runtime.Tests;

public class ModelWeightsTests
{
    static unsafe bool Aligned64<T>(ReadOnlySpan<T> span) => ((nuint)Unsafe.AsPointer(ref Unsafe.AsRef(in span[0])) & 63) == 0;

    [Fact]
    public void FromBytes_IsAlignedAndViewsEveryType()
    {
        var bytes = new byte[] { 0, 0, 128, 63, 0, 0, 0, 64, 255, 1, 2, 3 };
        for (int i = 0; i < 20; i++) // different allocations land at different offsets; all must align
        {
            var w = ModelWeights.FromBytes(bytes);
            Assert.Equal(12, w.ByteLength);
            Assert.True(Aligned64(w.U8));
            Assert.Equal(new[] { 1f, 2f, BitConverter.ToSingle(bytes, 8) }, w.F32.ToArray());
            Assert.Equal(bytes, w.U8.ToArray());
            Assert.Equal((sbyte)-1, w.I8[8]);
            Assert.Equal(BitConverter.ToInt32(bytes, 4), w.I32[1]);
        }
        Assert.Equal(0, ModelWeights.FromBytes([]).F32.Length);
    }

    [Fact]
    public void Load_ReadsEmbeddedResourceOnce()
    {
        var asm = typeof(ModelWeightsTests).Assembly;
        var a = ModelWeights.Load(asm, "Compress.Runtime.Tests.weights.bin", 64);
        var b = ModelWeights.Load(asm, "Compress.Runtime.Tests.weights.bin", 64);
        Assert.Same(a, b);
        Assert.True(Aligned64(a.F32));
        for (int i = 0; i < 16; i++) Assert.Equal(i, a.F32[i]);
    }

    [Fact]
    public void Load_MissingResource_NamesIt()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ModelWeights.Load(typeof(ModelWeightsTests).Assembly, "No.Such.weights", 4));
        Assert.Contains("'No.Such.weights'", ex.Message);
        Assert.Contains("Compress.Runtime.Tests", ex.Message);
    }

    [Fact]
    public void Load_WrongLength_NamesResourceAndBothLengths()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ModelWeights.Load(typeof(ModelWeightsTests).Assembly, "Compress.Runtime.Tests.weights.bin", 68));
        Assert.Contains("'Compress.Runtime.Tests.weights.bin'", ex.Message);
        Assert.Contains("64", ex.Message);
        Assert.Contains("68", ex.Message);
    }
}

public class ArenaTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    public unsafe void Span_IsAlignedZeroedAndStable(int floats)
    {
        var arena = new Arena(floats);
        Assert.Equal(floats, arena.Length);
        Assert.Equal(floats, arena.Span.Length);
        Assert.All(arena.Span.ToArray(), v => Assert.Equal(0f, v));
        if (floats == 0) return;
        nuint address = (nuint)Unsafe.AsPointer(ref arena.Span[0]);
        Assert.Equal(0u, address & 63);
        arena.Span[floats - 1] = 5f;
        GC.Collect();
        Assert.Equal(address, (nuint)Unsafe.AsPointer(ref arena.Span[0]));
        Assert.Equal(5f, arena.Span[floats - 1]);
    }

    [Fact]
    public void Negative_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(-1));
}
