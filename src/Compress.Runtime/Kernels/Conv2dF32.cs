using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Conv (NCHW, any pads/strides/dilations/groups) as im2col + a register-blocked GEMM
/// Y[co, p] = Σₖ W[co, k]·col[k, p] (Chellapilla et al. 2006, "High performance convolutional neural networks for
/// document processing"), with bias and the activation fused into the epilogue.
/// </summary>
public static partial class Conv2dF32
{
    /// <summary>Output channels per packed weight block (rows of the micro-kernel). Part of the packed format.</summary>
    public const int BlockRows = 8;

    /// <summary>Floats needed by <see cref="PackWeights"/>: groups · ceil((Cout/groups)/8) · (Cin/groups·kH·kW) · 8.</summary>
    public static int PackedWeightsLength(in Conv2dShape shape)
    {
        shape.Validate();
        return checked(shape.Groups * Blocks(shape.OutChannelsPerGroup) * shape.ReductionLength * BlockRows);
    }

    internal static int Blocks(int rows) => (rows + BlockRows - 1) / BlockRows;

    /// <summary>
    /// ONNX weight <c>[Cout, Cin/groups, kH, kW]</c> → per group, blocks of 8 output channels, each <c>[K][8]</c>
    /// (K = Cin/groups·kH·kW in (ci, ky, kx) order, the im2col row order), zero padded past Cout/groups.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<float> w, in Conv2dShape shape, Span<float> packed)
    {
        int length = PackedWeightsLength(shape);
        Guard.AtLeast(w.Length, shape.WeightLength, nameof(w));
        Guard.AtLeast(packed.Length, length, nameof(packed));
        int k = shape.ReductionLength, coG = shape.OutChannelsPerGroup, blocks = Blocks(coG);
        for (int g = 0; g < shape.Groups; g++)
            for (int blk = 0; blk < blocks; blk++)
                for (int kk = 0; kk < k; kk++)
                    for (int r = 0; r < BlockRows; r++)
                    {
                        int co = blk * BlockRows + r;
                        packed[((g * blocks + blk) * k + kk) * BlockRows + r] = co < coG ? w[(g * coG + co) * k + kk] : 0f;
                    }
    }

    /// <summary>Whether the input can be used directly as the K×P matrix (1×1, stride 1, no padding).</summary>
    internal static bool IsPointwise(in Conv2dShape s) =>
        s.KernelHeight == 1 && s.KernelWidth == 1 && s.StrideHeight == 1 && s.StrideWidth == 1 && s.PadTop == 0 && s.PadLeft == 0
        && s.OutHeight == s.InHeight && s.OutWidth == s.InWidth;

    /// <summary>Floats of scratch <see cref="Run"/> needs: at stride 1 the im2col matrix of one group, K·OutH·OutW, and
    /// one zero-padded input plane (0 when 1×1, stride 1, no padding); at other strides the im2col of the output rows under one
    /// pixel chunk, K·rows·OutW (rows from <see cref="StridedChunkRows"/>).</summary>
    public static int ScratchLength(in Conv2dShape shape)
    {
        shape.Validate();
        if (IsPointwise(shape)) return 0;
        if (!shape.IsUnitStride) return checked(shape.ReductionLength * StridedChunkRows(shape) * shape.OutWidth);
        return checked(shape.ReductionLength * shape.OutPlane + shape.PaddedHeight * shape.PaddedWidth);
    }

