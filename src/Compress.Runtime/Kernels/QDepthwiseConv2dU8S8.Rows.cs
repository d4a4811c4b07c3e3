using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class QDepthwiseConv2dU8S8
{
    /// <summary>Output row r, column c reads source byte r·SrcRow + c (+ the tap offset) and writes pixel r·OutRowPitch + c.</summary>
    internal readonly record struct Geometry(int SrcRow, int Rows, int RowWidth, int OutRowPitch);

    /// <summary>One channel's weights (taps padded to a multiple of 4 with zeros) and requantisation constants.</summary>
    internal readonly ref struct Channel(ref sbyte weights, int taps, int bias, int multiplier, int shift, int zeroPoint, int lo, int hi)
    {
        public readonly ref sbyte Weights = ref weights;
        public readonly int Taps = taps, Bias = bias, Multiplier = multiplier, Shift = shift, ZeroPoint = zeroPoint, Lo = lo, Hi = hi;
    }

    /// <summary>Copies one input plane into <c>[PH][PW]</c> with the borders set to the zero point.</summary>
    internal static void PadPlane(ref byte x, ref byte dst, in Conv2dShape s, int ph, int pw, byte zeroPoint)
    {
        int w = s.InWidth, h = s.InHeight, top = s.PadTop, left = s.PadLeft;
        if (top == 0 && left == 0 && pw == w && ph == h)
        {
            Unsafe.CopyBlockUnaligned(ref dst, ref x, (uint)(ph * pw));
            return;
        }
        MemoryMarshal.CreateSpan(ref dst, top * pw).Fill(zeroPoint);
        nint inLength = (nint)h * w;
        for (int iy = 0; iy < h; iy++)
        {
            // Rows are short (a few to a few tens of bytes): vector copies instead of a memmove call per row. The last
            // vector may overhang into the right padding, the next row or the bottom padding (all written after it) or
            // the scratch slack; it never reads past the input plane.
            ref byte src = ref Unsafe.Add(ref x, (nint)iy * w);
            ref byte row = ref Unsafe.Add(ref dst, (nint)(iy + top) * pw);
            for (int i = 0; i < left; i++) Unsafe.Add(ref row, i) = zeroPoint;
            ref byte d = ref Unsafe.Add(ref row, left);
            nint ix = 0, remaining = inLength - (nint)iy * w;
            for (; ix + 16 <= w; ix += 16) Vector128.LoadUnsafe(ref src, (nuint)ix).StoreUnsafe(ref d, (nuint)ix);
            if (ix < w && ix + 16 <= remaining)
                Vector128.LoadUnsafe(ref src, (nuint)ix).StoreUnsafe(ref d, (nuint)ix);
            else
                for (; ix < w; ix++) Unsafe.Add(ref d, ix) = Unsafe.Add(ref src, ix);
            for (int i = left + w; i < pw; i++) Unsafe.Add(ref row, i) = zeroPoint;
        }
        MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dst, (nint)(top + h) * pw), (ph - top - h) * pw).Fill(zeroPoint);
    }

    /// <summary>For strides other than 1: T[t][p] = padded[oy·sh + ky·dh][ox·sw + kx·dw].</summary>
    internal static void GatherTaps(ref byte padded, ref byte dst, in Conv2dShape s, int pw, int op)
    {
        for (int ky = 0, t = 0; ky < s.KernelHeight; ky++)
            for (int kx = 0; kx < s.KernelWidth; kx++, t++)
            {
                ref byte row = ref Unsafe.Add(ref dst, (nint)t * op);
                int p = 0;
                for (int oy = 0; oy < s.OutHeight; oy++)
                {
                    ref byte src = ref Unsafe.Add(ref padded, (nint)(oy * s.StrideHeight + ky * s.DilationHeight) * pw + kx * s.DilationWidth);
                    for (int ox = 0; ox < s.OutWidth; ox++, p++)
                        Unsafe.Add(ref row, p) = Unsafe.Add(ref src, (nint)ox * s.StrideWidth);
                }
            }
    }

    /// <summary>
    /// Avx2 body: 16 output pixels per step, taps two at a time — the two taps' 16 pixels interleaved byte-wise
    /// (punpcklbw/punpckhbw), zero-extended to s16 and multiplied by the broadcast (w_a, w_b) s16 pair with
    /// <c>vpmaddwd</c>, which sums each pixel's two products into s32 exactly. Requantisation fused per 8 pixels.
    /// </summary>
    internal static void Channel_U8S8_16_Avx2(ref byte src, ReadOnlySpan<int> offsets, in Geometry g, in Channel ch, ref byte y)
    {
        ref int off = ref MemoryMarshal.GetReference(offsets);
        // The (w_a, w_b) s16 pairs of this channel, built once.
        int pairs = ch.Taps / 2;
        Span<int> weights = stackalloc int[pairs];
        for (int i = 0; i < pairs; i++)
            weights[i] = (Unsafe.Add(ref ch.Weights, 2 * i) & 0xFFFF) | (Unsafe.Add(ref ch.Weights, 2 * i + 1) << 16);
        ref int wp = ref MemoryMarshal.GetReference(weights);
        var rq = new RequantU8.Uniform256(ch.Bias, ch.Multiplier, ch.Shift, ch.ZeroPoint, ch.Lo, ch.Hi);
        int rows = g.Rows, width = g.RowWidth;
        nint planeLength = (nint)(rows - 1) * g.OutRowPitch + width;
        for (int r = 0; r < rows; r++)
        {
            ref byte row = ref Unsafe.Add(ref src, (nint)r * g.SrcRow);
            for (int c = 0; c < width; c += 16)
            {
                ref byte px = ref Unsafe.Add(ref row, c);
                Vector256<int> a0 = default, a1 = default;
                for (int i = 0; i < pairs; i++)
                {
                    var xa = Vector128.LoadUnsafe(ref px, (nuint)Unsafe.Add(ref off, 2 * i));
                    var xb = Vector128.LoadUnsafe(ref px, (nuint)Unsafe.Add(ref off, 2 * i + 1));
                    var w = Vector256.Create(Unsafe.Add(ref wp, i)).AsInt16();
                    a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(xa, xb)), w);
                    a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Sse2.UnpackHigh(xa, xb)), w);
                }
                var bytes = RequantU8.Narrow(rq.Apply(a0), rq.Apply(a1));
                int valid = Math.Min(16, width - c);
                // A full store is fine while it stays inside this output plane: the bytes past the row belong to the
                // next row (or the next vector), which is written after this one.
                nint at = (nint)r * g.OutRowPitch + c;
                if (valid == 16 || at + 16 <= planeLength) bytes.StoreUnsafe(ref y, (nuint)at);
                else StorePartial(bytes, ref Unsafe.Add(ref y, at), valid);
            }
        }
    }

    /// <summary>Stores the first <paramref name="valid"/> (&lt; 16) bytes of <paramref name="bytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StorePartial(Vector128<byte> bytes, ref byte dst, int valid)
    {
        ulong v = bytes.AsUInt64().ToScalar();
        if (valid >= 8)
        {
            Unsafe.WriteUnaligned(ref dst, v);
            dst = ref Unsafe.Add(ref dst, 8);
            v = bytes.AsUInt64().GetElement(1);
            valid -= 8;
        }
        if (valid >= 4)
        {
            Unsafe.WriteUnaligned(ref dst, (uint)v);
            dst = ref Unsafe.Add(ref dst, 4);
            v >>= 32;
            valid -= 4;
        }
        if (valid >= 2)
        {
            Unsafe.WriteUnaligned(ref dst, (ushort)v);
            dst = ref Unsafe.Add(ref dst, 2);
            v >>= 16;
            valid -= 2;
        }
        if (valid == 1) dst = (byte)v;
    }

    /// <summary>
    /// Portable Vector128 body: 8 output pixels per step, one tap at a time: pixels zero-extended to s16 times the
    /// broadcast s16 weight (exact: |255·−128| &lt; 2^15), widened to s32 and accumulated.
    /// </summary>
    internal static void Channel_U8S8_8_Vector128(ref byte src, ReadOnlySpan<int> offsets, in Geometry g, in Channel ch, ref byte y)
    {
        ref int off = ref MemoryMarshal.GetReference(offsets);
        for (int r = 0; r < g.Rows; r++)
        {
            ref byte row = ref Unsafe.Add(ref src, (nint)r * g.SrcRow);
            ref byte yRow = ref Unsafe.Add(ref y, (nint)r * g.OutRowPitch);
            for (int c = 0; c < g.RowWidth; c += 8)
            {
                ref byte px = ref Unsafe.Add(ref row, c);
                Vector128<int> a0 = Vector128.Create(ch.Bias), a1 = a0;
                for (int t = 0; t < ch.Taps; t++)
                {
                    var x8 = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref px, Unsafe.Add(ref off, t)))).AsByte();
                    var p = Vector128.WidenLower(x8).AsInt16() * Vector128.Create((short)Unsafe.Add(ref ch.Weights, t));
                    a0 += Vector128.WidenLower(p);
                    a1 += Vector128.WidenUpper(p);
                }
                var q0 = RequantU8.Apply(a0, Vector128.Create(ch.Multiplier), Vector128.Create(ch.Shift), ch.ZeroPoint, ch.Lo, ch.Hi);
                var q1 = RequantU8.Apply(a1, Vector128.Create(ch.Multiplier), Vector128.Create(ch.Shift), ch.ZeroPoint, ch.Lo, ch.Hi);
                ulong bytes = RequantU8.Narrow(q0, q1).AsUInt64().ToScalar();
                int valid = Math.Min(8, g.RowWidth - c);
                ref byte dst = ref Unsafe.Add(ref yRow, c);
                if (valid == 8) Unsafe.WriteUnaligned(ref dst, bytes);
                else for (int i = 0; i < valid; i++, bytes >>= 8) Unsafe.Add(ref dst, i) = (byte)bytes;
            }
        }
    }
}
