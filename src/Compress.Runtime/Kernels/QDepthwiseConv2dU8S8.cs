using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Quantised depthwise Conv (Groups == InChannels == OutChannels; u8 × s8 → s32 → requantised u8). Each channel plane
/// is copied once into scratch with its borders set to the input zero point (<c>[PH][PW]</c>), then every output row
/// is a sum over taps of shifted contiguous rows, two taps at a time as interleaved (x_a, x_b) s16 pairs against the
/// broadcast weight pair (w_a, w_b) — <c>vpmaddwd</c>, exact for any u8·s8 values. Strides other than 1 first gather
/// each tap's pixels into a row (<c>[kH·kW][OutH·OutW↑16]</c>).
/// </summary>
public static partial class QDepthwiseConv2dU8S8
{
    /// <summary>Taps per channel in the packed layout are padded to a multiple of this. Part of the packed format.</summary>
    public const int TapGroup = 4;

    /// <summary>Bytes of slack after each scratch region so the last (partial) vector may read past it.</summary>
    internal const int Slack = 64;

    private static void Validate(in Conv2dShape s)
    {
        s.Validate();
        if (s.Groups != s.InChannels || s.OutChannels != s.InChannels)
            throw new ArgumentException($"A depthwise Conv needs Groups == InChannels == OutChannels: {s}.");
    }

    internal static int Taps(in Conv2dShape s) => s.KernelHeight * s.KernelWidth;

    internal static int PaddedTaps(in Conv2dShape s) => (Taps(s) + TapGroup - 1) / TapGroup * TapGroup;

    /// <summary>Bytes needed by <see cref="PackWeights"/>: C · (kH·kW↑4).</summary>
    public static int PackedWeightsLength(in Conv2dShape shape)
    {
        Validate(shape);
        return checked(shape.OutChannels * PaddedTaps(shape));
    }

    /// <summary>ONNX weight <c>[C, 1, kH, kW]</c> → <c>[C][kH·kW↑4]</c> (taps in (ky, kx) order, zero padded).</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, in Conv2dShape shape, Span<sbyte> packed)
    {
        int length = PackedWeightsLength(shape);
        Guard.AtLeast(w.Length, shape.WeightLength, nameof(w));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        packed[..length].Clear();
        int taps = Taps(shape), padded = PaddedTaps(shape);
        for (int c = 0; c < shape.OutChannels; c++)
            w.Slice(c * taps, taps).CopyTo(packed.Slice(c * padded, taps));
    }

    /// <summary>sums[c] = Σ w[c, ·, ·, ·] (bias'[c] = bias[c] − zp_x·sums[c] at build time).</summary>
    public static void WeightSums(ReadOnlySpan<sbyte> w, in Conv2dShape shape, Span<int> sums)
    {
        Validate(shape);
        QConv2dU8S8.WeightSums(w, shape, sums);
    }

    /// <summary>
    /// Bytes of scratch <see cref="Run"/> needs: one padded plane PH·PW + 64, plus for strides other than 1 the gathered
    /// tap rows kH·kW·(OutH·OutW↑16) + 64.
    /// </summary>
    public static int ScratchLength(in Conv2dShape shape)
    {
        Validate(shape);
        long length = (long)shape.PaddedHeight * shape.PaddedWidth + Slack;
        if (!shape.IsUnitStride) length += (long)Taps(shape) * QConv2dU8S8.PaddedPlane(shape) + Slack;
        return checked((int)length);
    }

