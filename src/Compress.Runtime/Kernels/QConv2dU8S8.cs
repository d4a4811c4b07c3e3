using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Quantised ONNX Conv (NCHW, u8 activations × s8 weights → s32 → requantised u8; Jacob et al., CVPR 2018) as a direct
/// convolution over a channel-interleaved copy of the input: each group's input is copied once into scratch as
/// <c>[ceil(Cin/4)][PH][PW][4]</c> (4 consecutive input channels per 32-bit lane, borders filled with the input zero
/// point), so for stride 1 the 4-channel pixels under one tap for 8 or 16 consecutive outputs are one contiguous load —
/// the u8 operand of <c>vpdpbusd</c> — and the 4 weights of an output channel for those channels and that tap are one
/// broadcast 32-bit lane. Other strides first gather per-tap rows into <c>[ceil(Cin/4)][kH·kW][OutH·OutW↑16][4]</c>
/// (im2col with 4-byte elements) and run the same kernel. Requantisation is fused in the epilogue.
/// </summary>
public static partial class QConv2dU8S8
{
    /// <summary>Output channels per packed weight block. Part of the packed format.</summary>
    public const int BlockRows = 4;

    /// <summary>Input channels per 32-bit lane. Part of the packed format.</summary>
    public const int ChannelGroup = 4;

    /// <summary>Bytes of slack after the interleaved input so the last (partial) pixel vector may read past it.</summary>
    internal const int Slack = 64;

    /// <summary>
    /// Bytes needed by <see cref="PackWeights"/>: groups · ceil((Cout/groups)/4) · ceil((Cin/groups)/4) · kH·kW · 16.
    /// </summary>
    public static int PackedWeightsLength(in Conv2dShape shape)
    {
        shape.Validate();
        return checked(shape.Groups * Blocks(shape.OutChannelsPerGroup) * ChannelGroups(shape.InChannelsPerGroup)
            * shape.KernelHeight * shape.KernelWidth * BlockRows * ChannelGroup);
    }

    internal static int Blocks(int coG) => (coG + BlockRows - 1) / BlockRows;

    internal static int ChannelGroups(int cinG) => (cinG + ChannelGroup - 1) / ChannelGroup;

    /// <summary>
    /// ONNX weight <c>[Cout, Cin/groups, kH, kW]</c> → per group, blocks of 4 output channels, each
    /// <c>[ceil(Cin_g/4)][kH·kW][4 output channels][4 input channels]</c> (taps in (ky, kx) order), zero padded past
    /// Cout/groups and Cin/groups.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, in Conv2dShape shape, Span<sbyte> packed)
    {
        int length = PackedWeightsLength(shape);
        Guard.AtLeast(w.Length, shape.WeightLength, nameof(w));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        packed[..length].Clear();
        int coG = shape.OutChannelsPerGroup, cinG = shape.InChannelsPerGroup, taps = shape.KernelHeight * shape.KernelWidth;
        for (int g = 0; g < shape.Groups; g++)
            for (int co = 0; co < coG; co++)
                for (int ci = 0; ci < cinG; ci++)
                    for (int t = 0; t < taps; t++)
                        packed[(int)PackedIndex(shape, g, co, ci, t)] = w[((g * coG + co) * cinG + ci) * taps + t];
    }

    /// <summary>Byte offset of weight (group g, output channel co of the group, input channel ci of the group, tap t).</summary>
    internal static nint PackedIndex(in Conv2dShape s, int g, int co, int ci, int t)
    {
        int taps = s.KernelHeight * s.KernelWidth, steps = ChannelGroups(s.InChannelsPerGroup) * taps;
        nint block = (nint)g * Blocks(s.OutChannelsPerGroup) + co / BlockRows;
        return ((block * steps + (ci / ChannelGroup) * taps + t) * BlockRows + co % BlockRows) * ChannelGroup + ci % ChannelGroup;
    }

