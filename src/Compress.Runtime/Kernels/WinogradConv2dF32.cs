using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin &amp; Gray, "Fast Algorithms for
/// Convolutional Neural Networks", CVPR 2016): each 2×2 output tile costs 16 multiplies per (in, out) channel pair
/// instead of 36. Weights are transformed once at build time (U = G·g·Gᵀ); per call the input tiles are transformed
/// (V = Bᵀ·d·B), the 16 tile positions become 16 independent [Cout × Cin]·[Cin × tiles] products run by
/// <see cref="Conv2dF32"/>'s micro-kernels, and the output transform (Y = Aᵀ·m·A) adds the bias and the fused
/// activation. The arithmetic differs from direct convolution by rounding only (relative error ≈ 1e-6 for
/// unit-scale data); the lowering picks this kernel only where it is faster.
/// </summary>
public static partial class WinogradConv2dF32
{
    /// <summary>Transform positions per tile: a 4×4 input patch.</summary>
    const int Positions = 16;

    /// <summary>Extra floats after each row of tiles in scratch, so whole-vector stores never reach the next row.</summary>
    const int RowSlack = 16;

    /// <summary>Whether this kernel runs <paramref name="s"/>: a 3×3, stride 1, dilation 1, ungrouped convolution.</summary>
    public static bool Supports(in Conv2dShape s) =>
        s.KernelHeight == 3 && s.KernelWidth == 3 && s.StrideHeight == 1 && s.StrideWidth == 1
        && s.DilationHeight == 1 && s.DilationWidth == 1 && s.Groups == 1;

    static int TileRows(in Conv2dShape s) => (s.OutHeight + 1) / 2;
    static int TileCols(in Conv2dShape s) => (s.OutWidth + 1) / 2;
    static int Tiles(in Conv2dShape s) => TileRows(s) * TileCols(s);
    static int TileStride(in Conv2dShape s) => (Tiles(s) + 15) / 16 * 16 + RowSlack;

    /// <summary>Floats from one transform position's matrix (rows of tiles) to the next: an odd number of cache lines,
    /// so the 16 same-tile reads/writes of a transform fall into different L1 sets instead of 4 KiB-aliasing.</summary>
    static int PositionStride(in Conv2dShape s, int rows) => rows * TileStride(s) + 16;
    static int PaddedWidth(in Conv2dShape s) => 2 * TileCols(s) + 2;
    static int PaddedPlane(in Conv2dShape s) => (2 * TileRows(s) + 2) * PaddedWidth(s) + 2 * RowSlack;

    /// <summary>Floats of packed weights: 16 positions × ⌈Cout/8⌉ blocks × Cin × 8.</summary>
    public static int PackedWeightsLength(in Conv2dShape s)
    {
        ThrowIfUnsupported(s);
        return checked(Positions * Conv2dF32.Blocks(s.OutChannels) * s.InChannels * Conv2dF32.BlockRows);
    }

    /// <summary>Floats of scratch <see cref="Run"/> needs: the transformed input (16·Cin rows of tiles), the products
    /// (16·Cout rows of tiles) and one zero-padded input plane; for planes of at most 16 tiles at least what the
    /// tile-major path needs (16·Cin + 16·8 vectors of 16 tiles, then the plane), whichever path this CPU runs.</summary>
    public static int ScratchLength(in Conv2dShape s)
    {
        ThrowIfUnsupported(s);
        long rowsOfTiles = Positions * ((long)PositionStride(s, s.InChannels) + PositionStride(s, s.OutChannels));
        long tileMajor = Tiles(s) <= TileMajorTiles ? Positions * 16L * (s.InChannels + Conv2dF32.BlockRows) : 0;
        return checked((int)(Math.Max(rowsOfTiles, tileMajor) + PaddedPlane(s)));
    }

