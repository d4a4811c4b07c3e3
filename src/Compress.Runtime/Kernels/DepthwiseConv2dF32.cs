using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Conv with Groups == InChannels == OutChannels (depthwise, as in MobileNet, Howard et al. 2017) as a direct
/// stencil per channel, vectorised over output columns; bias and the activation are fused.
/// </summary>
public static partial class DepthwiseConv2dF32
{
    /// <summary>Floats needed by <see cref="PackWeights"/>: C·kH·kW.</summary>
    public static int PackedWeightsLength(in Conv2dShape shape)
    {
        Validate(shape);
        return checked(shape.OutChannels * shape.KernelHeight * shape.KernelWidth);
    }

    private static void Validate(in Conv2dShape shape)
    {
        shape.Validate();
        if (shape.Groups != shape.InChannels || shape.Groups != shape.OutChannels)
            throw new ArgumentException($"Depthwise convolution needs Groups == InChannels == OutChannels: {shape}.");
    }

    /// <summary>ONNX weight <c>[C, 1, kH, kW]</c> is already the kernel's layout: copied as is.</summary>
    public static void PackWeights(ReadOnlySpan<float> w, in Conv2dShape shape, Span<float> packed)
    {
        int length = PackedWeightsLength(shape);
        Guard.AtLeast(w.Length, length, nameof(w));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        w[..length].CopyTo(packed);
    }

    /// <summary>Height of the zero-padded input plane the stencil reads.</summary>
    internal static int PaddedHeight(in Conv2dShape s) => (s.OutHeight - 1) * s.StrideHeight + (s.KernelHeight - 1) * s.DilationHeight + 1;

    /// <summary>Width of the zero-padded input plane the stencil reads.</summary>
    internal static int PaddedWidth(in Conv2dShape s) => (s.OutWidth - 1) * s.StrideWidth + (s.KernelWidth - 1) * s.DilationWidth + 1;

    /// <summary>Columns of one phase plane: the padded columns c with c mod StrideWidth == phase.</summary>
    internal static int PhaseWidth(in Conv2dShape s) => (PaddedWidth(s) + s.StrideWidth - 1) / s.StrideWidth;

    /// <summary>
    /// Whether the stencil can read the input directly: stride 1 horizontally and every tap of every output inside
    /// the input. Otherwise the plane is first copied into scratch, zero padded and split into StrideWidth phase
    /// planes (polyphase decomposition), so that every tap of a strided row is again one contiguous vector load.
    /// </summary>
    internal static bool ReadsInputDirectly(in Conv2dShape s) =>
        s.StrideWidth == 1 && s.PadTop == 0 && s.PadLeft == 0 && PaddedHeight(s) <= s.InHeight && PaddedWidth(s) <= s.InWidth;

    /// <summary>Kernels with more taps than this take the scalar path (the tap offsets live in a fixed stack buffer).</summary>
    internal const int MaxTaps = 64;

    /// <summary>Floats of scratch <see cref="Run"/> needs: one zero-padded input plane split into StrideWidth phases,
    /// or 0 when the stencil reads the input directly.</summary>
    public static int ScratchLength(in Conv2dShape shape)
    {
        Validate(shape);
        if (shape.OutHeight == 0 || shape.OutWidth == 0 || ReadsInputDirectly(shape)) return 0;
        return checked(PaddedHeight(shape) * shape.StrideWidth * PhaseWidth(shape));
    }

    /// <summary>y[c] = act(x[c] ⋆ W[c] + bias[c]) per channel. An empty bias means none.</summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> packedW, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        in Conv2dShape shape, FusedActivation act)
    {
        Guard.AtLeast(packedW.Length, PackedWeightsLength(shape), nameof(packedW));
        Guard.AtLeast(scratch.Length, ScratchLength(shape), nameof(scratch));
        Guard.AtLeast(x.Length, shape.InputLength, nameof(x));
        Guard.Optional(bias.Length, shape.OutChannels, nameof(bias));
        Guard.AtLeast(y.Length, shape.OutputLength, nameof(y));
        if (shape.OutputLength == 0) return;
        int taps = shape.KernelHeight * shape.KernelWidth;
        if (taps > MaxTaps || !Vector128.IsHardwareAccelerated)
        {
            Depthwise_F32_Scalar(x, packedW, bias, y, shape, act);
            return;
        }
        Stencil(x, packedW, bias, y, scratch, shape, act);
        ActivationF32.PostPass(y[..shape.OutputLength], act);
    }