    /// <summary>sums[co] = Σ w[co, ·, ·, ·]: at build time bias'[co] = bias[co] − zp_x·sums[co] folds in the input zero point.</summary>
    public static void WeightSums(ReadOnlySpan<sbyte> w, in Conv2dShape shape, Span<int> sums)
    {
        shape.Validate();
        Guard.AtLeast(w.Length, shape.WeightLength, nameof(w));
        Guard.AtLeast(sums.Length, shape.OutChannels, nameof(sums));
        int r = shape.ReductionLength;
        for (int co = 0; co < shape.OutChannels; co++)
        {
            int s = 0;
            foreach (sbyte v in w.Slice(co * r, r)) s += v;
            sums[co] = s;
        }
    }

    /// <summary>Pixels rounded up to 16 (the row length of the gathered per-tap rows).</summary>
    internal static int PaddedPixels(int pixels) => (pixels + 15) & ~15;

    /// <summary>Output pixels rounded up to 16.</summary>
    internal static int PaddedPlane(in Conv2dShape s) => PaddedPixels(s.OutPlane);

    /// <summary>Output rows gathered per chunk at strides other than 1: about 256 KiB of per-tap rows (at least one
    /// row), so the gathered rows stay in L2 while every output-channel block passes over them.</summary>
    internal static int GatherChunkRows(in Conv2dShape s)
    {
        long perRow = (long)ChannelGroups(s.InChannelsPerGroup) * s.KernelHeight * s.KernelWidth * Math.Max(1, s.OutWidth) * ChannelGroup;
        return (int)Math.Clamp(256 * 1024 / Math.Max(1, perRow), 1, Math.Max(1, s.OutHeight));
    }

    /// <summary>Bytes of the interleaved, padded input of one group.</summary>
    internal static int InterleavedLength(in Conv2dShape s) =>
        checked(ChannelGroups(s.InChannelsPerGroup) * s.PaddedHeight * s.PaddedWidth * ChannelGroup);

    /// <summary>
    /// Bytes of scratch <see cref="Run"/> needs: the interleaved padded input of one group, plus for strides other than
    /// 1 the gathered per-tap rows of one chunk of output rows <c>ceil(Cin_g/4)·kH·kW·(rows·OutW↑16)·4</c> (rows from
    /// <see cref="GatherChunkRows"/>), plus 64 bytes of slack.
    /// </summary>
    public static int ScratchLength(in Conv2dShape shape)
    {
        shape.Validate();
        long length = InterleavedLength(shape) + Slack;
        if (!shape.IsUnitStride)
            length += (long)ChannelGroups(shape.InChannelsPerGroup) * shape.KernelHeight * shape.KernelWidth
                * PaddedPixels(GatherChunkRows(shape) * shape.OutWidth) * ChannelGroup;
        return checked((int)length);
    }

