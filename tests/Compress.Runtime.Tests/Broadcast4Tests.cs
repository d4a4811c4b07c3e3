namespace Compress.Runtime.Tests;

[Trait(Simd.Category, Simd.Kernel)]
public class Broadcast4Tests
{
    [Fact]
    public void PerChannel_CollapsesSpatialDims()
    {
        var bc = Broadcast4.Create([1, 16, 8, 8], [1, 16, 1, 1], [1, 16, 8, 8]);
        Assert.Equal(new Broadcast4(1, 1, 16, 64, 0, 0, 1, 0, 0, 0, 64, 1), bc);
    }

    [Fact]
    public void SameShape_IsOneContiguousDim()
    {
        Assert.Equal(new Broadcast4(1, 1, 1, 210, 0, 0, 0, 1, 0, 0, 0, 1), Broadcast4.Create([2, 3, 5, 7], [2, 3, 5, 7], [2, 3, 5, 7]));
        Assert.Equal(new Broadcast4(1, 1, 2, 105, 0, 0, 105, 1, 0, 0, 0, 1), Broadcast4.Create([2, 3, 5, 7, 1, 1, 1], [2, 3, 5, 7, 1, 1, 1], [1, 3, 5, 7, 1, 1, 1]));
    }

    [Fact]
    public void Scalar_Row_Column()
    {
        Assert.Equal(new Broadcast4(1, 1, 1, 30, 0, 0, 0, 1, 0, 0, 0, 0), Broadcast4.Create([5, 6], [5, 6], []));
        Assert.Equal(new Broadcast4(1, 1, 1, 30, 0, 0, 0, 0, 0, 0, 0, 1), Broadcast4.Create([5, 6], [1], [5, 6]));
        Assert.Equal(new Broadcast4(1, 1, 5, 6, 0, 0, 6, 1, 0, 0, 0, 1), Broadcast4.Create([5, 6], [5, 6], [6]));
        Assert.Equal(new Broadcast4(1, 1, 5, 6, 0, 0, 6, 1, 0, 0, 1, 0), Broadcast4.Create([5, 6], [5, 6], [5, 1]));
        Assert.Equal(new Broadcast4(1, 1, 5, 6, 0, 0, 1, 0, 0, 0, 0, 1), Broadcast4.Create([5, 6], [5, 1], [1, 6]));
    }

    [Fact]
    public void Empty_HasZeroLength()
    {
        Assert.Equal(0, Broadcast4.Create([3, 0, 4], [3, 0, 4], [4]).Length);
    }

    [Fact]
    public void AlternatingBroadcastPattern_NeedsFiveDims_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Broadcast4.Create([2, 3, 2, 3, 2], [2, 1, 2, 1, 2], [1, 3, 1, 3, 1]));
        Assert.Contains("at most 4", ex.Message);
    }

    [Fact]
    public void Incompatible_Throws()
    {
        Assert.Throws<ArgumentException>(() => Broadcast4.Create([4, 5], [4, 5], [3]));
        Assert.Throws<ArgumentException>(() => Broadcast4.Create([4, 5], [4, 5, 1], [5]));
        Assert.Throws<ArgumentException>(() => Broadcast4.Create([4, 5], [2, 5], [4, 5]));
    }
}
