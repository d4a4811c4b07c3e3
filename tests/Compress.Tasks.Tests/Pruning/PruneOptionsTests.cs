using Compress.Tasks.Diagnostics;
using Compress.Tasks.Pruning;

namespace Compress.Tasks.Tests.Pruning;

public class PruneOptionsTests
{
    [Fact]
    public void Defaults_follow_the_metadata_table()
    {
        var o = PruneOptions.FromMetadata("0.8", null, hasCalibrationData: true);
        Assert.Equal(0.8, o.Sparsity);
        Assert.Equal(PruneMode.Unstructured, o.Mode);
        Assert.Equal(PruneScope.Global, o.Scope);
        Assert.True(o.Reconstruct);

        var plain = PruneOptions.FromMetadata("0.8", "", hasCalibrationData: false);
        Assert.False(plain.Reconstruct); // nothing to reconstruct from: plain magnitude

        var channel = PruneOptions.FromMetadata("0.5", "channel", hasCalibrationData: true);
        Assert.Equal(PruneMode.Channel, channel.Mode);
        Assert.Equal(PruneScope.Layer, channel.Scope);
        Assert.Equal(PruneCriterion.Reconstruction, channel.Criterion);
        Assert.Equal(PruneCriterion.L1, PruneOptions.FromMetadata("0.5", "Channel").Criterion);
    }

    [Fact]
    public void Patterns_parse()
    {
        var nm = PruneOptions.FromMetadata(null, "NofM", "2:4");
        Assert.Equal((2, 4, 0.5), (nm.N, nm.M, nm.Sparsity));
        Assert.Equal(0.75, PruneOptions.FromMetadata("0.75", "NofM", "1:4").Sparsity);
        var block = PruneOptions.FromMetadata("0.7", "Block", "8x1");
        Assert.Equal((8, 1), (block.BlockRows, block.BlockColumns));
        Assert.Equal("8x1", block.Pattern);
    }

    [Theory]
    [InlineData("0", null, null)]
    [InlineData("1", null, null)]
    [InlineData("1.5", null, null)]
    [InlineData("-0.2", null, null)]
    [InlineData("0,8", null, null)]
    [InlineData("abc", null, null)]
    [InlineData(null, "Unstructured", null)]   // no fraction
    [InlineData("0.5", "Sparse", null)]        // unknown mode
    [InlineData("0.5", "NofM", "4:2")]
    [InlineData("0.5", "NofM", "2x4")]
    [InlineData("0.8", "NofM", "2:4")]         // 2:4 removes 50%, not 80%
    [InlineData("0.5", "Block", "1x1")]
    [InlineData("0.5", "Block", "2:4")]
    [InlineData("0.5", "Unstructured", "2:4")] // a pattern without a patterned mode
    public void Bad_values_are_CMP006(string? prune, string? mode, string? pattern)
    {
        var e = Assert.Throws<CompressException>(() => PruneOptions.FromMetadata(prune, mode, pattern, hasCalibrationData: true));
        Assert.Equal(ErrorCodes.BadMetadata, e.Code);
        Assert.Contains("expected", e.Message);
    }

    [Fact]
    public void Reconstruction_without_calibration_data_is_CMP006()
    {
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => PruneOptions.FromMetadata("0.5", null, reconstruct: "true")).Code);
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => PruneOptions.FromMetadata("0.5", "Channel", criterion: "Reconstruction")).Code);
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => PruneOptions.FromMetadata("0.5", null, criterion: "L1", hasCalibrationData: true)).Code);
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => PruneOptions.FromMetadata("0.5", null, reconstruct: "yes", hasCalibrationData: true)).Code);
    }
}