    /// <summary>
    /// y[co] = clamp(zp_y + MBQM(Σ (x − zp_x)·w + bias[co], multiplier[co], shift[co]), Min, Max) → u8, where taps in
    /// the padding read <paramref name="inZeroPoint"/> and bias'[co] = bias[co] − zp_x·Σw[co] was folded at build time
    /// (so the kernel multiplies raw u8 values). An empty bias means none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, Span<byte> scratch, in Conv2dShape s, int inZeroPoint, in Requant rq)
    {
        Guard.AtLeast(packedW.Length, PackedWeightsLength(s), nameof(packedW));
        Guard.AtLeast(scratch.Length, ScratchLength(s), nameof(scratch));
        Guard.AtLeast(x.Length, s.InputLength, nameof(x));
        Guard.Optional(bias.Length, s.OutChannels, nameof(bias));
        Guard.AtLeast(multiplier.Length, s.OutChannels, nameof(multiplier));
        Guard.AtLeast(shift.Length, s.OutChannels, nameof(shift));
        Guard.AtLeast(y.Length, s.OutputLength, nameof(y));
        if (s.OutputLength == 0) return;
        if (!Vector128.IsHardwareAccelerated)
        {
            Conv2d_U8S8_Scalar(x, packedW, bias, multiplier, shift, y, s, inZeroPoint, rq);
            return;
        }
        int cinG = s.InChannelsPerGroup, coG = s.OutChannelsPerGroup, blocks = Blocks(coG);
        bool unit = s.IsUnitStride;
        var geo = Geometry.UnitStride(s);
        int chunkRows = unit ? s.OutHeight : GatherChunkRows(s);
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        ref byte padded = ref MemoryMarshal.GetReference(scratch);
        ref byte gathered = ref Unsafe.Add(ref padded, InterleavedLength(s) + Slack);
        ref sbyte w0 = ref MemoryMarshal.GetReference(packedW);
        var o = new BlockOut { Plane = s.OutPlane, HasBias = !bias.IsEmpty, ZeroPoint = rq.OutZeroPoint, Lo = rq.Lo, Hi = rq.Hi };
        for (int b = 0; b < s.Batch; b++)
            for (int g = 0; g < s.Groups; g++)
            {
                Interleave(ref Unsafe.Add(ref x0, ((nint)b * s.InChannels + g * cinG) * s.InPlane), ref padded, s, inZeroPoint);
                int co = g * coG;
                // Stride 1 reads the interleaved plane in one pass; other strides gather the per-tap rows of a chunk
                // of output rows at a time (kept in L2) and run the same kernel over each chunk.
                for (int r0 = 0; r0 < s.OutHeight; r0 += chunkRows)
                {
                    int rows = Math.Min(chunkRows, s.OutHeight - r0);
                    if (!unit)
                    {
                        GatherTaps(ref padded, ref gathered, s, r0, rows);
                        geo = Geometry.Gathered(s, rows);
                    }
                    o.Y = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), ((nint)b * s.OutChannels + co) * s.OutPlane + (nint)r0 * s.OutWidth);
                    o.Bias = ref Unsafe.Add(ref MemoryMarshal.GetReference(bias), co);
                    o.Multiplier = ref Unsafe.Add(ref MemoryMarshal.GetReference(multiplier), co);
                    o.Shift = ref Unsafe.Add(ref MemoryMarshal.GetReference(shift), co);
                    RunGroup(ref unit ? ref padded : ref gathered, geo, ref Unsafe.Add(ref w0, (nint)g * blocks * geo.Steps * 16), ref o, coG);
                }
            }
    }

    /// <summary>The reference: one s32 dot product per output straight from the NCHW input (padding reads the zero point).</summary>
    internal static void Conv2d_U8S8_Scalar(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, in Conv2dShape s, int inZeroPoint, in Requant rq)
    {
        int coG = s.OutChannelsPerGroup, cinG = s.InChannelsPerGroup;
        int lo = rq.Lo, hi = rq.Hi;
        for (int b = 0; b < s.Batch; b++)
            for (int g = 0; g < s.Groups; g++)
                for (int co = 0; co < coG; co++)
                {
                    int oc = g * coG + co;
                    for (int oy = 0; oy < s.OutHeight; oy++)
                        for (int ox = 0; ox < s.OutWidth; ox++)
                        {
                            int acc = bias.IsEmpty ? 0 : bias[oc];
                            for (int ci = 0; ci < cinG; ci++)
                            {
                                int plane = (b * s.InChannels + g * cinG + ci) * s.InPlane;
                                for (int ky = 0; ky < s.KernelHeight; ky++)
                                {
                                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                                    for (int kx = 0; kx < s.KernelWidth; kx++)
                                    {
                                        int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                                        int v = iy >= 0 && iy < s.InHeight && ix >= 0 && ix < s.InWidth ? x[plane + iy * s.InWidth + ix] : inZeroPoint;
                                        acc += v * packedW[(int)PackedIndex(s, g, co, ci, ky * s.KernelWidth + kx)];
                                    }
                                }
                            }
                            y[((b * s.OutChannels + oc) * s.OutHeight + oy) * s.OutWidth + ox] =
                                (byte)RequantU8.Scalar(acc, multiplier[oc], shift[oc], rq.OutZeroPoint, lo, hi);
                        }
                }
    }
}
