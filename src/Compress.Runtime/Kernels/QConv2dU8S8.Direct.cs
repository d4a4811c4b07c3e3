using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class QConv2dU8S8
{
    /// <summary>
    /// Where the kernel reads: reduction step (cg, ky, kx) starts at cg·PlaneBytes + ky·TapRowBytes + kx·TapColBytes;
    /// output row r, column c reads 4 bytes at r·SrcRowBytes + 4c from there and writes pixel r·OutRowPitch + c.
    /// </summary>
    internal readonly record struct Geometry(int ChannelGroups, int KernelHeight, int KernelWidth, nint PlaneBytes, nint TapRowBytes,
        nint TapColBytes, nint SrcRowBytes, int Rows, int RowWidth, int OutRowPitch)
    {
        /// <summary>Reduction steps (ceil(Cin_g/4)·kH·kW): one 16-byte weight quad per step and block.</summary>
        public int Steps => ChannelGroups * KernelHeight * KernelWidth;

        /// <summary>Reads the interleaved padded input directly (stride 1).</summary>
        public static Geometry UnitStride(in Conv2dShape s)
        {
            int pw = s.PaddedWidth;
            return new Geometry(QConv2dU8S8.ChannelGroups(s.InChannelsPerGroup), s.KernelHeight, s.KernelWidth, (nint)s.PaddedHeight * pw * 4,
                (nint)s.DilationHeight * pw * 4, (nint)s.DilationWidth * 4, (nint)pw * 4, s.OutHeight, s.OutWidth, s.OutWidth);
        }

        /// <summary>Reads the gathered per-tap rows <c>[cg][ky][kx][(rows·OutW)↑16][4]</c> of <paramref name="rows"/> output
        /// rows as one long output row.</summary>
        public static Geometry Gathered(in Conv2dShape s, int rows)
        {
            int pixels = rows * s.OutWidth;
            nint row = (nint)PaddedPixels(pixels) * 4;
            return new Geometry(QConv2dU8S8.ChannelGroups(s.InChannelsPerGroup), s.KernelHeight, s.KernelWidth, row * s.KernelHeight * s.KernelWidth,
                row * s.KernelWidth, row, 0, 1, pixels, pixels);
        }
    }

    /// <summary>The per-call constants of one weight block: its output channels' bias, multiplier and shift.</summary>
    internal ref struct BlockOut
    {
        public ref byte Y;          // output plane of the block's first channel
        public int Plane;           // output pixels per channel
        public int Channels;        // valid channels in the block (1..4)
        public ref int Bias;
        public bool HasBias;
        public ref int Multiplier;
        public ref int Shift;
        public int ZeroPoint, Lo, Hi;
    }

    /// <summary>Copies one group of NCHW input into <c>[ceil(Cin_g/4)][PH][PW][4]</c>, borders and missing channels set to the zero point.</summary>
    internal static void Interleave(ref byte x, ref byte dst, in Conv2dShape s, int zeroPoint)
    {
        int cinG = s.InChannelsPerGroup, groups = ChannelGroups(cinG), ph = s.PaddedHeight, pw = s.PaddedWidth, w = s.InWidth;
        byte zp = (byte)zeroPoint;
        MemoryMarshal.CreateSpan(ref dst, InterleavedLength(s)).Fill(zp);
        var zpv = Vector128.Create(zp);
        for (int cg = 0; cg < groups; cg++)
        {
            int channels = Math.Min(ChannelGroup, cinG - cg * ChannelGroup);
            ref byte c0 = ref Unsafe.Add(ref x, (nint)cg * ChannelGroup * s.InPlane);
            ref byte plane = ref Unsafe.Add(ref dst, (nint)cg * ph * pw * 4);
            for (int iy = 0; iy < s.InHeight; iy++)
            {
                ref byte row = ref Unsafe.Add(ref plane, ((nint)(iy + s.PadTop) * pw + s.PadLeft) * 4);
                ref byte src = ref Unsafe.Add(ref c0, (nint)iy * w);
                int ix = 0;
                if (Sse2.IsSupported)
                {
                    for (; ix + 16 <= w; ix += 16)
                    {
                        var a = Vector128.LoadUnsafe(ref src, (nuint)ix);
                        var b = channels > 1 ? Vector128.LoadUnsafe(ref src, (nuint)(s.InPlane + ix)) : zpv;
                        var c = channels > 2 ? Vector128.LoadUnsafe(ref src, (nuint)(2 * s.InPlane + ix)) : zpv;
                        var d = channels > 3 ? Vector128.LoadUnsafe(ref src, (nuint)(3 * s.InPlane + ix)) : zpv;
                        var abLo = Sse2.UnpackLow(a, b).AsUInt16();
                        var abHi = Sse2.UnpackHigh(a, b).AsUInt16();
                        var cdLo = Sse2.UnpackLow(c, d).AsUInt16();
                        var cdHi = Sse2.UnpackHigh(c, d).AsUInt16();
                        ref byte o = ref Unsafe.Add(ref row, ix * 4);
                        Sse2.UnpackLow(abLo, cdLo).AsByte().StoreUnsafe(ref o);
                        Sse2.UnpackHigh(abLo, cdLo).AsByte().StoreUnsafe(ref o, 16);
                        Sse2.UnpackLow(abHi, cdHi).AsByte().StoreUnsafe(ref o, 32);
                        Sse2.UnpackHigh(abHi, cdHi).AsByte().StoreUnsafe(ref o, 48);
                    }
                    for (; ix + 8 <= w; ix += 8)
                    {
                        // The same with 8 pixels: the low halves of 64-bit loads.
                        var a = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, ix))).AsByte();
                        var b = channels > 1 ? Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, s.InPlane + ix))).AsByte() : zpv;
                        var c = channels > 2 ? Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, 2 * s.InPlane + ix))).AsByte() : zpv;
                        var d = channels > 3 ? Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, 3 * s.InPlane + ix))).AsByte() : zpv;
                        var ab = Sse2.UnpackLow(a, b).AsUInt16();
                        var cd = Sse2.UnpackLow(c, d).AsUInt16();
                        ref byte o = ref Unsafe.Add(ref row, ix * 4);
                        Sse2.UnpackLow(ab, cd).AsByte().StoreUnsafe(ref o);
                        Sse2.UnpackHigh(ab, cd).AsByte().StoreUnsafe(ref o, 16);
                    }
                }
                for (; ix < w; ix++)
                    for (int i = 0; i < channels; i++)
                        Unsafe.Add(ref row, ix * 4 + i) = Unsafe.Add(ref src, (nint)i * s.InPlane + ix);
            }
        }
    }

    /// <summary>For strides other than 1, output rows [firstRow, firstRow + rows): T[cg][ky][kx][p] =
    /// padded[cg][oy·sh + ky·dh][ox·sw + kx·dw] (4-byte pixels, p counted from the chunk's first pixel).</summary>
    internal static void GatherTaps(ref byte padded, ref byte dst, in Conv2dShape s, int firstRow, int rows)
    {
        int groups = ChannelGroups(s.InChannelsPerGroup), ph = s.PaddedHeight, pw = s.PaddedWidth, op = PaddedPixels(rows * s.OutWidth);
        nint d = 0;
        for (int cg = 0; cg < groups; cg++)
        {
            ref byte plane = ref Unsafe.Add(ref padded, (nint)cg * ph * pw * 4);
            for (int ky = 0; ky < s.KernelHeight; ky++)
                for (int kx = 0; kx < s.KernelWidth; kx++, d += (nint)op * 4)
                {
                    ref byte t = ref Unsafe.Add(ref dst, d);
                    int p = 0;
                    for (int oy = firstRow; oy < firstRow + rows; oy++)
                    {
                        ref byte srcRow = ref Unsafe.Add(ref plane, ((nint)(oy * s.StrideHeight + ky * s.DilationHeight) * pw + kx * s.DilationWidth) * 4);
                        for (int ox = 0; ox < s.OutWidth; ox++, p++)
                            Unsafe.WriteUnaligned(ref Unsafe.Add(ref t, p * 4), Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref srcRow, (nint)ox * s.StrideWidth * 4)));
                    }
                }
        }
    }

    /// <summary>Runs one group: every block of 4 output channels over all output pixels, with the body this CPU runs best.</summary>
    private static void RunGroup(ref byte src, in Geometry geo, ref sbyte weights, ref BlockOut o, int coG)
    {
        int blocks = Blocks(coG), steps = geo.Steps;
        // The 8×16 body's table of tap offsets, built once per group (not per block: a per-block heap table allocated
        // on every call of a wide layer). Stack up to 32 KB; beyond, the shared pool, which stops allocating once warm.
        bool eight = AvxVnni.IsSupported && Avx512F.VL.IsSupported && blocks > 1;
        nint[]? rented = null;
        Span<nint> offsets = !eight ? default : steps <= 4096 ? stackalloc nint[steps] : (rented = ArrayPool<nint>.Shared.Rent(steps));
        if (eight) TapOffsets(geo, offsets);
        ref byte y0 = ref o.Y;
        ref int bias0 = ref o.Bias, mult0 = ref o.Multiplier, shift0 = ref o.Shift;
        for (int blk = 0; blk < blocks; blk++)
        {
            int co = blk * BlockRows;
            o.Y = ref Unsafe.Add(ref y0, (nint)co * o.Plane);
            o.Bias = ref Unsafe.Add(ref bias0, co);
            o.Multiplier = ref Unsafe.Add(ref mult0, co);
            o.Shift = ref Unsafe.Add(ref shift0, co);
            o.Channels = Math.Min(BlockRows, coG - co);
            ref sbyte w = ref Unsafe.Add(ref weights, (nint)blk * steps * 16);
            if (eight && blk + 1 < blocks)
            {
                // Two packed blocks at once: each loaded pixel vector feeds 8 output channels (16 accumulators need the
                // EVEX registers ymm16–31, hence AVX-512VL).
                o.Channels = Math.Min(2 * BlockRows, coG - co);
                Block_U8S8_8x16_AvxVnni(ref src, ref w, ref Unsafe.Add(ref w, (nint)steps * 16), geo, ref o, offsets);
                blk++;
            }
            else if (AvxVnni.IsSupported) Block_U8S8_4x16_AvxVnni(ref src, ref w, geo, ref o);
            else if (Avx512BW.IsSupported) Block_U8S8_4x16_Avx512BW(ref src, ref w, geo, ref o);
            else Block_U8S8_4x4_Vector128(ref src, ref w, geo, ref o);
        }
        if (rented is not null) ArrayPool<nint>.Shared.Return(rented);
    }

    /// <summary>Byte offset of each reduction step (channel group, tap row, tap column) from a pixel vector's source.</summary>
    private static void TapOffsets(in Geometry g, Span<nint> offsets)
    {
        for (int cg = 0, i = 0; cg < g.ChannelGroups; cg++)
            for (int ky = 0; ky < g.KernelHeight; ky++)
                for (int kx = 0; kx < g.KernelWidth; kx++, i++)
                    offsets[i] = cg * g.PlaneBytes + ky * g.TapRowBytes + kx * g.TapColBytes;
    }

    /// <summary>Source and output offsets of pixel vector v (vectors of <paramref name="width"/> pixels, row by row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (nint Src, int Out, int Valid) Vector(in Geometry g, int v, int perRow, int width)
    {
        int r = v / perRow, c = (v - r * perRow) * width;
        return (r * g.SrcRowBytes + (nint)c * 4, r * g.OutRowPitch + c, Math.Min(width, g.RowWidth - c));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreBytes(ulong bytes, ref byte dst, int valid)
    {
        if (valid == 8)
        {
            Unsafe.WriteUnaligned(ref dst, bytes);
            return;
        }
        for (int i = 0; i < valid; i++, bytes >>= 8) Unsafe.Add(ref dst, i) = (byte)bytes;
    }

    /// <summary>
    /// AvxVnni body: 4 output channels × 16 pixels (two vectors of 8) = 8 accumulators; per reduction step two 32-byte
    /// pixel loads (8 pixels × 4 channels, the u8 operand) and four broadcast weight quads (the s8 operand).
    /// </summary>
    internal static void Block_U8S8_4x16_AvxVnni(ref byte src, ref sbyte w, in Geometry g, ref BlockOut o)
    {
        int perRow = (g.RowWidth + 7) / 8, total = g.Rows * perRow;
        int channelGroups = g.ChannelGroups, kh = g.KernelHeight, kw = g.KernelWidth;
        nint planeBytes = g.PlaneBytes, tapRowBytes = g.TapRowBytes, tapColBytes = g.TapColBytes;
        var r0 = Channel256(ref o, 0);
        var r1 = o.Channels > 1 ? Channel256(ref o, 1) : r0;
        var r2 = o.Channels > 2 ? Channel256(ref o, 2) : r0;
        var r3 = o.Channels > 3 ? Channel256(ref o, 3) : r0;
        for (int v = 0; v < total; v += 2)
        {
            var (s0, d0, n0) = Vector(g, v, perRow, 8);
            var (s1, d1, n1) = v + 1 < total ? Vector(g, v + 1, perRow, 8) : (s0, d0, 0);
            Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            ref byte wq = ref Unsafe.As<sbyte, byte>(ref w);
            ref byte p0 = ref Unsafe.Add(ref src, s0);
            ref byte p1 = ref Unsafe.Add(ref src, s1);
            for (int cg = 0; cg < channelGroups; cg++)
            {
                nint rowOffset = cg * planeBytes;
                for (int ky = 0; ky < kh; ky++, rowOffset += tapRowBytes)
                {
                    nint offset = rowOffset;
                    for (int kx = 0; kx < kw; kx++, offset += tapColBytes)
                    {
                        var x0 = Vector256.LoadUnsafe(ref p0, (nuint)offset);
                        var x1 = Vector256.LoadUnsafe(ref p1, (nuint)offset);
                        var w0 = Vector256.Create(Unsafe.ReadUnaligned<int>(ref wq)).AsSByte();
                        a00 = AvxVnni.MultiplyWideningAndAdd(a00, x0, w0);
                        a01 = AvxVnni.MultiplyWideningAndAdd(a01, x1, w0);
                        var w1 = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref wq, 4))).AsSByte();
                        a10 = AvxVnni.MultiplyWideningAndAdd(a10, x0, w1);
                        a11 = AvxVnni.MultiplyWideningAndAdd(a11, x1, w1);
                        var w2 = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref wq, 8))).AsSByte();
                        a20 = AvxVnni.MultiplyWideningAndAdd(a20, x0, w2);
                        a21 = AvxVnni.MultiplyWideningAndAdd(a21, x1, w2);
                        var w3 = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref wq, 12))).AsSByte();
                        a30 = AvxVnni.MultiplyWideningAndAdd(a30, x0, w3);
                        a31 = AvxVnni.MultiplyWideningAndAdd(a31, x1, w3);
                        wq = ref Unsafe.Add(ref wq, 16);
                    }
                }
            }
            ref byte y = ref o.Y;
            int plane = o.Plane;
            Store8(r0.Apply(a00), r0.Apply(a01), ref y, d0, n0, d1, n1);
            if (o.Channels > 1) Store8(r1.Apply(a10), r1.Apply(a11), ref Unsafe.Add(ref y, plane), d0, n0, d1, n1);
            if (o.Channels > 2) Store8(r2.Apply(a20), r2.Apply(a21), ref Unsafe.Add(ref y, 2 * plane), d0, n0, d1, n1);
            if (o.Channels > 3) Store8(r3.Apply(a30), r3.Apply(a31), ref Unsafe.Add(ref y, 3 * plane), d0, n0, d1, n1);
        }
    }

    /// <summary>
    /// AvxVnni body over two packed blocks: 8 output channels × 16 pixels (two vectors of 8) = 16 accumulators; per
    /// reduction step two 32-byte pixel loads feed 16 <c>vpdpbusd</c> with eight broadcast weight quads (the 4×16 body
    /// needs 6 loads per 8), and the reduction runs as one flat loop over a table of tap offsets.
    /// </summary>
    internal static void Block_U8S8_8x16_AvxVnni(ref byte src, ref sbyte wA, ref sbyte wB, in Geometry g, ref BlockOut o, scoped ReadOnlySpan<nint> offsets)
    {
        int perRow = (g.RowWidth + 7) / 8, total = g.Rows * perRow, steps = g.Steps;
        ref nint offset0 = ref MemoryMarshal.GetReference(offsets);
        Span<Vector256<int>> acc = stackalloc Vector256<int>[16];
        for (int v = 0; v < total; v += 2)
        {
            var (s0, d0, n0) = Vector(g, v, perRow, 8);
            var (s1, d1, n1) = v + 1 < total ? Vector(g, v + 1, perRow, 8) : (s0, d0, 0);
            Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            Vector256<int> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
            ref byte qa = ref Unsafe.As<sbyte, byte>(ref wA);
            ref byte qb = ref Unsafe.As<sbyte, byte>(ref wB);
            ref byte p0 = ref Unsafe.Add(ref src, s0);
            ref byte p1 = ref Unsafe.Add(ref src, s1);
            for (int i = 0; i < steps; i++)
            {
                nint offset = Unsafe.Add(ref offset0, i);
                var x0 = Vector256.LoadUnsafe(ref p0, (nuint)offset);
                var x1 = Vector256.LoadUnsafe(ref p1, (nuint)offset);
                var w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref qa)).AsSByte();
                a00 = AvxVnni.MultiplyWideningAndAdd(a00, x0, w);
                a01 = AvxVnni.MultiplyWideningAndAdd(a01, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref qa, 4))).AsSByte();
                a10 = AvxVnni.MultiplyWideningAndAdd(a10, x0, w);
                a11 = AvxVnni.MultiplyWideningAndAdd(a11, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref qa, 8))).AsSByte();
                a20 = AvxVnni.MultiplyWideningAndAdd(a20, x0, w);
                a21 = AvxVnni.MultiplyWideningAndAdd(a21, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref qa, 12))).AsSByte();
                a30 = AvxVnni.MultiplyWideningAndAdd(a30, x0, w);
                a31 = AvxVnni.MultiplyWideningAndAdd(a31, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref qb)).AsSByte();
                a40 = AvxVnni.MultiplyWideningAndAdd(a40, x0, w);
                a41 = AvxVnni.MultiplyWideningAndAdd(a41, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref qb, 4))).AsSByte();
                a50 = AvxVnni.MultiplyWideningAndAdd(a50, x0, w);
                a51 = AvxVnni.MultiplyWideningAndAdd(a51, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref qb, 8))).AsSByte();
                a60 = AvxVnni.MultiplyWideningAndAdd(a60, x0, w);
                a61 = AvxVnni.MultiplyWideningAndAdd(a61, x1, w);
                w = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref qb, 12))).AsSByte();
                a70 = AvxVnni.MultiplyWideningAndAdd(a70, x0, w);
                a71 = AvxVnni.MultiplyWideningAndAdd(a71, x1, w);
                qa = ref Unsafe.Add(ref qa, 16);
                qb = ref Unsafe.Add(ref qb, 16);
            }
            // The requantising epilogue lives in its own method: inlined 8 times here it made the JIT give up tracking
            // locals and keep every accumulator in memory inside the loop.
            acc[0] = a00; acc[1] = a01; acc[2] = a10; acc[3] = a11; acc[4] = a20; acc[5] = a21; acc[6] = a30; acc[7] = a31;
            acc[8] = a40; acc[9] = a41; acc[10] = a50; acc[11] = a51; acc[12] = a60; acc[13] = a61; acc[14] = a70; acc[15] = a71;
            StoreChannels(acc, ref o, d0, n0, d1, n1);
        }
    }

    /// <summary>Requantises and stores <c>acc[2c], acc[2c + 1]</c> (two 8-pixel vectors) for every valid channel c of the block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreChannels(scoped ReadOnlySpan<Vector256<int>> acc, ref BlockOut o, int d0, int n0, int d1, int n1)
    {
        for (int c = 0; c < o.Channels; c++)
        {
            var r = Channel256(ref o, c);
            Store8(r.Apply(acc[2 * c]), r.Apply(acc[2 * c + 1]), ref Unsafe.Add(ref o.Y, (nint)c * o.Plane), d0, n0, d1, n1);
        }
    }

    /// <summary>The requantisation constants of channel <paramref name="c"/> of the block.</summary>
    private static RequantU8.Uniform256 Channel256(ref BlockOut o, int c) =>
        new(o.HasBias ? Unsafe.Add(ref o.Bias, c) : 0, Unsafe.Add(ref o.Multiplier, c), Unsafe.Add(ref o.Shift, c), o.ZeroPoint, o.Lo, o.Hi);

    /// <summary>Two requantised 8-pixel vectors of one channel (already in [0, 255]) → bytes at their output offsets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(Vector256<int> q0, Vector256<int> q1, ref byte plane, int d0, int n0, int d1, int n1)
    {
        var bytes = RequantU8.Narrow(q0, q1).AsUInt64();
        StoreBytes(bytes.ToScalar(), ref Unsafe.Add(ref plane, d0), n0);
        if (n1 > 0) StoreBytes(bytes.GetElement(1), ref Unsafe.Add(ref plane, d1), n1);
    }

    /// <summary>
    /// Avx512BW body (no AvxVnni): the same tile with the pixels zero-extended to s16 (<c>vpmovzxbw</c>, 8 pixels × 4
    /// channels per Vector512) and the weight quad sign-extended and broadcast as 4 s16, multiplied by <c>vpmaddwd</c>
    /// (exact; <c>vpmaddubsw</c> could saturate); each pixel's two pair sums are folded at the end.
    /// </summary>
    internal static void Block_U8S8_4x16_Avx512BW(ref byte src, ref sbyte w, in Geometry g, ref BlockOut o)
    {
        int perRow = (g.RowWidth + 7) / 8, total = g.Rows * perRow;
        for (int v = 0; v < total; v += 2)
        {
            var (s0, d0, n0) = Vector(g, v, perRow, 8);
            var (s1, d1, n1) = v + 1 < total ? Vector(g, v + 1, perRow, 8) : (s0, d0, 0);
            Vector512<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            ref sbyte wq = ref w;
            for (int cg = 0; cg < g.ChannelGroups; cg++)
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    ref byte tapRow = ref Unsafe.Add(ref src, cg * g.PlaneBytes + ky * g.TapRowBytes);
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        ref byte tap = ref Unsafe.Add(ref tapRow, kx * g.TapColBytes);
                        var p0 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref tap, (nuint)s0));
                        var p1 = Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref tap, (nuint)s1));
                        var quad = Sse41.ConvertToVector128Int16(Vector128.LoadUnsafe(ref wq)).AsUInt64();
                        var quadHi = Sse41.ConvertToVector128Int16(Vector128.LoadUnsafe(ref wq, 8)).AsUInt64();
                        var w0 = Vector512.Create(quad.ToScalar()).AsInt16();
                        a00 += Avx512BW.MultiplyAddAdjacent(p0, w0);
                        a01 += Avx512BW.MultiplyAddAdjacent(p1, w0);
                        var w1 = Vector512.Create(quad.GetElement(1)).AsInt16();
                        a10 += Avx512BW.MultiplyAddAdjacent(p0, w1);
                        a11 += Avx512BW.MultiplyAddAdjacent(p1, w1);
                        var w2 = Vector512.Create(quadHi.ToScalar()).AsInt16();
                        a20 += Avx512BW.MultiplyAddAdjacent(p0, w2);
                        a21 += Avx512BW.MultiplyAddAdjacent(p1, w2);
                        var w3 = Vector512.Create(quadHi.GetElement(1)).AsInt16();
                        a30 += Avx512BW.MultiplyAddAdjacent(p0, w3);
                        a31 += Avx512BW.MultiplyAddAdjacent(p1, w3);
                        wq = ref Unsafe.Add(ref wq, 16);
                    }
                }
            Store16(QGemmU8S8.FoldPairs(a00, a01), ref o, 0, d0, n0, d1, n1);
            if (o.Channels > 1) Store16(QGemmU8S8.FoldPairs(a10, a11), ref o, 1, d0, n0, d1, n1);
            if (o.Channels > 2) Store16(QGemmU8S8.FoldPairs(a20, a21), ref o, 2, d0, n0, d1, n1);
            if (o.Channels > 3) Store16(QGemmU8S8.FoldPairs(a30, a31), ref o, 3, d0, n0, d1, n1);
        }
    }

    /// <summary>Requantises 16 pixels of one channel (two vectors of 8) and stores the valid ones of each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector512<int> acc, ref BlockOut o, int channel, int d0, int n0, int d1, int n1)
    {
        if (o.HasBias) acc += Vector512.Create(Unsafe.Add(ref o.Bias, channel));
        var q = RequantU8.Apply(acc, Vector512.Create(Unsafe.Add(ref o.Multiplier, channel)), Vector512.Create(Unsafe.Add(ref o.Shift, channel)),
            Vector512.Create(o.ZeroPoint), Vector512.Create(o.Lo), Vector512.Create(o.Hi));
        var bytes = RequantU8.Narrow(q).AsUInt64();
        ref byte plane = ref Unsafe.Add(ref o.Y, (nint)channel * o.Plane);
        StoreBytes(bytes.ToScalar(), ref Unsafe.Add(ref plane, d0), n0);
        if (n1 > 0) StoreBytes(bytes.GetElement(1), ref Unsafe.Add(ref plane, d1), n1);
    }

    /// <summary>
    /// Portable Vector128 body: 4 output channels × 4 pixels. Pixels (4 × 4 channels) are zero-extended to s16 and
    /// multiplied by the weight quad as s16 (a u8·s8 product fits s16 exactly); the two products of each pair are
    /// split out of their 32-bit lane with shifts and added in s32, and each pixel's two pair sums folded at the end.
    /// </summary>
    internal static void Block_U8S8_4x4_Vector128(ref byte src, ref sbyte w, in Geometry g, ref BlockOut o)
    {
        int perRow = (g.RowWidth + 3) / 4, total = g.Rows * perRow;
        for (int v = 0; v < total; v++)
        {
            var (s0, d0, n0) = Vector(g, v, perRow, 4);
            Vector128<int> a0l = default, a0h = default, a1l = default, a1h = default, a2l = default, a2h = default, a3l = default, a3h = default;
            ref sbyte wq = ref w;
            for (int cg = 0; cg < g.ChannelGroups; cg++)
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    ref byte tapRow = ref Unsafe.Add(ref src, cg * g.PlaneBytes + ky * g.TapRowBytes);
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        var (xl, xh) = Vector128.Widen(Vector128.LoadUnsafe(ref Unsafe.Add(ref tapRow, kx * g.TapColBytes), (nuint)s0));
                        var (w01, w23) = Vector128.Widen(Vector128.LoadUnsafe(ref wq));
                        var ws = Vector128.Shuffle(w01.AsInt64(), Vector128.Create(0L, 0L)).AsInt16();
                        a0l += PairSums(xl.AsInt16() * ws);
                        a0h += PairSums(xh.AsInt16() * ws);
                        ws = Vector128.Shuffle(w01.AsInt64(), Vector128.Create(1L, 1L)).AsInt16();
                        a1l += PairSums(xl.AsInt16() * ws);
                        a1h += PairSums(xh.AsInt16() * ws);
                        ws = Vector128.Shuffle(w23.AsInt64(), Vector128.Create(0L, 0L)).AsInt16();
                        a2l += PairSums(xl.AsInt16() * ws);
                        a2h += PairSums(xh.AsInt16() * ws);
                        ws = Vector128.Shuffle(w23.AsInt64(), Vector128.Create(1L, 1L)).AsInt16();
                        a3l += PairSums(xl.AsInt16() * ws);
                        a3h += PairSums(xh.AsInt16() * ws);
                        wq = ref Unsafe.Add(ref wq, 16);
                    }
                }
            Store4(Fold(a0l, a0h), ref o, 0, d0, n0);
            if (o.Channels > 1) Store4(Fold(a1l, a1h), ref o, 1, d0, n0);
            if (o.Channels > 2) Store4(Fold(a2l, a2h), ref o, 2, d0, n0);
            if (o.Channels > 3) Store4(Fold(a3l, a3h), ref o, 3, d0, n0);
        }
    }

    /// <summary>Each 32-bit lane holds two s16 products: their sum in s32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> PairSums(Vector128<short> products)
    {
        var p = products.AsInt32();
        return Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(p, 16), 16) + Vector128.ShiftRightArithmetic(p, 16);
    }

    /// <summary>(p0a, p0b, p1a, p1b), (p2a, p2b, p3a, p3b) → (p0, p1, p2, p3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Fold(Vector128<int> lo, Vector128<int> hi) =>
        Vector128.Create(lo.GetElement(0) + lo.GetElement(1), lo.GetElement(2) + lo.GetElement(3), hi.GetElement(0) + hi.GetElement(1), hi.GetElement(2) + hi.GetElement(3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector128<int> acc, ref BlockOut o, int channel, int outIndex, int valid)
    {
        if (o.HasBias) acc += Vector128.Create(Unsafe.Add(ref o.Bias, channel));
        var q = RequantU8.Apply(acc, Vector128.Create(Unsafe.Add(ref o.Multiplier, channel)), Vector128.Create(Unsafe.Add(ref o.Shift, channel)), o.ZeroPoint, o.Lo, o.Hi);
        uint bytes = RequantU8.Narrow(q, q).AsUInt32().ToScalar();
        ref byte dst = ref Unsafe.Add(ref o.Y, (nint)channel * o.Plane + outIndex);
        if (valid == 4)
        {
            Unsafe.WriteUnaligned(ref dst, bytes);
            return;
        }
        for (int i = 0; i < valid; i++, bytes >>= 8) Unsafe.Add(ref dst, i) = (byte)bytes;
    }
}
