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
        if (s.PadTop == 0 && s.PadLeft == 0 && pw == s.InWidth && ph == s.InHeight)
        {
            Unsafe.CopyBlockUnaligned(ref dst, ref x, (uint)(ph * pw));
            return;
        }
        MemoryMarshal.CreateSpan(ref dst, ph * pw).Fill(zeroPoint);
        for (int iy = 0; iy < s.InHeight; iy++)
            Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref dst, (nint)(iy + s.PadTop) * pw + s.PadLeft), ref Unsafe.Add(ref x, (nint)iy * s.InWidth), (uint)s.InWidth);
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
        var bias = Vector256.Create(ch.Bias);
        var mult = Vector256.Create(ch.Multiplier);
        var shift = Vector256.Create(ch.Shift);
        var zp = Vector256.Create(ch.ZeroPoint);
        var lo = Vector256.Create(ch.Lo);
        var hi = Vector256.Create(ch.Hi);
        for (int r = 0; r < g.Rows; r++)
        {
            ref byte row = ref Unsafe.Add(ref src, (nint)r * g.SrcRow);
            ref byte yRow = ref Unsafe.Add(ref y, (nint)r * g.OutRowPitch);
            for (int c = 0; c < g.RowWidth; c += 16)
            {
                ref byte px = ref Unsafe.Add(ref row, c);
                Vector256<int> a0 = bias, a1 = default;
                for (int t = 0; t < ch.Taps; t += 2)
                {
                    var xa = Vector128.LoadUnsafe(ref px, (nuint)Unsafe.Add(ref off, t));
                    var xb = Vector128.LoadUnsafe(ref px, (nuint)Unsafe.Add(ref off, t + 1));
                    int pair = (Unsafe.Add(ref ch.Weights, t) & 0xFFFF) | (Unsafe.Add(ref ch.Weights, t + 1) << 16); // (w_a, w_b) as two s16
                    var w = Vector256.Create(pair).AsInt16();
                    a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(xa, xb)), w);
                    a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Sse2.UnpackHigh(xa, xb)), w);
                }
                a1 += bias;
                var q0 = RequantU8.Apply(a0, mult, shift, zp, lo, hi);
                var q1 = RequantU8.Apply(a1, mult, shift, zp, lo, hi);
                var bytes = RequantU8.Narrow(q0, q1);
                int valid = Math.Min(16, g.RowWidth - c);
                if (valid == 16) bytes.StoreUnsafe(ref yRow, (nuint)c);
                else StorePartial(bytes, ref Unsafe.Add(ref yRow, c), valid);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartial(Vector128<byte> bytes, ref byte dst, int valid)
    {
        for (int i = 0; i < valid; i++) Unsafe.Add(ref dst, i) = bytes.GetElement(i);
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