    /// <summary>
    /// y[c] = clamp(zp_y + MBQM(Σ_taps x·w[c] + bias'[c], multiplier[c], shift[c]), Min, Max) → u8; padding reads
    /// <paramref name="inZeroPoint"/>. An empty bias means none.
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
        int taps = Taps(s);
        if (!Vector128.IsHardwareAccelerated || taps > MaxTaps)
        {
            Depthwise_U8S8_Scalar(x, packedW, bias, multiplier, shift, y, s, inZeroPoint, rq);
            return;
        }
        bool unit = s.IsUnitStride;
        int ph = s.PaddedHeight, pw = s.PaddedWidth, op = QConv2dU8S8.PaddedPlane(s), padded = PaddedTaps(s);
        ref byte plane = ref MemoryMarshal.GetReference(scratch);
        ref byte gathered = ref Unsafe.Add(ref plane, (nint)ph * pw + Slack);
        // Tap offsets from the pixel's own position, in the plane (stride 1) or in the gathered rows.
        Span<int> offsets = stackalloc int[padded];
        for (int t = 0; t < padded; t++)
        {
            int tt = t < taps ? t : 0; // padding taps have weight 0: any readable address will do
            int ky = tt / s.KernelWidth, kx = tt % s.KernelWidth;
            offsets[t] = unit ? ky * s.DilationHeight * pw + kx * s.DilationWidth : tt * op;
        }
        var geo = unit
            ? new Geometry(pw, s.OutHeight, s.OutWidth, s.OutWidth)
            : new Geometry(0, 1, s.OutPlane, s.OutPlane);
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        ref sbyte w0 = ref MemoryMarshal.GetReference(packedW);
        int lo = rq.Lo, hi = rq.Hi;
        for (int b = 0; b < s.Batch; b++)
            for (int c = 0; c < s.OutChannels; c++)
            {
                nint plane0 = ((nint)b * s.InChannels + c) * s.InPlane;
                PadPlane(ref Unsafe.Add(ref x0, plane0), ref plane, s, ph, pw, (byte)inZeroPoint);
                if (!unit) GatherTaps(ref plane, ref gathered, s, pw, op);
                var ch = new Channel(ref Unsafe.Add(ref w0, (nint)c * padded), padded, bias.IsEmpty ? 0 : bias[c], multiplier[c], shift[c], rq.OutZeroPoint, lo, hi);
                ref byte src = ref unit ? ref plane : ref gathered;
                ref byte dst = ref Unsafe.Add(ref y0, ((nint)b * s.OutChannels + c) * s.OutPlane);
                if (Avx2.IsSupported) Channel_U8S8_16_Avx2(ref src, offsets, geo, ch, ref dst);
                else Channel_U8S8_8_Vector128(ref src, offsets, geo, ch, ref dst);
            }
    }

    /// <summary>Above this many taps per channel (a 64×64 kernel) the scalar body runs: the tap table lives on the stack.</summary>
    internal const int MaxTaps = 4096;

    /// <summary>The reference: one s32 sum per output straight from the NCHW input (padding reads the zero point).</summary>
    internal static void Depthwise_U8S8_Scalar(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, in Conv2dShape s, int inZeroPoint, in Requant rq)
    {
        int padded = PaddedTaps(s), lo = rq.Lo, hi = rq.Hi;
        for (int b = 0; b < s.Batch; b++)
            for (int c = 0; c < s.OutChannels; c++)
            {
                int plane = (b * s.InChannels + c) * s.InPlane;
                for (int oy = 0; oy < s.OutHeight; oy++)
                    for (int ox = 0; ox < s.OutWidth; ox++)
                    {
                        int acc = bias.IsEmpty ? 0 : bias[c];
                        for (int ky = 0; ky < s.KernelHeight; ky++)
                        {
                            int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                            for (int kx = 0; kx < s.KernelWidth; kx++)
                            {
                                int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                                int v = iy >= 0 && iy < s.InHeight && ix >= 0 && ix < s.InWidth ? x[plane + iy * s.InWidth + ix] : inZeroPoint;
                                acc += v * packedW[c * padded + ky * s.KernelWidth + kx];
                            }
                        }
                        y[((b * s.OutChannels + c) * s.OutHeight + oy) * s.OutWidth + ox] =
                            (byte)RequantU8.Scalar(acc, multiplier[c], shift[c], rq.OutZeroPoint, lo, hi);
                    }
            }
    }
}