    /// <summary>y = act(Conv(x, W) + bias) over NCHW tensors. An empty bias means none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> packedW, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        in Conv2dShape shape, FusedActivation act)
    {
        Guard.AtLeast(packedW.Length, PackedWeightsLength(shape), nameof(packedW));
        Guard.AtLeast(scratch.Length, ScratchLength(shape), nameof(scratch));
        Guard.AtLeast(x.Length, shape.InputLength, nameof(x));
        Guard.Optional(bias.Length, shape.OutChannels, nameof(bias));
        Guard.AtLeast(y.Length, shape.OutputLength, nameof(y));
        int k = shape.ReductionLength, p = shape.OutPlane, cinG = shape.InChannelsPerGroup, coG = shape.OutChannelsPerGroup, blocks = Blocks(coG);
        bool pointwise = IsPointwise(shape);
        ref float w0 = ref MemoryMarshal.GetReference(packedW);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int b = 0; b < shape.Batch; b++)
            for (int g = 0; g < shape.Groups; g++)
            {
                ReadOnlySpan<float> xg = x.Slice((b * shape.InChannels + g * cinG) * shape.InPlane, cinG * shape.InPlane);
                if (!pointwise && !shape.IsUnitStride)
                {
                    // Strided: im2col the output rows under one pixel chunk at a time, so col is written and read while
                    // in L2; the chunks stay multiples of 32 pixels (the widest tile), a row split between two chunks is
                    // gathered twice.
                    int chunkPixels = PixelChunk(k, p), ow = shape.OutWidth;
                    for (int j0 = 0; j0 < p; j0 += chunkPixels)
                    {
                        int pc = Math.Min(chunkPixels, p - j0), r0 = j0 / ow, rows = (j0 + pc - 1) / ow + 1 - r0;
                        Im2Col(xg, scratch, shape, r0, rows);
                        ref float chunkCol = ref Unsafe.Add(ref MemoryMarshal.GetReference(scratch), j0 - r0 * ow);
                        for (int blk = 0; blk < blocks; blk++)
                        {
                            int co = g * coG + blk * BlockRows;
                            ConvGemm(ref Unsafe.Add(ref w0, (nint)(g * blocks + blk) * k * BlockRows), ref chunkCol, rows * ow, pc, k,
                                ref Unsafe.Add(ref y0, ((nint)b * shape.OutChannels + co) * p + j0), p, Math.Min(BlockRows, coG - blk * BlockRows),
                                ref Unsafe.Add(ref bias0, co), !bias.IsEmpty, act);
                        }
                    }
                    continue;
                }
                ref float col = ref MemoryMarshal.GetReference(xg);
                if (!pointwise)
                {
                    Im2ColPadded(xg, scratch, shape);
                    col = ref MemoryMarshal.GetReference(scratch);
                }
                // Pixel chunks whose k rows of col stay in L2 while every weight block passes over them.
                int chunk = PixelChunk(k, p);
                for (int j0 = 0; j0 < p; j0 += chunk)
                {
                    int pc = Math.Min(chunk, p - j0);
                    for (int blk = 0; blk < blocks; blk++)
                    {
                        int co = g * coG + blk * BlockRows;
                        ConvGemm(ref Unsafe.Add(ref w0, (nint)(g * blocks + blk) * k * BlockRows), ref Unsafe.Add(ref col, j0), p, pc, k,
                            ref Unsafe.Add(ref y0, ((nint)b * shape.OutChannels + co) * p + j0), p, Math.Min(BlockRows, coG - blk * BlockRows),
                            ref Unsafe.Add(ref bias0, co), !bias.IsEmpty, act);
                    }
                }
            }
        ActivationF32.PostPass(y[..shape.OutputLength], act);
    }

    /// <summary>Output rows an im2col chunk of a strided conv can span: those under <see cref="PixelChunk"/> consecutive pixels.</summary>
    internal static int StridedChunkRows(in Conv2dShape s) =>
        s.OutWidth == 0 ? 1 : Math.Max(1, Math.Min(s.OutHeight, (PixelChunk(s.ReductionLength, s.OutPlane) - 1) / s.OutWidth + 2));

    /// <summary>Pixels per chunk: about 256 KiB of col (k rows), a multiple of 32, at least 32, at most p.</summary>
    internal static int PixelChunk(int k, int p) => Math.Min(p, Math.Max(32, 65536 / Math.Max(k, 1) / 32 * 32));

    /// <summary>
    /// Y[r, 0..p) = act(Σₖ W[k][r]·col[k, 0..p) + bias[r]) for the r &lt; rows of one 8-row weight block, tiled over
    /// pixels with the widest micro-kernel the CPU runs fast and narrower ones for the tail.
    /// </summary>
    internal static void ConvGemm(ref float w, ref float col, int p, int k, ref float y, int rows, ref float bias, bool hasBias, in FusedActivation act) =>
        ConvGemm(ref w, ref col, p, p, k, ref y, p, rows, ref bias, hasBias, act);

    /// <summary>The same with the rows of col (k rows) and of Y (one per channel) <paramref name="colStride"/> and
    /// <paramref name="yStride"/> floats apart, for callers whose matrices have padded rows.</summary>
    internal static void ConvGemm(ref float w, ref float col, nint colStride, int p, int k, ref float y, nint yStride, int rows, ref float bias, bool hasBias, in FusedActivation act)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 32 <= p; j += 32)
                Tile_F32_8x32_Vector512(ref w, ref Unsafe.Add(ref col, j), colStride, k, ref Unsafe.Add(ref y, j), yStride, rows, ref bias, hasBias, act);
            for (; j + 16 <= p; j += 16)
                Tile_F32_8x16_Vector512(ref w, ref Unsafe.Add(ref col, j), colStride, k, ref Unsafe.Add(ref y, j), yStride, rows, ref bias, hasBias, act);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= p; j += 8)
                Tile_F32_8x8_Vector256(ref w, ref Unsafe.Add(ref col, j), colStride, k, ref Unsafe.Add(ref y, j), yStride, rows, ref bias, hasBias, act);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; j + 4 <= p; j += 4)
                Tile_F32_8x4_Vector128(ref w, ref Unsafe.Add(ref col, j), colStride, k, ref Unsafe.Add(ref y, j), yStride, rows, ref bias, hasBias, act);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            // Leftover pixels (and whole 1×1 planes, e.g. squeeze-excite convs) vectorised over the 8 output channels.
            for (; j < p; j++)
                Tile_F32_8x1_Vector256(ref w, ref Unsafe.Add(ref col, j), colStride, k, ref Unsafe.Add(ref y, j), yStride, rows, ref bias, hasBias, act);
        }
        for (; j < p; j++)
            Tile_F32_8x1_Scalar(ref w, ref Unsafe.Add(ref col, j), colStride, k, ref Unsafe.Add(ref y, j), yStride, rows, ref bias, hasBias, act);
    }

    /// <summary>Micro-kernel: 8 output channels × 1 pixel with the channels in the vector (a packed weight block row
    /// is 8 consecutive channels): per k one weight load and one broadcast of col, two accumulators over alternate k.</summary>
    [SkipLocalsInit]
    internal static void Tile_F32_8x1_Vector256(ref float w, ref float col, nint colStride, int k, ref float y, nint yStride, int rows, ref float bias, bool hasBias, in FusedActivation act)
    {
        Vector256<float> a0 = default, a1 = default;
        int kk = 0;
        for (; kk + 2 <= k; kk += 2)
        {
            a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)(kk * BlockRows)), Vector256.Create(Unsafe.Add(ref col, kk * colStride)), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)((kk + 1) * BlockRows)), Vector256.Create(Unsafe.Add(ref col, (kk + 1) * colStride)), a1);
        }
        if (kk < k)
            a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)(kk * BlockRows)), Vector256.Create(Unsafe.Add(ref col, kk * colStride)), a0);
        Span<float> lanes = stackalloc float[BlockRows];
        (a0 + a1).CopyTo(lanes);
        for (int r = 0; r < rows; r++)
            Unsafe.Add(ref y, r * yStride) = ActivationF32.Fused(lanes[r] + (hasBias ? Unsafe.Add(ref bias, r) : 0f), act);
    }

    /// <summary>
    /// im2col for one group at stride 1: each input plane is copied once into a zero-padded plane (after col in
    /// scratch), then every row of col is OutH straight copies of OutW floats from it — no border arithmetic per row.
    /// </summary>
    internal static void Im2ColPadded(ReadOnlySpan<float> xg, Span<float> scratch, in Conv2dShape s)
    {
        int p = s.OutPlane, oh = s.OutHeight, ow = s.OutWidth, ih = s.InHeight, iw = s.InWidth;
        int hp = s.PaddedHeight, wp = s.PaddedWidth, kh = s.KernelHeight, kw = s.KernelWidth, dh = s.DilationHeight, dw = s.DilationWidth;
        ref float x0 = ref MemoryMarshal.GetReference(xg);
        ref float c0 = ref MemoryMarshal.GetReference(scratch);
        ref float padded = ref Unsafe.Add(ref c0, (nint)s.ReductionLength * p);
        // Every row of the padded plane is written below (input rows, or zeros), so one clear per call is enough for
        // the pad columns, which input rows never touch.
        Block.Zero(ref padded, hp * wp);
        nint row = 0;
        for (int ci = 0; ci < s.InChannelsPerGroup; ci++)
        {
            ref float plane = ref Unsafe.Add(ref x0, (nint)ci * s.InPlane);
            for (int iy = 0; iy < ih; iy++)
                Block.Copy(ref Unsafe.Add(ref plane, iy * iw), ref Unsafe.Add(ref padded, (iy + s.PadTop) * wp + s.PadLeft), iw);
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, row++)
                {
                    ref float dst = ref Unsafe.Add(ref c0, row * p);
                    ref float src = ref Unsafe.Add(ref padded, ky * dh * wp + kx * dw);
                    for (int r = 0; r < oh; r++) Block.Copy(ref Unsafe.Add(ref src, r * wp), ref Unsafe.Add(ref dst, r * ow), ow);
                }
        }
    }

    /// <summary>
    /// im2col for one group and the output rows [<paramref name="firstRow"/>, +<paramref name="rows"/>) (strides other
    /// than 1): col[k][(r − firstRow)·OutW + q], row segments copied (stride-1 columns) or gathered (stride 2 with
    /// Vector512 picks the even lanes of two loads), borders zeroed.
    /// </summary>
    internal static void Im2Col(ReadOnlySpan<float> xg, Span<float> col, in Conv2dShape s, int firstRow, int rows)
    {
        int ow = s.OutWidth, ih = s.InHeight, iw = s.InWidth, sh = s.StrideHeight, sw = s.StrideWidth, pc = rows * ow;
        int lastRow = firstRow + rows;
        ref float x0 = ref MemoryMarshal.GetReference(xg);
        ref float c0 = ref MemoryMarshal.GetReference(col);
        bool evens = sw == 2 && Avx512F.IsSupported;
        var pickEvens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        nint row = 0;
        for (int ci = 0; ci < s.InChannelsPerGroup; ci++)
        {
            nint planeStart = (nint)ci * s.InPlane;
            for (int ky = 0; ky < s.KernelHeight; ky++)
            {
                int dy = ky * s.DilationHeight - s.PadTop;
                // Output rows whose input row r·sh + dy is inside the input, within this chunk: [r0, r1).
                int r0 = Math.Max(firstRow, dy >= 0 ? 0 : (-dy + sh - 1) / sh);
                int r1 = Math.Min(lastRow, ih - dy <= 0 ? 0 : (ih - dy + sh - 1) / sh);
                r0 = Math.Min(r0, lastRow);
                r1 = Math.Max(r1, r0);
                for (int kx = 0; kx < s.KernelWidth; kx++, row++)
                {
                    ref float dst = ref Unsafe.Add(ref c0, row * pc);
                    int dx = kx * s.DilationWidth - s.PadLeft;
                    // Output columns whose input column q·sw + dx is inside the input: [q0, q1).
                    int q0 = Math.Min(ow, dx >= 0 ? 0 : (-dx + sw - 1) / sw);
                    int q1 = Math.Max(q0, Math.Min(ow, iw - dx <= 0 ? 0 : (iw - dx + sw - 1) / sw));
                    if (r1 <= r0 || q1 <= q0)
                    {
                        Block.Zero(ref dst, pc);
                        continue;
                    }
                    Block.Zero(ref dst, (r0 - firstRow) * ow);
                    Block.Zero(ref Unsafe.Add(ref dst, (r1 - firstRow) * ow), (lastRow - r1) * ow);
                    for (int r = r0; r < r1; r++)
                    {
                        ref float d = ref Unsafe.Add(ref dst, (r - firstRow) * ow);
                        for (int q = 0; q < q0; q++) Unsafe.Add(ref d, q) = 0f;
                        for (int q = q1; q < ow; q++) Unsafe.Add(ref d, q) = 0f;
                        nint at = planeStart + (nint)(r * sh + dy) * iw + q0 * sw + dx;
                        ref float src = ref Unsafe.Add(ref x0, at);
                        if (sw == 1)
                        {
                            Block.Copy(ref src, ref Unsafe.Add(ref d, q0), q1 - q0);
                            continue;
                        }
                        int c = q0;
                        if (evens)
                            for (; c + 16 <= q1 && at + 2 * (c - q0) + 32 <= xg.Length; c += 16)
                            {
                                ref float pair = ref Unsafe.Add(ref src, 2 * (c - q0));
                                Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref pair), pickEvens, Vector512.LoadUnsafe(ref pair, 16))
                                    .StoreUnsafe(ref Unsafe.Add(ref d, c));
                            }
                        for (; c < q1; c++)
                            Unsafe.Add(ref d, c) = Unsafe.Add(ref src, (c - q0) * sw);
                    }
                }
            }
        }
    }

    /// <summary>The reference: im2col, then one dot product per output in k order.</summary>
    internal static void Conv2d_F32_Scalar(ReadOnlySpan<float> x, ReadOnlySpan<float> packedW, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> scratch, in Conv2dShape s, in FusedActivation act)
    {
        int k = s.ReductionLength, p = s.OutPlane, coG = s.OutChannelsPerGroup, blocks = Blocks(coG);
        bool pointwise = IsPointwise(s);
        for (int b = 0; b < s.Batch; b++)
            for (int g = 0; g < s.Groups; g++)
            {
                ReadOnlySpan<float> xg = x.Slice((b * s.InChannels + g * s.InChannelsPerGroup) * s.InPlane, s.InChannelsPerGroup * s.InPlane);
                ReadOnlySpan<float> col = xg;
                if (!pointwise)
                {
                    // Strided convs size scratch for one chunk of rows; the reference im2cols the whole plane.
                    Span<float> full = scratch.Length >= k * p ? scratch[..(k * p)] : new float[k * p];
                    Im2Col_F32_Scalar(xg, full, s);
                    col = full;
                }
                for (int co = 0; co < coG; co++)
                {
                    ReadOnlySpan<float> wBlock = packedW.Slice(((g * blocks + co / BlockRows) * k) * BlockRows);
                    int oc = g * coG + co;
                    float b0 = bias.IsEmpty ? 0f : bias[oc];
                    Span<float> yRow = y.Slice((b * s.OutChannels + oc) * p, p);
                    for (int pp = 0; pp < p; pp++)
                    {
                        float sum = b0;
                        for (int kk = 0; kk < k; kk++)
                            sum += wBlock[kk * BlockRows + co % BlockRows] * col[kk * p + pp];
                        yRow[pp] = ActivationF32.Scalar(sum, act);
                    }
                }
            }
    }

    /// <summary>col[(ci·kH + ky)·kW + kx][oh·OW + ow] = x[ci][oh·sh − padTop + ky·dh][ow·sw − padLeft + kx·dw], 0 outside.</summary>
    internal static void Im2Col_F32_Scalar(ReadOnlySpan<float> xg, Span<float> col, in Conv2dShape s)
    {
        int p = s.OutPlane, row = 0;
        for (int ci = 0; ci < s.InChannelsPerGroup; ci++)
            for (int ky = 0; ky < s.KernelHeight; ky++)
                for (int kx = 0; kx < s.KernelWidth; kx++, row++)
                {
                    Span<float> dst = col.Slice(row * p, p);
                    for (int oh = 0; oh < s.OutHeight; oh++)
                    {
                        int ih = oh * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                        for (int ow = 0; ow < s.OutWidth; ow++)
                        {
                            int iw = ow * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                            dst[oh * s.OutWidth + ow] = (uint)ih < (uint)s.InHeight && (uint)iw < (uint)s.InWidth
                                ? xg[(ci * s.InHeight + ih) * s.InWidth + iw] : 0f;
                        }
                    }
                }
    }
}
