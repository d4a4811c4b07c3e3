using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class WinogradConv2dF32
{
    /// <summary>
    /// <see cref="InputTransform_Scalar"/> with Vector512, 7 tiles of a tile row per step: the plane is copied into a
    /// zero-padded buffer once, Bᵀ·d runs down the four input rows as whole vectors, and ·B picks the even/odd columns
    /// (and the next pair) with lane permutes. Stores are whole vectors: lanes past the row's last tile land in tiles
    /// written later or in the row slack.
    /// </summary>
    internal static void InputTransform_Vector512(ReadOnlySpan<float> plane, Span<float> padded, Span<float> v, int ci, int cin, in Conv2dShape s)
    {
        int th = TileRows(s), tw = TileCols(s), ts = TileStride(s), pw = PaddedWidth(s), ph = 2 * th + 2;
        ref float p0 = ref MemoryMarshal.GetReference(padded);
        ref float x0 = ref MemoryMarshal.GetReference(plane);
        Block.Zero(ref p0, PaddedPlane(s));
        int copyWidth = Math.Min(s.InWidth, pw - s.PadLeft);
        if (copyWidth > 0)
            for (int iy = 0; iy < s.InHeight && iy + s.PadTop < ph; iy++)
                Block.Copy(ref Unsafe.Add(ref x0, iy * s.InWidth), ref Unsafe.Add(ref p0, (iy + s.PadTop) * pw + s.PadLeft), copyWidth);

        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
        var evenNext = Vector512.Create(2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        var oddNext = Vector512.Create(3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ref float v0 = ref MemoryMarshal.GetReference(v);
        nint positionStride = PositionStride(s, cin);
        for (int ty = 0; ty < th; ty++)
            for (int tx0 = 0; tx0 < tw; tx0 += 7)
            {
                ref float r = ref Unsafe.Add(ref p0, (nint)(2 * ty) * pw + 2 * tx0);
                var d0 = Vector512.LoadUnsafe(ref r);
                var d1 = Vector512.LoadUnsafe(ref r, (nuint)pw);
                var d2 = Vector512.LoadUnsafe(ref r, (nuint)(2 * pw));
                var d3 = Vector512.LoadUnsafe(ref r, (nuint)(3 * pw));
                ref float dst = ref Unsafe.Add(ref v0, (nint)ci * ts + ty * tw + tx0);
                Columns(d0 - d2, ref dst, 0, positionStride, even, odd, evenNext, oddNext);
                Columns(d1 + d2, ref dst, 4, positionStride, even, odd, evenNext, oddNext);
                Columns(d2 - d1, ref dst, 8, positionStride, even, odd, evenNext, oddNext);
                Columns(d1 - d3, ref dst, 12, positionStride, even, odd, evenNext, oddNext);
            }

        // One row of Bᵀ·d times B: for tile k (columns 2k..2k+3) the four positions firstPosition..+3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Columns(Vector512<float> t, ref float dst, int firstPosition, nint positionStride,
            Vector512<int> even, Vector512<int> odd, Vector512<int> evenNext, Vector512<int> oddNext)
        {
            var e = Avx512F.PermuteVar16x32(t, even);
            var o = Avx512F.PermuteVar16x32(t, odd);
            var e1 = Avx512F.PermuteVar16x32(t, evenNext);
            var o1 = Avx512F.PermuteVar16x32(t, oddNext);
            ref float d = ref Unsafe.Add(ref dst, firstPosition * positionStride);
            (e - e1).StoreUnsafe(ref d);
            (o + e1).StoreUnsafe(ref Unsafe.Add(ref d, positionStride));
            (e1 - o).StoreUnsafe(ref Unsafe.Add(ref d, 2 * positionStride));
            (o - o1).StoreUnsafe(ref Unsafe.Add(ref d, 3 * positionStride));
        }
    }

    /// <summary>
    /// <see cref="OutputTransform_Scalar"/> with Vector512, 8 tiles of a tile row per step: Aᵀ·m·A on whole vectors, then
    /// the two output columns of each tile interleaved by one two-source permute into 16 consecutive outputs. A partial
    /// store writes past the row's last output only into outputs stored later (see Store); otherwise, and at the end of
    /// <paramref name="y"/>, it goes through a stack buffer.
    /// </summary>
    internal static void OutputTransform_Vector512(ReadOnlySpan<float> m, Span<float> y, int co, int cout, float bias, in FusedActivation act, in Conv2dShape s)
    {
        int th = TileRows(s), tw = TileCols(s), ts = TileStride(s), oh = s.OutHeight, ow = s.OutWidth;
        var interleave = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var b = Vector512.Create(bias);
        ref float m0 = ref MemoryMarshal.GetReference(m);
        nint positionStride = PositionStride(s, cout);
        for (int ty = 0; ty < th; ty++)
            for (int tx0 = 0; tx0 < tw; tx0 += 8)
            {
                ref float src = ref Unsafe.Add(ref m0, (nint)co * ts + ty * tw + tx0);
                // Column j of Aᵀ·m: top_j = m0j + m1j + m2j, bottom_j = m1j − m2j − m3j (m_ij at position 4i + j).
                var m00 = Vector512.LoadUnsafe(ref src);
                var m01 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, positionStride));
                var m02 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 2 * positionStride));
                var m03 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 3 * positionStride));
                var m10 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 4 * positionStride));
                var m11 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 5 * positionStride));
                var m12 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 6 * positionStride));
                var m13 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 7 * positionStride));
                var m20 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 8 * positionStride));
                var m21 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 9 * positionStride));
                var m22 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 10 * positionStride));
                var m23 = Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 11 * positionStride));
                var r00 = m00 + m10 + m20;
                var r01 = m01 + m11 + m21;
                var r02 = m02 + m12 + m22;
                var r03 = m03 + m13 + m23;
                int valid = Math.Min(16, ow - 2 * tx0);
                var top = Avx512F.PermuteVar16x32x2(ActivationF32.Apply(r00 + r01 + r02 + b, act), interleave, ActivationF32.Apply(r01 - r02 - r03 + b, act));
                Store(top, y, (co * oh + 2 * ty) * ow + 2 * tx0, valid, spillSafe: tw <= 8);
                if (2 * ty + 1 < oh)
                {
                    var r10 = m10 - m20 - Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 12 * positionStride));
                    var r11 = m11 - m21 - Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 13 * positionStride));
                    var r12 = m12 - m22 - Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 14 * positionStride));
                    var r13 = m13 - m23 - Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 15 * positionStride));
                    var bottom = Avx512F.PermuteVar16x32x2(ActivationF32.Apply(r10 + r11 + r12 + b, act), interleave, ActivationF32.Apply(r11 - r12 - r13 + b, act));
                    Store(bottom, y, (co * oh + 2 * ty + 1) * ow + 2 * tx0, valid, spillSafe: true);
                }
            }

        // spillSafe: outputs past the row's last valid one are stored later (a row's bottom half spills into the next
        // tile row; the top half into the bottom row, which is stored later only when the row is a single step).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(Vector512<float> row, Span<float> y, int at, int valid, bool spillSafe)
        {
            if (valid == 16 || (spillSafe && at + 16 <= y.Length)) row.StoreUnsafe(ref MemoryMarshal.GetReference(y), (nuint)at);
            else StorePartial(row, y.Slice(at, valid));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void StorePartial(Vector512<float> row, Span<float> y)
        {
            Span<float> tmp = stackalloc float[16];
            row.StoreUnsafe(ref MemoryMarshal.GetReference(tmp));
            tmp[..y.Length].CopyTo(y);
        }
    }
}