    /// <summary>
    /// Packs ONNX weights W[Cout, Cin, 3, 3] as U = G·g·Gᵀ per (out, in) channel, laid out [position][block of 8 out
    /// channels][in channel][8] for the micro-kernels; rows past Cout in the last block are zero.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<float> w, in Conv2dShape s, Span<float> packed)
    {
        int cin = s.InChannels, cout = s.OutChannels, blocks = Conv2dF32.Blocks(cout);
        Guard.AtLeast(w.Length, (long)cout * cin * 9, nameof(w));
        Guard.AtLeast(packed.Length, PackedWeightsLength(s), nameof(packed));
        packed[..PackedWeightsLength(s)].Clear();
        Span<double> u = stackalloc double[Positions];
        for (int co = 0; co < cout; co++)
            for (int ci = 0; ci < cin; ci++)
            {
                TransformFilter(w.Slice((co * cin + ci) * 9, 9), u);
                int blk = co / Conv2dF32.BlockRows, r = co % Conv2dF32.BlockRows;
                for (int e = 0; e < Positions; e++)
                    packed[((e * blocks + blk) * cin + ci) * Conv2dF32.BlockRows + r] = (float)u[e];
            }
    }

    /// <summary>U = G·g·Gᵀ with G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]], in double.</summary>
    static void TransformFilter(ReadOnlySpan<float> g, Span<double> u)
    {
        Span<double> t = stackalloc double[12]; // G·g, 4×3
        for (int c = 0; c < 3; c++)
        {
            double g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
            t[c] = g0;
            t[3 + c] = 0.5 * (g0 + g1 + g2);
            t[6 + c] = 0.5 * (g0 - g1 + g2);
            t[9 + c] = g2;
        }
        for (int r = 0; r < 4; r++)
        {
            double a = t[3 * r], b = t[3 * r + 1], c = t[3 * r + 2];
            u[4 * r] = a;
            u[4 * r + 1] = 0.5 * (a + b + c);
            u[4 * r + 2] = 0.5 * (a - b + c);
            u[4 * r + 3] = c;
        }
    }

