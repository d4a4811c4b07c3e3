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

    /// <summary>
    /// Whether the stencil can read the input directly: stride 1 horizontally and every tap of every output inside
    /// the input. Otherwise the plane is first copied into scratch with its zero padding, so the stencil never branches.
    /// </summary>
    internal static bool ReadsInputDirectly(in Conv2dShape s) =>
        s.StrideWidth == 1 && s.PadTop == 0 && s.PadLeft == 0 && PaddedHeight(s) <= s.InHeight && PaddedWidth(s) <= s.InWidth;

    /// <summary>Kernels with more taps than this, or horizontal strides above 2, take the scalar path.</summary>
    internal const int MaxTaps = 64;

    /// <summary>Padded planes scratch holds: all of them when they fit in 32 KB (small feature maps, the common case
    /// for the models this targets), at least 2. The 3×3 path fills a group of planes, then computes it: loads that
    /// partly overlap a store still in flight stall on store forwarding, so fills and reads are kept apart.</summary>
    internal static int PlanesInScratch(in Conv2dShape s) =>
        Math.Max(2, Math.Min(s.Batch * s.OutChannels, 8192 / PlaneLength(s)));

    /// <summary>Floats of one padded plane in scratch, slack included.</summary>
    private static int PlaneLength(in Conv2dShape s) => PaddedHeight(s) * PaddedWidth(s) + Slack;

    /// <summary>Zeroed floats after the padded plane: a stride-2 chunk reads one column past its last window.</summary>
    private const int Slack = 16;

    /// <summary>Floats of scratch <see cref="Run"/> needs: zero-padded input planes (plus a little slack each; as many
    /// planes as fit in 32 KB, at least 2), or 0 when the stencil reads the input directly.</summary>
    public static int ScratchLength(in Conv2dShape shape)
    {
        Validate(shape);
        if (shape.OutHeight == 0 || shape.OutWidth == 0 || ReadsInputDirectly(shape)) return 0;
        return checked(PlanesInScratch(shape) * PlaneLength(shape));
    }

    /// <summary>y[c] = act(x[c] ⋆ W[c] + bias[c]) per channel. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
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
        if (taps > MaxTaps || shape.StrideWidth > 2 || !Vector128.IsHardwareAccelerated)
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
        int rowStride = direct ? s.InWidth : PaddedWidth(s);
        // Offset of tap (ky, kx) from the top-left of an output's window in the source plane.
        Span<nint> offsets = stackalloc nint[MaxTaps];
        for (int ky = 0, t = 0; ky < s.KernelHeight; ky++)
            for (int kx = 0; kx < s.KernelWidth; kx++, t++)
                offsets[t] = (nint)ky * s.DilationHeight * rowStride + kx * s.DilationWidth;
        var g = new Geometry(ref MemoryMarshal.GetReference(offsets), taps, rowStride, s.StrideHeight, s.StrideWidth, s.OutHeight, s.OutWidth);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        bool is3x3 = s.KernelHeight == 3 && s.KernelWidth == 3 && s.DilationHeight == 1 && s.DilationWidth == 1;
        ref float pad = ref MemoryMarshal.GetReference(scratch);
        int planeLength = direct ? 0 : PlaneLength(s), channels = s.OutChannels, count = s.Batch * channels;
        // The padding (and the slack) is the same for every channel: zero both planes once, then copy only interiors.
        if (!direct) Block.Zero(ref pad, (is3x3 ? PlanesInScratch(s) : 2) * planeLength);
        if (is3x3)
        {
            var planes = new Planes(s, direct);
            Planes3x3(ref MemoryMarshal.GetReference(x), ref w0, ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref y0, ref pad, planes, g, act);
            return;
        }
        if (!direct) PadCopy(ref MemoryMarshal.GetReference(x), ref pad, s);
        for (int i = 0; i < count; i++)
        {
            int c = i % channels;
            ref float src = ref Unsafe.AsRef(in x[i * s.InPlane]);
            if (!direct)
            {
                // Software pipelining: fill the other plane with the next channel, then compute this one.
                if (i + 1 < count) PadCopy(ref Unsafe.AsRef(in x[(i + 1) * s.InPlane]), ref Unsafe.Add(ref pad, ((i + 1) & 1) * planeLength), s);
                src = ref Unsafe.Add(ref pad, (i & 1) * planeLength);
            }
            float b0 = bias.IsEmpty ? 0f : bias[c];
            ref float wc = ref Unsafe.Add(ref w0, (nint)c * taps);
            ref float yc = ref Unsafe.Add(ref y0, (nint)i * s.OutPlane);
            // The widest vector that a row fills: an 8-wide output row runs the Vector256 body even on AVX-512.
            if (Vector512.IsHardwareAccelerated && s.OutWidth >= 16) Channel_F32_Vector512(ref src, ref wc, b0, ref yc, g, act);
            else if (Vector256.IsHardwareAccelerated && s.OutWidth >= 8) Channel_F32_Vector256(ref src, ref wc, b0, ref yc, g, act);
            else Channel_F32_Vector128(ref src, ref wc, b0, ref yc, g, act);
        }
    }

    /// <summary>Picks the unrolled 3×3 body for the row width, horizontal stride and activation.</summary>
    private static void Planes3x3(ref float x, ref float w, ref float bias, bool hasBias, ref float y, ref float pad, in Planes p, in Geometry g, in FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: Planes3x3<ReluEpilogue>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act); break;
            case ActivationKind.None or ActivationKind.Sigmoid or ActivationKind.Tanh: Planes3x3<IdentityEpilogue>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act); break;
            default: Planes3x3<AnyEpilogue>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act); break;
        }
    }

    private static void Planes3x3<TAct>(ref float x, ref float w, ref float bias, bool hasBias, ref float y, ref float pad, in Planes p, in Geometry g, in FusedActivation act)
        where TAct : struct, IEpilogue
    {
        // The widest vector that a row fills: an 8-wide output row runs the Vector256 body even on AVX-512.
        if (Vector512.IsHardwareAccelerated && g.OutW >= 16)
        {
            if (g.StrideW == 1) Planes3x3S1_F32_Vector512<TAct>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act);
            else Planes3x3S2_F32_Vector512<TAct>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act);
        }
        else if (Vector256.IsHardwareAccelerated && g.OutW >= 8)
        {
            if (g.StrideW == 1) Planes3x3S1_F32_Vector256<TAct>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act);
            else Planes3x3S2_F32_Vector256<TAct>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act);
        }
        else
        {
            if (g.StrideW == 1) Planes3x3S1_F32_Vector128<TAct>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act);
            else Planes3x3S2_F32_Vector128<TAct>(ref x, ref w, ref bias, hasBias, ref y, ref pad, p, g, act);
        }
    }

    /// <summary>How the input planes map onto the padded planes in scratch (or are read directly).</summary>
    private readonly struct Planes
    {
        public readonly int Count, Channels, InPlane, OutPlane, PlaneLength, Group, PaddedWidth, InWidth, PadTop, Left, Columns, Row0, Row1;
        public readonly bool Direct;

        public Planes(in Conv2dShape s, bool direct)
        {
            Count = s.Batch * s.OutChannels;
            Channels = s.OutChannels;
            InPlane = s.InPlane;
            OutPlane = s.OutPlane;
            Direct = direct;
            if (direct) return;
            int ph = PaddedHeight(s);
            PaddedWidth = DepthwiseConv2dF32.PaddedWidth(s);
            PlaneLength = PlaneLength(s);
            Group = PlanesInScratch(s);
            InWidth = s.InWidth;
            PadTop = s.PadTop;
            Left = Math.Min(s.PadLeft, PaddedWidth);
            Columns = Math.Max(0, Math.Min(s.InWidth, PaddedWidth - Left));
            Row0 = Math.Min(s.PadTop, ph);
            Row1 = Math.Min(ph, s.PadTop + s.InHeight);
        }

        /// <summary>Copies one input plane into the interior of a zero-padded plane (its padding is never written).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Fill(ref float plane, ref float dst)
        {
            for (int r = Row0; r < Row1; r++)
                Block.Copy(ref Unsafe.Add(ref plane, (nint)(r - PadTop) * InWidth), ref Unsafe.Add(ref dst, (nint)r * PaddedWidth + Left), Columns);
        }
    }

    /// <summary>What the per-channel bodies need to walk one plane.</summary>
    private readonly ref struct Geometry(ref nint offsets, int taps, int rowStride, int strideH, int strideW, int outH, int outW)
    {
        public readonly ref nint Offsets = ref offsets;
        public readonly int Taps = taps, RowStride = rowStride, StrideH = strideH, StrideW = strideW, OutH = outH, OutW = outW;
    }

    /// <summary>
    /// Copies the part of one input plane the stencil reads into the interior of the zero-padded plane in scratch:
    /// padded (r, c) = x(r − padTop, c − padLeft). The padding itself was zeroed once and is never written.
    /// </summary>
    internal static void PadCopy(ref float plane, ref float dst, in Conv2dShape s)
    {
        int ph = PaddedHeight(s), pw = PaddedWidth(s);
        int left = Math.Min(s.PadLeft, pw);
        int copy = Math.Max(0, Math.Min(s.InWidth, pw - left));
        int r0 = Math.Min(s.PadTop, ph), r1 = Math.Min(ph, s.PadTop + s.InHeight);
        for (int r = r0; r < r1; r++)
            Block.Copy(ref Unsafe.Add(ref plane, (nint)(r - s.PadTop) * s.InWidth), ref Unsafe.Add(ref dst, (nint)r * pw + left), copy);
    }

    /// <summary>One channel: blocks of 4 output rows (independent accumulators hide the FMA latency), then single
    /// rows; within a row 16-, 8- and 4-output chunks and scalar tails.</summary>
    private static void Channel_F32_Vector512(ref float src, ref float w, float bias, ref float y, in Geometry g, in FusedActivation act)
    {
        nint rowStep = (nint)g.StrideH * g.RowStride;
        int oh = 0;
        for (; oh + 4 <= g.OutH; oh += 4)
        {
            ref float row = ref Unsafe.Add(ref src, oh * rowStep);
            ref float yRow = ref Unsafe.Add(ref y, (nint)oh * g.OutW);
            int ow = 0;
            for (; ow + 16 <= g.OutW; ow += 16)
                Depthwise_F32_4x16_Vector512(ref Unsafe.Add(ref row, ow * g.StrideW), rowStep, ref w, ref g.Offsets, g.Taps, g.StrideW, bias, ref Unsafe.Add(ref yRow, ow), g.OutW, act);
            Tail4Rows256(ref row, rowStep, ref w, bias, ref yRow, ow, g, act);
        }
        for (; oh < g.OutH; oh++)
        {
            ref float row = ref Unsafe.Add(ref src, oh * rowStep);
            ref float yRow = ref Unsafe.Add(ref y, (nint)oh * g.OutW);
            int ow = 0;
            for (; ow + 16 <= g.OutW; ow += 16)
                Depthwise_F32_1x16_Vector512(ref Unsafe.Add(ref row, ow * g.StrideW), ref w, ref g.Offsets, g.Taps, g.StrideW, bias, ref Unsafe.Add(ref yRow, ow), act);
            Tail256(ref row, ref w, bias, ref yRow, ow, g, act);
        }
    }

    /// <summary>One channel: blocks of 4 output rows, then single rows; 8- and 4-output chunks and scalar tails.</summary>
    private static void Channel_F32_Vector256(ref float src, ref float w, float bias, ref float y, in Geometry g, in FusedActivation act)
    {
        nint rowStep = (nint)g.StrideH * g.RowStride;
        int oh = 0;
        for (; oh + 4 <= g.OutH; oh += 4)
            Tail4Rows256(ref Unsafe.Add(ref src, oh * rowStep), rowStep, ref w, bias, ref Unsafe.Add(ref y, (nint)oh * g.OutW), 0, g, act);
        for (; oh < g.OutH; oh++)
            Tail256(ref Unsafe.Add(ref src, oh * rowStep), ref w, bias, ref Unsafe.Add(ref y, (nint)oh * g.OutW), 0, g, act);
    }

    /// <summary>One channel: blocks of 4 output rows, then single rows; 4-output chunks and scalar tails.</summary>
    private static void Channel_F32_Vector128(ref float src, ref float w, float bias, ref float y, in Geometry g, in FusedActivation act)
    {
        nint rowStep = (nint)g.StrideH * g.RowStride;
        int oh = 0;
        for (; oh + 4 <= g.OutH; oh += 4)
            Tail4Rows128(ref Unsafe.Add(ref src, oh * rowStep), rowStep, ref w, bias, ref Unsafe.Add(ref y, (nint)oh * g.OutW), 0, g, act);
        for (; oh < g.OutH; oh++)
            Tail128(ref Unsafe.Add(ref src, oh * rowStep), ref w, bias, ref Unsafe.Add(ref y, (nint)oh * g.OutW), 0, g, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail4Rows256(ref float row, nint rowStep, ref float w, float bias, ref float yRow, int ow, in Geometry g, in FusedActivation act)
    {
        for (; ow + 8 <= g.OutW; ow += 8)
            Depthwise_F32_4x8_Vector256(ref Unsafe.Add(ref row, ow * g.StrideW), rowStep, ref w, ref g.Offsets, g.Taps, g.StrideW, bias, ref Unsafe.Add(ref yRow, ow), g.OutW, act);
        Tail4Rows128(ref row, rowStep, ref w, bias, ref yRow, ow, g, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail4Rows128(ref float row, nint rowStep, ref float w, float bias, ref float yRow, int ow, in Geometry g, in FusedActivation act)
    {
        for (; ow + 4 <= g.OutW; ow += 4)
            Depthwise_F32_4x4_Vector128(ref Unsafe.Add(ref row, ow * g.StrideW), rowStep, ref w, ref g.Offsets, g.Taps, g.StrideW, bias, ref Unsafe.Add(ref yRow, ow), g.OutW, act);
        for (; ow < g.OutW; ow++)
            for (int r = 0; r < 4; r++)
                Depthwise_F32_1x1_Scalar(ref Unsafe.Add(ref row, r * rowStep + ow * g.StrideW), ref w, ref g.Offsets, g.Taps, bias,
                    ref Unsafe.Add(ref yRow, (nint)r * g.OutW + ow), act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail256(ref float row, ref float w, float bias, ref float yRow, int ow, in Geometry g, in FusedActivation act)
    {
        for (; ow + 8 <= g.OutW; ow += 8)
            Depthwise_F32_1x8_Vector256(ref Unsafe.Add(ref row, ow * g.StrideW), ref w, ref g.Offsets, g.Taps, g.StrideW, bias, ref Unsafe.Add(ref yRow, ow), act);
        Tail128(ref row, ref w, bias, ref yRow, ow, g, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail128(ref float row, ref float w, float bias, ref float yRow, int ow, in Geometry g, in FusedActivation act)
    {
        for (; ow + 4 <= g.OutW; ow += 4)
            Depthwise_F32_1x4_Vector128(ref Unsafe.Add(ref row, ow * g.StrideW), ref w, ref g.Offsets, g.Taps, g.StrideW, bias, ref Unsafe.Add(ref yRow, ow), act);
        for (; ow < g.OutW; ow++)
            Depthwise_F32_1x1_Scalar(ref Unsafe.Add(ref row, ow * g.StrideW), ref w, ref g.Offsets, g.Taps, bias, ref Unsafe.Add(ref yRow, ow), act);
    }

    /// <summary>4 output rows × 16 adjacent outputs (stride 1 or 2): each tap's weight is broadcast once for 4 (or 8)
    /// independent accumulators.</summary>
    internal static void Depthwise_F32_4x16_Vector512(ref float src, nint rowStep, ref float w, ref nint off, int taps, int strideW, float bias,
        ref float y, nint yStride, in FusedActivation act)
    {
        Vector512<float> a0 = Vector512.Create(bias), a1 = a0, a2 = a0, a3 = a0, h0 = a0, h1 = a0, h2 = a0, h3 = a0;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector512.Create(Unsafe.Add(ref w, t));
            ref float p = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            a0 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref p), a0);
            a1 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref Unsafe.Add(ref p, rowStep)), a1);
            a2 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref Unsafe.Add(ref p, 2 * rowStep)), a2);
            a3 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref Unsafe.Add(ref p, 3 * rowStep)), a3);
            if (strideW == 2)
            {
                h0 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref p, 16), h0);
                h1 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref Unsafe.Add(ref p, rowStep), 16), h1);
                h2 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref Unsafe.Add(ref p, 2 * rowStep), 16), h2);
                h3 = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref Unsafe.Add(ref p, 3 * rowStep), 16), h3);
            }
        }
        if (strideW == 2)
        {
            a0 = PoolF32.Evens(a0, h0);
            a1 = PoolF32.Evens(a1, h1);
            a2 = PoolF32.Evens(a2, h2);
            a3 = PoolF32.Evens(a3, h3);
        }
        ActivationF32.Apply(a0, act).StoreUnsafe(ref y);
        ActivationF32.Apply(a1, act).StoreUnsafe(ref Unsafe.Add(ref y, yStride));
        ActivationF32.Apply(a2, act).StoreUnsafe(ref Unsafe.Add(ref y, 2 * yStride));
        ActivationF32.Apply(a3, act).StoreUnsafe(ref Unsafe.Add(ref y, 3 * yStride));
    }

    /// <summary>4 output rows × 8 adjacent outputs (stride 1 or 2).</summary>
    internal static void Depthwise_F32_4x8_Vector256(ref float src, nint rowStep, ref float w, ref nint off, int taps, int strideW, float bias,
        ref float y, nint yStride, in FusedActivation act)
    {
        Vector256<float> a0 = Vector256.Create(bias), a1 = a0, a2 = a0, a3 = a0, h0 = a0, h1 = a0, h2 = a0, h3 = a0;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector256.Create(Unsafe.Add(ref w, t));
            ref float p = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            a0 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref p), a0);
            a1 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref Unsafe.Add(ref p, rowStep)), a1);
            a2 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref Unsafe.Add(ref p, 2 * rowStep)), a2);
            a3 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref Unsafe.Add(ref p, 3 * rowStep)), a3);
            if (strideW == 2)
            {
                h0 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref p, 8), h0);
                h1 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref Unsafe.Add(ref p, rowStep), 8), h1);
                h2 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref Unsafe.Add(ref p, 2 * rowStep), 8), h2);
                h3 = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref Unsafe.Add(ref p, 3 * rowStep), 8), h3);
            }
        }
        if (strideW == 2)
        {
            a0 = PoolF32.Evens(a0, h0);
            a1 = PoolF32.Evens(a1, h1);
            a2 = PoolF32.Evens(a2, h2);
            a3 = PoolF32.Evens(a3, h3);
        }
        ActivationF32.Apply(a0, act).StoreUnsafe(ref y);
        ActivationF32.Apply(a1, act).StoreUnsafe(ref Unsafe.Add(ref y, yStride));
        ActivationF32.Apply(a2, act).StoreUnsafe(ref Unsafe.Add(ref y, 2 * yStride));
        ActivationF32.Apply(a3, act).StoreUnsafe(ref Unsafe.Add(ref y, 3 * yStride));
    }

    /// <summary>4 output rows × 4 adjacent outputs (stride 1 or 2).</summary>
    internal static void Depthwise_F32_4x4_Vector128(ref float src, nint rowStep, ref float w, ref nint off, int taps, int strideW, float bias,
        ref float y, nint yStride, in FusedActivation act)
    {
        Vector128<float> a0 = Vector128.Create(bias), a1 = a0, a2 = a0, a3 = a0, h0 = a0, h1 = a0, h2 = a0, h3 = a0;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector128.Create(Unsafe.Add(ref w, t));
            ref float p = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            a0 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref p), a0);
            a1 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref Unsafe.Add(ref p, rowStep)), a1);
            a2 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref Unsafe.Add(ref p, 2 * rowStep)), a2);
            a3 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref Unsafe.Add(ref p, 3 * rowStep)), a3);
            if (strideW == 2)
            {
                h0 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref p, 4), h0);
                h1 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref Unsafe.Add(ref p, rowStep), 4), h1);
                h2 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref Unsafe.Add(ref p, 2 * rowStep), 4), h2);
                h3 = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref Unsafe.Add(ref p, 3 * rowStep), 4), h3);
            }
        }
        if (strideW == 2)
        {
            a0 = PoolF32.Evens(a0, h0);
            a1 = PoolF32.Evens(a1, h1);
            a2 = PoolF32.Evens(a2, h2);
            a3 = PoolF32.Evens(a3, h3);
        }
        ActivationF32.Apply(a0, act).StoreUnsafe(ref y);
        ActivationF32.Apply(a1, act).StoreUnsafe(ref Unsafe.Add(ref y, yStride));
        ActivationF32.Apply(a2, act).StoreUnsafe(ref Unsafe.Add(ref y, 2 * yStride));
        ActivationF32.Apply(a3, act).StoreUnsafe(ref Unsafe.Add(ref y, 3 * yStride));
    }

    /// <summary>
    /// 16 adjacent outputs of one row: Σ_t w[t]·src[off[t] + 0..16). With stride 2 the taps are accumulated at
    /// stride 1 over 32 columns and the even columns kept (<see cref="PoolF32.Evens(Vector512{float}, Vector512{float})"/>).
    /// </summary>
    internal static void Depthwise_F32_1x16_Vector512(ref float src, ref float w, ref nint off, int taps, int strideW, float bias, ref float y, in FusedActivation act)
    {
        Vector512<float> lo = Vector512.Create(bias), hi = lo;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector512.Create(Unsafe.Add(ref w, t));
            ref float p = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            lo = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref p), lo);
            if (strideW == 2) hi = Vector512.FusedMultiplyAdd(wt, Vector512.LoadUnsafe(ref p, 16), hi);
        }
        if (strideW == 2) lo = PoolF32.Evens(lo, hi);
        ActivationF32.Apply(lo, act).StoreUnsafe(ref y);
    }

    /// <summary>8 adjacent outputs of one row (stride 1 or 2).</summary>
    internal static void Depthwise_F32_1x8_Vector256(ref float src, ref float w, ref nint off, int taps, int strideW, float bias, ref float y, in FusedActivation act)
    {
        Vector256<float> lo = Vector256.Create(bias), hi = lo;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector256.Create(Unsafe.Add(ref w, t));
            ref float p = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            lo = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref p), lo);
            if (strideW == 2) hi = Vector256.FusedMultiplyAdd(wt, Vector256.LoadUnsafe(ref p, 8), hi);
        }
        if (strideW == 2) lo = PoolF32.Evens(lo, hi);
        ActivationF32.Apply(lo, act).StoreUnsafe(ref y);
    }

    /// <summary>4 adjacent outputs of one row (stride 1 or 2).</summary>
    internal static void Depthwise_F32_1x4_Vector128(ref float src, ref float w, ref nint off, int taps, int strideW, float bias, ref float y, in FusedActivation act)
    {
        Vector128<float> lo = Vector128.Create(bias), hi = lo;
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector128.Create(Unsafe.Add(ref w, t));
            ref float p = ref Unsafe.Add(ref src, Unsafe.Add(ref off, t));
            lo = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref p), lo);
            if (strideW == 2) hi = Vector128.MultiplyAddEstimate(wt, Vector128.LoadUnsafe(ref p, 4), hi);
        }
        if (strideW == 2) lo = PoolF32.Evens(lo, hi);
        ActivationF32.Apply(lo, act).StoreUnsafe(ref y);
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
