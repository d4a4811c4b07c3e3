using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Conv with power-of-two ("shift") weights and u8 activations (DeepShift, Elhoushi et al. 2021, post-training form):
/// the weights are stored as 4-bit codes of <see cref="QConv2dU8S8"/>'s (or <see cref="QDepthwiseConv2dU8S8"/>'s)
/// packed s8 layout — half the bytes of int8 — and each call first expands them (<see cref="ShiftGemmU8.Expand"/>, one
/// table lookup per 32 values) into the front of its scratch, then runs the int8 convolution on the s8 values ±2^p.
/// The multiplications are the int8 kernel's: for the small convolutions of these models the decode costs well under
/// a microsecond and a separate shift-add convolution would be slower (docs/low-bit.md).
/// </summary>
public static class ShiftConv2dU8
{
    /// <summary>Bytes of codes for <see cref="PackWeights"/>: half of <see cref="QConv2dU8S8.PackedWeightsLength"/>, rounded up to a 64-value block.</summary>
    public static int PackedWeightsLength(in Conv2dShape shape) => ShiftGemmU8.CodesLength(QConv2dU8S8.PackedWeightsLength(shape));

    /// <summary>ONNX [Cout, Cin/g, kH, kW] values (0 or ±2^p) → codes of <see cref="QConv2dU8S8.PackWeights"/>'s layout.</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, in Conv2dShape shape, Span<byte> codes)
    {
        var packed = new sbyte[QConv2dU8S8.PackedWeightsLength(shape)];
        QConv2dU8S8.PackWeights(w, shape, packed);
        ShiftGemmU8.Compress(packed, codes);
    }

    /// <summary>Bytes of scratch <see cref="Run"/> needs: the expanded weights (64-byte aligned) plus <see cref="QConv2dU8S8.ScratchLength"/>.</summary>
    public static int ScratchLength(in Conv2dShape shape) => checked(Align64(QConv2dU8S8.PackedWeightsLength(shape)) + QConv2dU8S8.ScratchLength(shape));

    /// <summary>Depthwise (groups = in = out channels): codes of <see cref="QDepthwiseConv2dU8S8.PackWeights"/>'s layout.</summary>
    public static int DepthwisePackedWeightsLength(in Conv2dShape shape) => ShiftGemmU8.CodesLength(QDepthwiseConv2dU8S8.PackedWeightsLength(shape));

    /// <summary>Depthwise packing (see <see cref="DepthwisePackedWeightsLength"/>).</summary>
    public static void PackDepthwiseWeights(ReadOnlySpan<sbyte> w, in Conv2dShape shape, Span<byte> codes)
    {
        var packed = new sbyte[QDepthwiseConv2dU8S8.PackedWeightsLength(shape)];
        QDepthwiseConv2dU8S8.PackWeights(w, shape, packed);
        ShiftGemmU8.Compress(packed, codes);
    }

    /// <summary>Scratch of <see cref="RunDepthwise"/>: the expanded weights plus <see cref="QDepthwiseConv2dU8S8.ScratchLength"/>.</summary>
    public static int DepthwiseScratchLength(in Conv2dShape shape) =>
        checked(Align64(QDepthwiseConv2dU8S8.PackedWeightsLength(shape)) + QDepthwiseConv2dU8S8.ScratchLength(shape));

    /// <summary>
    /// <see cref="QConv2dU8S8.Run"/> with the weights given as codes: y = clamp(zp_y + MBQM(Σ (x − zp_x)·w + bias'), Min, Max) → u8.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<byte> x, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, Span<byte> scratch, in Conv2dShape s, int inZeroPoint, in Requant rq)
    {
        int values = QConv2dU8S8.PackedWeightsLength(s);
        Guard.AtLeast(codes.Length, ShiftGemmU8.CodesLength(values), nameof(codes));
        Guard.AtLeast(scratch.Length, ScratchLength(s), nameof(scratch));
        var weights = MemoryMarshal.Cast<byte, sbyte>(scratch[..values]);
        ShiftGemmU8.Expand(codes, weights);
        QConv2dU8S8.Run(x, weights, bias, multiplier, shift, y, scratch[Align64(values)..], s, inZeroPoint, rq);
    }

    /// <summary><see cref="QDepthwiseConv2dU8S8.Run"/> with the weights given as codes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void RunDepthwise(ReadOnlySpan<byte> x, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, Span<byte> scratch, in Conv2dShape s, int inZeroPoint, in Requant rq)
    {
        int values = QDepthwiseConv2dU8S8.PackedWeightsLength(s);
        Guard.AtLeast(codes.Length, ShiftGemmU8.CodesLength(values), nameof(codes));
        Guard.AtLeast(scratch.Length, DepthwiseScratchLength(s), nameof(scratch));
        var weights = MemoryMarshal.Cast<byte, sbyte>(scratch[..values]);
        ShiftGemmU8.Expand(codes, weights);
        QDepthwiseConv2dU8S8.Run(x, weights, bias, multiplier, shift, y, scratch[Align64(values)..], s, inZeroPoint, rq);
    }

    /// <summary>
    /// Bytes of the prepared buffer of <see cref="RunRecord"/> (or <see cref="RunDepthwiseRecord"/> with
    /// <paramref name="depthwise"/>): the tag, the packed s8 weights, and int32 bias, multiplier and shift per channel.
    /// </summary>
    public static int PreparedLength(in Conv2dShape shape, bool depthwise) =>
        checked(ShiftRecord.HeaderBytes + Align64(depthwise ? QDepthwiseConv2dU8S8.PackedWeightsLength(shape) : QConv2dU8S8.PackedWeightsLength(shape))
            + 3 * Align64(4 * shape.OutChannels));

