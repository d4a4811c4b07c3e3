using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class WinogradConv2dF32
{
    /// <summary>Tiles one Vector512 holds: planes with at most this many 2×2 output tiles (up to 8×8 outputs) run tile-major.</summary>
    const int TileMajorTiles = 16;

    /// <summary>
    /// Whether <see cref="Run"/> takes the tile-major path: every tile of a channel in the lanes of one Vector512, so the
    /// transforms and the products use all 16 lanes however small the plane (the row-of-tiles path fills 4 of 16 lanes
    /// on an 8×8 map and spends most of its time in per-call overhead).
    /// </summary>
    internal static bool RunsTileMajor(in Conv2dShape s) => Avx512F.IsSupported && Vector512.IsHardwareAccelerated && Tiles(s) <= TileMajorTiles;

    /// <summary>
    /// One batch image, tile-major: V[e][ci] (one vector of 16 tiles per position and input channel) from 16 gathers of
    /// the zero-padded plane per channel; per block of 8 output channels M[co][e] = Σ_ci U[e][co][ci]·V[e][ci] (a
    /// broadcast weight times a vector of tiles), then Y = Aᵀ·m·A on whole vectors with bias and activation, and the
    /// four 2×2 output positions interleaved back into rows (or scattered through a stack buffer when the plane is not
    /// 8 outputs wide). Scratch: V (16·Cin vectors), M (8·16 vectors), one padded plane.
    /// </summary>
    static void RunTileMajor_Vector512(ReadOnlySpan<float> xb, ref float w0, ReadOnlySpan<float> bias, Span<float> yb, Span<float> scratch,
        in Conv2dShape s, in FusedActivation act)
    {
        int cin = s.InChannels, cout = s.OutChannels, blocks = Conv2dF32.Blocks(cout), tw = TileCols(s), tiles = Tiles(s);
        int pw = PaddedWidth(s), plane = PaddedPlane(s);
        ref float v0 = ref MemoryMarshal.GetReference(scratch);
        ref float m0 = ref Unsafe.Add(ref v0, (nint)Positions * cin * 16);
        ref float p0 = ref Unsafe.Add(ref m0, Conv2dF32.BlockRows * Positions * 16);

        // Gather offsets of each tile's top-left input; lanes past the last tile repeat tile 0 (never stored).
        Span<int> first = stackalloc int[16];
        for (int t = 0; t < 16; t++) first[t] = t < tiles ? 2 * (t / tw) * pw + 2 * (t % tw) : 0;
        var originLow = Vector256.Create<int>(first);
        var originHigh = Vector256.Create<int>(first[8..]);

        // Input transform, one channel at a time: d_ij = patch element (i, j) of every tile; V = Bᵀ·d·B.
        int copyWidth = Math.Min(s.InWidth, pw - s.PadLeft), ph = 2 * TileRows(s) + 2;
        Block.Zero(ref p0, plane);
        for (int ci = 0; ci < cin; ci++)
        {
            ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xb), (nint)ci * s.InPlane);
            if (copyWidth > 0)
                for (int iy = 0; iy < s.InHeight && iy + s.PadTop < ph; iy++)
                    Block.Copy(ref Unsafe.Add(ref x0, iy * s.InWidth), ref Unsafe.Add(ref p0, (iy + s.PadTop) * pw + s.PadLeft), copyWidth);
            if (tiles == 16 && tw == 4) TransformInput4x4Tiles(ref p0, ref Unsafe.Add(ref v0, (nint)ci * 16), (nint)cin * 16);
            else TransformInput(ref p0, originLow, originHigh, pw, ref Unsafe.Add(ref v0, (nint)ci * 16), (nint)cin * 16);
        }

        var interleave = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var interleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        var lowHalves = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        var highHalves = Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        bool rows8 = s.OutWidth == 8 && s.OutHeight % 2 == 0;
        for (int blk = 0; blk < blocks; blk++)
        {
            int rows = Math.Min(Conv2dF32.BlockRows, cout - blk * Conv2dF32.BlockRows);
            for (int e = 0; e < Positions; e++)
                Products(ref Unsafe.Add(ref w0, ((nint)e * blocks + blk) * cin * Conv2dF32.BlockRows), ref Unsafe.Add(ref v0, (nint)e * cin * 16), cin,
                    ref Unsafe.Add(ref m0, e * 16));
            for (int r = 0; r < rows; r++)
            {
                int co = blk * Conv2dF32.BlockRows + r;
                ref float m = ref Unsafe.Add(ref m0, r * Positions * 16);
                var b = Vector512.Create(bias.IsEmpty ? 0f : bias[co]);
                // Aᵀ·m (rows): top_j = m0j + m1j + m2j, bottom_j = m1j − m2j − m3j; then ·A (columns) the same way.
                var t0 = Load(ref m, 0) + Load(ref m, 4) + Load(ref m, 8);
                var t1 = Load(ref m, 1) + Load(ref m, 5) + Load(ref m, 9);
                var t2 = Load(ref m, 2) + Load(ref m, 6) + Load(ref m, 10);
                var t3 = Load(ref m, 3) + Load(ref m, 7) + Load(ref m, 11);
                var u0 = Load(ref m, 4) - Load(ref m, 8) - Load(ref m, 12);
                var u1 = Load(ref m, 5) - Load(ref m, 9) - Load(ref m, 13);
                var u2 = Load(ref m, 6) - Load(ref m, 10) - Load(ref m, 14);
                var u3 = Load(ref m, 7) - Load(ref m, 11) - Load(ref m, 15);
                var y00 = ActivationF32.Apply(t0 + t1 + t2 + b, act);
                var y01 = ActivationF32.Apply(t1 - t2 - t3 + b, act);
                var y10 = ActivationF32.Apply(u0 + u1 + u2 + b, act);
                var y11 = ActivationF32.Apply(u1 - u2 - u3 + b, act);
                ref float y = ref MemoryMarshal.GetReference(yb.Slice(co * s.OutPlane, s.OutPlane));
                if (rows8)
                {
                    // Lane t = 4·ty + tx: interleaving y00/y01 gives output row 2ty of tile rows (0, 1) then (2, 3).
                    var topLow = Avx512F.PermuteVar16x32x2(y00, interleave, y01);
                    var topHigh = Avx512F.PermuteVar16x32x2(y00, interleaveHigh, y01);
                    var bottomLow = Avx512F.PermuteVar16x32x2(y10, interleave, y11);
                    var bottomHigh = Avx512F.PermuteVar16x32x2(y10, interleaveHigh, y11);
                    int tileRows = s.OutHeight / 2;
                    Avx512F.PermuteVar16x32x2(topLow, lowHalves, bottomLow).StoreUnsafe(ref y);
                    if (tileRows > 1) Avx512F.PermuteVar16x32x2(topLow, highHalves, bottomLow).StoreUnsafe(ref y, 16);
                    if (tileRows > 2) Avx512F.PermuteVar16x32x2(topHigh, lowHalves, bottomHigh).StoreUnsafe(ref y, 32);
                    if (tileRows > 3) Avx512F.PermuteVar16x32x2(topHigh, highHalves, bottomHigh).StoreUnsafe(ref y, 48);
                }
                else
                {
                    ScatterTiles(y00, y01, y10, y11, ref y, s.OutHeight, s.OutWidth, tw, tiles);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Load(ref float m, int position) => Vector512.LoadUnsafe(ref m, (nuint)(position * 16));

    /// <summary>V[4i + j] = (Bᵀ·d·B)[i, j] for the 16 tiles whose top-left offsets are <paramref name="originLow"/> and <paramref name="originHigh"/>, Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void TransformInput(ref float padded, Vector256<int> originLow, Vector256<int> originHigh, int pw, ref float v, nint positionStride)
    {
        fixed (float* p = &padded)
        {
            // (.NET exposes no 512-bit gather: two 256-bit ones.)
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static Vector512<float> Gather(float* at, Vector256<int> low, Vector256<int> high) =>
                Vector512.Create(Avx2.GatherVector256(at, low, 4), Avx2.GatherVector256(at, high, 4));

            // Rows of Bᵀ·d for patch column c: r0 = d0c − d2c, r1 = d1c + d2c, r2 = d2c − d1c, r3 = d1c − d3c.
            Span<Vector512<float>> r = stackalloc Vector512<float>[16];
            for (int c = 0; c < 4; c++)
            {
                var d0 = Gather(p + c, originLow, originHigh);
                var d1 = Gather(p + pw + c, originLow, originHigh);
                var d2 = Gather(p + 2 * pw + c, originLow, originHigh);
                var d3 = Gather(p + 3 * pw + c, originLow, originHigh);
                r[c] = d0 - d2;
                r[4 + c] = d1 + d2;
                r[8 + c] = d2 - d1;
                r[12 + c] = d1 - d3;
            }
            for (int i = 0; i < 4; i++)
            {
                var a0 = r[4 * i];
                var a1 = r[4 * i + 1];
                var a2 = r[4 * i + 2];
                var a3 = r[4 * i + 3];
                ref float dst = ref Unsafe.Add(ref v, 4 * i * positionStride);
                (a0 - a2).StoreUnsafe(ref dst);
                (a1 + a2).StoreUnsafe(ref Unsafe.Add(ref dst, positionStride));
                (a2 - a1).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * positionStride));
                (a1 - a3).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * positionStride));
            }
        }
    }

    /// <summary>
    /// <see cref="TransformInput"/> for a 4×4 grid of tiles (7 or 8 outputs each way; padded rows of 10) without gathers:
    /// Bᵀ·d on whole padded rows, then per patch column c two-source permutes pick column 2tx + c of tile rows (0, 1)
    /// and (2, 3), one 128-bit shuffle joins them into a vector of 16 tiles, and ·B combines the four columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TransformInput4x4Tiles(ref float padded, ref float v, nint positionStride)
    {
        const int pw = 10;
        Span<Vector512<float>> t = stackalloc Vector512<float>[16]; // t[4·ty + i] = row i of Bᵀ·d for tile row ty (padded columns in lanes)
        for (int ty = 0; ty < 4; ty++)
        {
            ref float r = ref Unsafe.Add(ref padded, 2 * ty * pw);
            var d0 = Vector512.LoadUnsafe(ref r);
            var d1 = Vector512.LoadUnsafe(ref r, pw);
            var d2 = Vector512.LoadUnsafe(ref r, 2 * pw);
            var d3 = Vector512.LoadUnsafe(ref r, 3 * pw);
            t[4 * ty] = d0 - d2;
            t[4 * ty + 1] = d1 + d2;
            t[4 * ty + 2] = d2 - d1;
            t[4 * ty + 3] = d1 - d3;
        }
        for (int i = 0; i < 4; i++)
        {
            var c0 = Column(t[i], t[4 + i], t[8 + i], t[12 + i], 0);
            var c1 = Column(t[i], t[4 + i], t[8 + i], t[12 + i], 1);
            var c2 = Column(t[i], t[4 + i], t[8 + i], t[12 + i], 2);
            var c3 = Column(t[i], t[4 + i], t[8 + i], t[12 + i], 3);
            ref float dst = ref Unsafe.Add(ref v, 4 * i * positionStride);
            (c0 - c2).StoreUnsafe(ref dst);
            (c1 + c2).StoreUnsafe(ref Unsafe.Add(ref dst, positionStride));
            (c2 - c1).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * positionStride));
            (c1 - c3).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * positionStride));
        }

        // Lane 4·ty + tx = column 2tx + c of tile row ty.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Column(Vector512<float> row0, Vector512<float> row1, Vector512<float> row2, Vector512<float> row3, int c)
        {
            var pick = Vector512.Create(c, c + 2, c + 4, c + 6, 16 + c, 18 + c, 20 + c, 22 + c, 0, 0, 0, 0, 0, 0, 0, 0);
            var top = Avx512F.PermuteVar16x32x2(row0, pick, row1);
            var bottom = Avx512F.PermuteVar16x32x2(row2, pick, row3);
            return Avx512F.Shuffle4x128(top, bottom, 0b01_00_01_00);
        }
    }

    /// <summary>m[r][e] = Σ_ci U[e][r][ci]·V[e][ci] for the 8 rows of one weight block at one position (one vector of tiles each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Products(ref float u, ref float v, int cin, ref float m)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int ci = 0; ci < cin; ci++)
        {
            var x = Vector512.LoadUnsafe(ref v);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(u), x, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 1)), x, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 2)), x, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 3)), x, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 4)), x, a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 5)), x, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 6)), x, a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref u, 7)), x, a7);
            u = ref Unsafe.Add(ref u, Conv2dF32.BlockRows);
            v = ref Unsafe.Add(ref v, 16);
        }
        const int row = Positions * 16;
        a0.StoreUnsafe(ref m);
        a1.StoreUnsafe(ref m, row);
        a2.StoreUnsafe(ref m, 2 * row);
        a3.StoreUnsafe(ref m, 3 * row);
        a4.StoreUnsafe(ref m, 4 * row);
        a5.StoreUnsafe(ref m, 5 * row);
        a6.StoreUnsafe(ref m, 6 * row);
        a7.StoreUnsafe(ref m, 7 * row);
    }

    /// <summary>Output (2ty + i, 2tx + j) = y_ij[ty·tw + tx], clipped to the plane.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ScatterTiles(Vector512<float> y00, Vector512<float> y01, Vector512<float> y10, Vector512<float> y11, ref float y, int oh, int ow, int tw, int tiles)
    {
        Span<float> lanes = stackalloc float[64];
        ref float l = ref MemoryMarshal.GetReference(lanes);
        y00.StoreUnsafe(ref l);
        y01.StoreUnsafe(ref l, 16);
        y10.StoreUnsafe(ref l, 32);
        y11.StoreUnsafe(ref l, 48);
        for (int t = 0; t < tiles; t++)
        {
            int oy = 2 * (t / tw), ox = 2 * (t % tw);
            for (int i = 0; i < 2 && oy + i < oh; i++)
                for (int j = 0; j < 2 && ox + j < ow; j++)
                    Unsafe.Add(ref y, (oy + i) * ow + ox + j) = lanes[(2 * i + j) * 16 + t];
        }
    }
}