    [SkipLocalsInit]
    private static void Stencil(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        in Conv2dShape s, in FusedActivation act)
    {
        bool direct = ReadsInputDirectly(s);
        int taps = s.KernelHeight * s.KernelWidth;
        int rowStride = direct ? s.InWidth : PhaseWidth(s);
        int phaseStride = direct ? 0 : PaddedHeight(s) * rowStride;
        // Offset of tap (ky, kx) from the top-left of an output's window, in the (phase-split) source plane.
        Span<nint> offsets = stackalloc nint[MaxTaps];
        for (int ky = 0, t = 0; ky < s.KernelHeight; ky++)
            for (int kx = 0; kx < s.KernelWidth; kx++, t++)
            {
                int col = kx * s.DilationWidth;
                offsets[t] = (nint)ky * s.DilationHeight * rowStride + (nint)(col % s.StrideWidth) * phaseStride + col / s.StrideWidth;
            }
        ref nint off = ref MemoryMarshal.GetReference(offsets);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int b = 0; b < s.Batch; b++)
            for (int c = 0; c < s.OutChannels; c++)
            {
                ReadOnlySpan<float> plane = x.Slice((b * s.InChannels + c) * s.InPlane, s.InPlane);
                ref float src = ref MemoryMarshal.GetReference(plane);
                if (!direct)
                {
                    PadSplit(plane, scratch, s);
                    src = ref MemoryMarshal.GetReference(scratch);
                }
                ref float wc = ref Unsafe.AsRef(in w[c * taps]);
                float b0 = bias.IsEmpty ? 0f : bias[c];
                ref float yc = ref Unsafe.Add(ref y0, ((nint)b * s.OutChannels + c) * s.OutPlane);
                for (int oh = 0; oh < s.OutHeight; oh++)
                {
                    ref float srcRow = ref Unsafe.Add(ref src, (nint)oh * s.StrideHeight * rowStride);
                    ref float yRow = ref Unsafe.Add(ref yc, (nint)oh * s.OutWidth);
                    int ow = 0, n = s.OutWidth;
                    if (Vector512.IsHardwareAccelerated)
                        for (; ow + 16 <= n; ow += 16)
                            Depthwise_F32_1x16_Vector512(ref Unsafe.Add(ref srcRow, ow), ref wc, ref off, taps, b0, ref Unsafe.Add(ref yRow, ow), act);
                    if (Vector256.IsHardwareAccelerated)
                        for (; ow + 8 <= n; ow += 8)
                            Depthwise_F32_1x8_Vector256(ref Unsafe.Add(ref srcRow, ow), ref wc, ref off, taps, b0, ref Unsafe.Add(ref yRow, ow), act);
                    for (; ow + 4 <= n; ow += 4)
                        Depthwise_F32_1x4_Vector128(ref Unsafe.Add(ref srcRow, ow), ref wc, ref off, taps, b0, ref Unsafe.Add(ref yRow, ow), act);
                    for (; ow < n; ow++)
                        Depthwise_F32_1x1_Scalar(ref Unsafe.Add(ref srcRow, ow), ref wc, ref off, taps, b0, ref Unsafe.Add(ref yRow, ow), act);
                }
            }
    }

    /// <summary>
    /// Copies one input plane into scratch as StrideWidth phase planes of the zero-padded plane:
    /// phase q, row r, column j holds padded (r, j·sw + q) = input (r − padTop, j·sw + q − padLeft), 0 outside.
    /// </summary>
    internal static void PadSplit(ReadOnlySpan<float> plane, Span<float> scratch, in Conv2dShape s)
    {
        int ph = PaddedHeight(s), pw = PhaseWidth(s), sw = s.StrideWidth;
        for (int q = 0; q < sw; q++)
            for (int r = 0; r < ph; r++)
            {
                Span<float> dst = scratch.Slice((q * ph + r) * pw, pw);
                int ih = r - s.PadTop;
                if ((uint)ih >= (uint)s.InHeight)
                {
                    dst.Clear();
                    continue;
                }
                ReadOnlySpan<float> srcRow = plane.Slice(ih * s.InWidth, s.InWidth);
                // Columns j with 0 ≤ j·sw + q − padLeft < InWidth: [j0, j1).
                int first = q - s.PadLeft;
                int j0 = Math.Min(pw, first >= 0 ? 0 : (-first + sw - 1) / sw);
                int j1 = Math.Max(j0, Math.Min(pw, s.InWidth - first <= 0 ? 0 : (s.InWidth - first + sw - 1) / sw));
                dst[..j0].Clear();
                dst[j1..].Clear();
                if (sw == 1)
                {
                    srcRow.Slice(j0 + first, j1 - j0).CopyTo(dst[j0..j1]);
                }
                else
                {
                    for (int j = j0; j < j1; j++)
                        dst[j] = srcRow[j * sw + first];
                }
            }
    }

    /// <summary>16 adjacent outputs of one row: Σ_t w[t]·src[off[t] + 0..16), two accumulators over alternate taps.</summary>
    internal static void Depthwise_F32_1x16_Vector512(ref float src, ref float w, ref nint off, int taps, float bias, ref float y, in FusedActivation act)
    {
        Vector512<float> a0 = Vector512.Create(bias), a1 = default;
        int t = 0;
        for (; t + 2 <= taps; t += 2)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref w, t)), Vector512.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t))), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref w, t + 1)), Vector512.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t + 1))), a1);
        }
        if (t < taps)
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref w, t)), Vector512.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t))), a0);
        ActivationF32.Apply(a0 + a1, act).StoreUnsafe(ref y);
    }

    /// <summary>8 adjacent outputs of one row.</summary>
    internal static void Depthwise_F32_1x8_Vector256(ref float src, ref float w, ref nint off, int taps, float bias, ref float y, in FusedActivation act)
    {
        Vector256<float> a0 = Vector256.Create(bias), a1 = default;
        int t = 0;
        for (; t + 2 <= taps; t += 2)
        {
            a0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref w, t)), Vector256.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t))), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref w, t + 1)), Vector256.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t + 1))), a1);
        }
        if (t < taps)
            a0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref w, t)), Vector256.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t))), a0);
        ActivationF32.Apply(a0 + a1, act).StoreUnsafe(ref y);
    }

    /// <summary>4 adjacent outputs of one row.</summary>
    internal static void Depthwise_F32_1x4_Vector128(ref float src, ref float w, ref nint off, int taps, float bias, ref float y, in FusedActivation act)
    {
        Vector128<float> a0 = Vector128.Create(bias), a1 = default;
        int t = 0;
        for (; t + 2 <= taps; t += 2)
        {
            a0 = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref w, t)), Vector128.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t))), a0);
            a1 = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref w, t + 1)), Vector128.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t + 1))), a1);
        }
        if (t < taps)
            a0 = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref w, t)), Vector128.LoadUnsafe(ref Unsafe.Add(ref src, Unsafe.Add(ref off, t))), a0);
        ActivationF32.Apply(a0 + a1, act).StoreUnsafe(ref y);
    }

    /// <summary>One output (row tails).</summary>
    internal static void Depthwise_F32_1x1_Scalar(ref float src, ref float w, ref nint off, int taps, float bias, ref float y, in FusedActivation act)
    {
        float a = bias;
        for (int t = 0; t < taps; t++)
            a += Unsafe.Add(ref w, t) * Unsafe.Add(ref src, Unsafe.Add(ref off, t));
        y = ActivationF32.Fused(a, act);
    }

    /// <summary>The reference: direct convolution, taps in (ky, kx) order, outside taps skipped.</summary>
    internal static void Depthwise_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        in Conv2dShape s, in FusedActivation act)
    {
        int taps = s.KernelHeight * s.KernelWidth;
        for (int b = 0; b < s.Batch; b++)
            for (int c = 0; c < s.OutChannels; c++)
            {
                ReadOnlySpan<float> xc = x.Slice((b * s.InChannels + c) * s.InPlane, s.InPlane);
                Span<float> yc = y.Slice((b * s.OutChannels + c) * s.OutPlane, s.OutPlane);
                float b0 = bias.IsEmpty ? 0f : bias[c];
                for (int oh = 0; oh < s.OutHeight; oh++)
                    for (int ow = 0; ow < s.OutWidth; ow++)
                    {
                        float sum = b0;
                        for (int ky = 0; ky < s.KernelHeight; ky++)
                        {
                            int ih = oh * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                            if ((uint)ih >= (uint)s.InHeight) continue;
                            for (int kx = 0; kx < s.KernelWidth; kx++)
                            {
                                int iw = ow * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                                if ((uint)iw >= (uint)s.InWidth) continue;
                                sum += w[c * taps + ky * s.KernelWidth + kx] * xc[ih * s.InWidth + iw];
                            }
                        }
                        yc[oh * s.OutWidth + ow] = ActivationF32.Scalar(sum, act);
                    }
            }
    }
}