    /// <summary>
    /// <see cref="QConv2dU8S8.Run"/> on a layer stored as a <see cref="ShiftRecord"/> (ONNX-order codes, int16 or int32
    /// bias, a scale code per channel; <paramref name="multiplier"/> and <paramref name="shift"/> the layer's requantisation,
    /// channel c's is <see cref="ShiftRecord.ChannelMultiplier"/> of them). The first call
    /// on an instance fills <paramref name="prepared"/> (arena memory no other step uses) with the int8 kernel's
    /// packed weights and per-channel int32 parameters; every call then runs the int8 convolution on them, so the
    /// codes are not expanded again.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void RunRecord(ReadOnlySpan<byte> x, ReadOnlySpan<byte> record, Span<byte> prepared, Span<byte> y, Span<byte> scratch,
        in Conv2dShape s, int inZeroPoint, in Requant rq, int multiplier, int shift, int biasBytes) =>
        RunPrepared(x, record, prepared, y, scratch, s, inZeroPoint, rq, multiplier, shift, biasBytes, depthwise: false);

    /// <summary><see cref="RunRecord"/> for a depthwise layer (<see cref="QDepthwiseConv2dU8S8.Run"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void RunDepthwiseRecord(ReadOnlySpan<byte> x, ReadOnlySpan<byte> record, Span<byte> prepared, Span<byte> y, Span<byte> scratch,
        in Conv2dShape s, int inZeroPoint, in Requant rq, int multiplier, int shift, int biasBytes) =>
        RunPrepared(x, record, prepared, y, scratch, s, inZeroPoint, rq, multiplier, shift, biasBytes, depthwise: true);

    /// <summary>
    /// Fills a prepared buffer from a record (see <see cref="RunRecord"/>): decodes the values, packs them as the int8
    /// kernel does, widens the bias, derives each channel's multiplier and shift from its scale code, then writes the tag.
    /// </summary>
    public static void Prepare(ReadOnlySpan<byte> record, Span<byte> prepared, in Conv2dShape s, int multiplier, int shift, int biasBytes, bool depthwise)
    {
        int values = s.WeightLength, channels = s.OutChannels;
        Guard.AtLeast(record.Length, ShiftRecord.Length(values, channels, biasBytes), nameof(record));
        Guard.AtLeast(prepared.Length, PreparedLength(s, depthwise), nameof(prepared));
        int packedLength = depthwise ? QDepthwiseConv2dU8S8.PackedWeightsLength(s) : QConv2dU8S8.PackedWeightsLength(s);
        var w = new sbyte[values]; // once per instance and layer
        ShiftRecord.ReadValues(record, w);
        var packed = MemoryMarshal.Cast<byte, sbyte>(prepared.Slice(ShiftRecord.HeaderBytes, packedLength));
        if (depthwise) QDepthwiseConv2dU8S8.PackWeights(w, s, packed);
        else QConv2dU8S8.PackWeights(w, s, packed);
        int at = ParametersAt(s, depthwise), section = Align64(4 * channels);
        ShiftRecord.ReadBias(record, values, biasBytes, ShiftRecord.Ints(prepared, at, channels));
        Span<int> mult = ShiftRecord.Ints(prepared, at + section, channels), shifts = ShiftRecord.Ints(prepared, at + 2 * section, channels);
        ShiftRecord.ReadPerChannel(record, values, biasBytes, shifts);
        for (int c = 0; c < channels; c++) (mult[c], shifts[c]) = ShiftRecord.ChannelMultiplier(multiplier, shift, shifts[c]);
        ShiftRecord.MarkPrepared(prepared);
    }

    private static void RunPrepared(ReadOnlySpan<byte> x, ReadOnlySpan<byte> record, Span<byte> prepared, Span<byte> y, Span<byte> scratch,
        in Conv2dShape s, int inZeroPoint, in Requant rq, int multiplier, int shift, int biasBytes, bool depthwise)
    {
        Guard.AtLeast(prepared.Length, PreparedLength(s, depthwise), nameof(prepared));
        if (!ShiftRecord.IsPrepared(prepared)) Prepare(record, prepared, s, multiplier, shift, biasBytes, depthwise);
        int packedLength = depthwise ? QDepthwiseConv2dU8S8.PackedWeightsLength(s) : QConv2dU8S8.PackedWeightsLength(s);
        var weights = MemoryMarshal.Cast<byte, sbyte>(prepared.Slice(ShiftRecord.HeaderBytes, packedLength));
        int at = ParametersAt(s, depthwise), channels = s.OutChannels, section = Align64(4 * channels);
        ReadOnlySpan<int> bias = ShiftRecord.Ints(prepared, at, channels), mult = ShiftRecord.Ints(prepared, at + section, channels),
            shifts = ShiftRecord.Ints(prepared, at + 2 * section, channels);
        if (depthwise) QDepthwiseConv2dU8S8.Run(x, weights, bias, mult, shifts, y, scratch, s, inZeroPoint, rq);
        else QConv2dU8S8.Run(x, weights, bias, mult, shifts, y, scratch, s, inZeroPoint, rq);
    }

    /// <summary>Byte offset of the bias section of a prepared buffer (multiplier and shift follow, one cache-line-aligned section each).</summary>
    private static int ParametersAt(in Conv2dShape s, bool depthwise) =>
        ShiftRecord.HeaderBytes + Align64(depthwise ? QDepthwiseConv2dU8S8.PackedWeightsLength(s) : QConv2dU8S8.PackedWeightsLength(s));

    private static int Align64(int bytes) => checked((bytes + 63) & ~63);
}
