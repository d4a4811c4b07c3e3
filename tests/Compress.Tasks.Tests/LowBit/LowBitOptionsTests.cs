using Compress.Tasks.Diagnostics;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Tests.LowBit;

/// <summary>The low-bit metadata: ShiftBits, BinaryActivations, LayerOverrides.</summary>
public class LowBitOptionsTests
{
    [Fact]
    public void Modes_parse_case_insensitively()
    {
        Assert.Equal(QuantizeMode.Shift, QuantizeOptions.ParseMode("shift"));
        Assert.Equal(QuantizeMode.Ternary, QuantizeOptions.ParseMode(" Ternary "));
        Assert.Equal(QuantizeMode.Binary, QuantizeOptions.ParseMode("BINARY"));
    }

    [Theory]
    [InlineData(null, 4)]
    [InlineData("", 4)]
    [InlineData("2", 2)]
    [InlineData(" 3 ", 3)]
    [InlineData("4", 4)]
    public void ShiftBits_default_and_range(string? text, int bits) => Assert.Equal(bits, QuantizeOptions.ParseShiftBits(text));

    [Theory]
    [InlineData("5")]
    [InlineData("1")]
    [InlineData("8")]
    [InlineData("-4")]
    public void ShiftBits_out_of_range_is_CMP018(string text)
    {
        var e = Assert.Throws<CompressException>(() => QuantizeOptions.ParseShiftBits(text));
        Assert.Equal(ErrorCodes.BitWidthOutOfRange, e.Code);
        Assert.Contains($"ShiftBits {int.Parse(text)}", e.Message);
    }

    [Fact]
    public void ShiftBits_not_a_number_is_CMP006() =>
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => QuantizeOptions.ParseShiftBits("four")).Code);

    [Fact]
    public void LayerOverrides_parse_in_order()
    {
        var o = QuantizeOptions.ParseLayerOverrides("fc2=Binary; fc3=Int8 ,conv1=Fp32;x=None;y=int4");
        Assert.Equal(["fc2", "fc3", "conv1", "x", "y"], o.Select(p => p.Key));
        Assert.Equal([NodePrecision.Binary, NodePrecision.Int8, NodePrecision.Fp32, NodePrecision.Fp32, NodePrecision.Int4], o.Select(p => p.Value));
        Assert.Equal(NodePrecision.BinaryXnor, QuantizeOptions.ParseLayerOverrides("fc2=Binary", binaryActivations: true)[0].Value);
        Assert.Empty(QuantizeOptions.ParseLayerOverrides(" ; "));
    }

    [Theory]
    [InlineData("fc2")]
    [InlineData("=Int8")]
    [InlineData("fc2=")]
    [InlineData("fc2=Int3")]
    public void Malformed_LayerOverrides_are_CMP006(string text)
    {
        var e = Assert.Throws<CompressException>(() => QuantizeOptions.ParseLayerOverrides(text));
        Assert.Equal(ErrorCodes.BadMetadata, e.Code);
        Assert.Contains("LayerOverrides", e.Message);
    }

    [Fact]
    public void FromMetadata_reads_all_low_bit_values()
    {
        var o = QuantizeOptions.FromMetadata("Binary", shiftBits: "3", binaryActivations: "true", layerOverrides: "fc2=Binary");
        Assert.Equal(QuantizeMode.Binary, o.Mode);
        Assert.Equal(3, o.ShiftBits);
        Assert.True(o.BinaryActivations);
        Assert.Equal(NodePrecision.BinaryXnor, o.LayerOverrides.Single().Value);
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() => QuantizeOptions.FromMetadata("Shift", binaryActivations: "yes")).Code);
    }
}