    /// <summary>y = act(Conv3×3(x, W) + bias) over NCHW tensors, W packed by <see cref="PackWeights"/>. An empty bias means none.</summary>
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
        int cin = shape.InChannels, cout = shape.OutChannels, blocks = Conv2dF32.Blocks(cout), tiles = Tiles(shape), ts = TileStride(shape);
        int vStride = PositionStride(shape, cin), mStride = PositionStride(shape, cout);
        Span<float> v = scratch[..(Positions * vStride)];
        Span<float> m = scratch.Slice(v.Length, Positions * mStride);
        Span<float> padded = scratch.Slice(v.Length + m.Length, PaddedPlane(shape));
        bool vector = Vector512.IsHardwareAccelerated;
        ref float w0 = ref MemoryMarshal.GetReference(packedW);
        float zero = 0f;
        for (int b = 0; b < shape.Batch; b++)
        {
            ReadOnlySpan<float> xb = x.Slice(b * shape.InChannels * shape.InPlane, shape.InChannels * shape.InPlane);
            Span<float> yb = y.Slice(b * shape.OutChannels * shape.OutPlane, shape.OutChannels * shape.OutPlane);
            if (RunsTileMajor(shape))
            {
                RunTileMajor_Vector512(xb, ref w0, bias, yb, scratch, shape, act);
                continue;
            }
            for (int ci = 0; ci < cin; ci++)
            {
                ReadOnlySpan<float> plane = xb.Slice(ci * shape.InPlane, shape.InPlane);
                if (vector) InputTransform_Vector512(plane, padded, v, ci, cin, shape);
                else InputTransform_Scalar(plane, v, ci, cin, shape);
            }
            for (int e = 0; e < Positions; e++)
                for (int blk = 0; blk < blocks; blk++)
                    Conv2dF32.ConvGemm(ref Unsafe.Add(ref w0, ((nint)e * blocks + blk) * cin * Conv2dF32.BlockRows),
                        ref v[e * vStride], ts, tiles, cin,
                        ref m[e * mStride + blk * Conv2dF32.BlockRows * ts], ts, Math.Min(Conv2dF32.BlockRows, cout - blk * Conv2dF32.BlockRows),
                        ref zero, false, default);
            for (int co = 0; co < cout; co++)
            {
                float bc = bias.IsEmpty ? 0f : bias[co];
                if (vector) OutputTransform_Vector512(m, yb, co, cout, bc, act, shape);
                else OutputTransform_Scalar(m, yb, co, cout, bc, act, shape);
            }
        }
        ActivationF32.PostPass(y[..shape.OutputLength], act);
    }

    /// <summary>V[e][ci][t] = (Bᵀ·d·B)[e] for every tile t of channel ci, d the 4×4 patch at (2·ty − padTop, 2·tx − padLeft)
    /// (zero outside the input); Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]].</summary>
    internal static void InputTransform_Scalar(ReadOnlySpan<float> plane, Span<float> v, int ci, int cin, in Conv2dShape s)
    {
        int th = TileRows(s), tw = TileCols(s), ts = TileStride(s), pos = PositionStride(s, cin);
        Span<float> d = stackalloc float[16];
        Span<float> t = stackalloc float[16];
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++)
            {
                for (int a = 0; a < 4; a++)
                    for (int c = 0; c < 4; c++)
                    {
                        int iy = 2 * ty - s.PadTop + a, ix = 2 * tx - s.PadLeft + c;
                        d[4 * a + c] = (uint)iy < (uint)s.InHeight && (uint)ix < (uint)s.InWidth ? plane[iy * s.InWidth + ix] : 0f;
                    }
                for (int c = 0; c < 4; c++) // t = Bᵀ·d
                {
                    float d0 = d[c], d1 = d[4 + c], d2 = d[8 + c], d3 = d[12 + c];
                    t[c] = d0 - d2;
                    t[4 + c] = d1 + d2;
                    t[8 + c] = d2 - d1;
                    t[12 + c] = d1 - d3;
                }
                int tile = ty * tw + tx;
                for (int i = 0; i < 4; i++) // V = t·B
                {
                    float t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
                    v[(4 * i + 0) * pos + ci * ts + tile] = t0 - t2;
                    v[(4 * i + 1) * pos + ci * ts + tile] = t1 + t2;
                    v[(4 * i + 2) * pos + ci * ts + tile] = t2 - t1;
                    v[(4 * i + 3) * pos + ci * ts + tile] = t1 - t3;
                }
            }
    }

    /// <summary>Y tile = Aᵀ·m·A with Aᵀ = [[1,1,1,0],[0,1,−1,−1]], plus bias, through the register-fusable activation (Sigmoid/Tanh follow in a post pass); tiles past the
    /// output's last row or column are clipped.</summary>
    internal static void OutputTransform_Scalar(ReadOnlySpan<float> m, Span<float> y, int co, int cout, float bias, in FusedActivation act, in Conv2dShape s)
    {
        int th = TileRows(s), tw = TileCols(s), ts = TileStride(s), pos = PositionStride(s, cout), oh = s.OutHeight, ow = s.OutWidth;
        Span<float> r = stackalloc float[8];
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++)
            {
                int tile = ty * tw + tx;
                for (int j = 0; j < 4; j++)
                {
                    int at = co * ts + tile;
                    float m0 = m[j * pos + at], m1 = m[(4 + j) * pos + at], m2 = m[(8 + j) * pos + at], m3 = m[(12 + j) * pos + at];
                    r[j] = m0 + m1 + m2;
                    r[4 + j] = m1 - m2 - m3;
                }
                for (int i = 0; i < 2; i++)
                {
                    int yy = 2 * ty + i;
                    if (yy >= oh) break;
                    float r0 = r[4 * i], r1 = r[4 * i + 1], r2 = r[4 * i + 2], r3 = r[4 * i + 3];
                    int row = (co * oh + yy) * ow + 2 * tx;
                    y[row] = ActivationF32.Fused(r0 + r1 + r2 + bias, act);
                    if (2 * tx + 1 < ow) y[row + 1] = ActivationF32.Fused(r1 - r2 - r3 + bias, act);
                }
            }
    }

    static void ThrowIfUnsupported(in Conv2dShape s)
    {
        s.Validate();
        if (!Supports(s)) throw new ArgumentException($"Winograd F(2×2, 3×3) runs 3×3 stride-1 ungrouped convolutions, not {s}.");
    }
}
