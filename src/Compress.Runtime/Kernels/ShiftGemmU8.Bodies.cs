using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class ShiftGemmU8
{
    /// <summary>
    /// AvxVnni body, one row: per 16-column panel and k-group, one 32-byte load of codes, two table lookups
    /// (<c>vpshufb</c>) into the s8 values ±2^p, two <c>vpdpbusd</c>; k unrolled by 4 groups into 8 accumulators. The
    /// weights stream at half the bytes of <see cref="QGemmU8S8"/>'s, the decode costs three shuffle-port µops per 64 weights.
    /// </summary>
    internal static void Gemv_U8S4I32_1x16_AvxVnni<TEpilogue>(ref byte x, ref byte codes, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panels = QGemmU8S8.Panels(n), full = k / QGemmU8S8.KGroup;
        bool hasTail = (k & 3) != 0;
        var tail = Vector256.Create(QGemmU8S8.TailWord(ref x, k)).AsByte();
        nint panelBytes = (nint)QGemmU8S8.KGroups(k) * 32;
        var lut = Vector256.Create(Vector128.Create(Table));
        for (int p = 0; p < panels; p++)
        {
            ref byte b = ref Unsafe.Add(ref codes, p * panelBytes);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            nint g = 0;
            for (; g + 4 <= full; g += 4)
            {
                ref byte w = ref Unsafe.Add(ref b, g * 32);
                ref byte xg = ref Unsafe.Add(ref x, g * 4);
                var (l0, h0) = Decode256(Vector256.LoadUnsafe(ref w), lut);
                var (l1, h1) = Decode256(Vector256.LoadUnsafe(ref w, 32), lut);
                var xv = Vector256.Create(Unsafe.ReadUnaligned<int>(ref xg)).AsByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, xv, l0);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, xv, h0);
                xv = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref xg, 4))).AsByte();
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, xv, l1);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, xv, h1);
                var (l2, h2) = Decode256(Vector256.LoadUnsafe(ref w, 64), lut);
                var (l3, h3) = Decode256(Vector256.LoadUnsafe(ref w, 96), lut);
                xv = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref xg, 8))).AsByte();
                a4 = AvxVnni.MultiplyWideningAndAdd(a4, xv, l2);
                a5 = AvxVnni.MultiplyWideningAndAdd(a5, xv, h2);
                xv = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref xg, 12))).AsByte();
                a6 = AvxVnni.MultiplyWideningAndAdd(a6, xv, l3);
                a7 = AvxVnni.MultiplyWideningAndAdd(a7, xv, h3);
            }
            for (; g < full; g++)
            {
                var (l, h) = Decode256(Vector256.LoadUnsafe(ref b, (nuint)(g * 32)), lut);
                var xv = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x, g * 4))).AsByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, xv, l);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, xv, h);
            }
            if (hasTail)
            {
                var (l, h) = Decode256(Vector256.LoadUnsafe(ref b, (nuint)(full * 32)), lut);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, tail, l);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, tail, h);
            }
            int j = p * QGemmU8S8.PanelWidth;
            epilogue.Store((a0 + a2) + (a4 + a6), (a1 + a3) + (a5 + a7), row, j, Math.Min(QGemmU8S8.PanelWidth, n - j));
        }
    }

    /// <summary>
    /// CPUs without AvxVnni: each panel's codes are decoded once into a stack buffer (<see cref="Expand"/>) and the
    /// panel runs through <see cref="QGemmU8S8"/>'s Avx512BW or Vector128 body for all m rows.
    /// </summary>
    internal static void Gemm_U8S4I32_PanelDecode<TEpilogue>(ref byte a, ref byte codes, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panelValues = QGemmU8S8.KGroups(k) * 64;
        const int StackLimit = 64 * 1024;
        sbyte[]? rented = panelValues > StackLimit ? System.Buffers.ArrayPool<sbyte>.Shared.Rent(panelValues) : null;
        Span<sbyte> panel = rented is null ? stackalloc sbyte[panelValues] : rented.AsSpan(0, panelValues);
        try
        {
            for (int p = 0; p < QGemmU8S8.Panels(n); p++)
            {
                int j0 = p * QGemmU8S8.PanelWidth, width = Math.Min(QGemmU8S8.PanelWidth, n - j0);
                Expand(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref codes, (nint)p * (panelValues / 2)), panelValues / 2), panel);
                var shifted = new OffsetEpilogue<TEpilogue>(epilogue, j0);
                ref sbyte w = ref MemoryMarshal.GetReference(panel);
                if (Avx512BW.IsSupported) QGemmU8S8.Gemm_U8S8I32_4x16_Avx512BW(ref a, ref w, ref shifted, m, k, width);
                else QGemmU8S8.Gemm_U8S8I32_1x8_Vector128(ref a, ref w, ref shifted, m, k, width);
            }
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<sbyte>.Shared.Return(rented);
        }
    }

    /// <summary>The reference, multiplication-free: Σₖ ±(x[k] &lt;&lt; p) per output in k order, read from the codes.</summary>
    internal static void Gemm_U8S4I32_Scalar<TEpilogue>(ref byte a, ReadOnlySpan<byte> codes, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        for (int i = 0; i < m; i++)
        {
            ref byte x = ref Unsafe.Add(ref a, (nint)i * k);
            for (int j = 0; j < n; j++)
            {
                int acc = 0;
                for (int kk = 0; kk < k; kk++)
                    acc += ShiftProduct(Unsafe.Add(ref x, kk), CodeAt(codes, QGemmU8S8.PackedIndex(kk, j, k)));
                epilogue.Store(acc, i, j);
            }
        }
    }

    /// <summary>x·value(code) as a shift: ±(x &lt;&lt; (e − 1)), 0 for e = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ShiftProduct(int x, int code)
    {
        int e = code & 7;
        if (e == 0) return 0;
        int t = x << (e - 1);
        return (code & 8) != 0 ? -t : t;
    }

    /// <summary>
    /// Multiplication-free Vector512 body: two k-groups per 64-byte load (lanes 0–7 group g, 8–15 group g + 1; lane c
    /// holds columns c (low nibbles) and c + 8 (high nibbles) for the group's 4 k). Per k and half: the exponent and
    /// sign extracted with shifts and masks, x shifted by <c>vpsllvd</c> (a count of e − 1 wraps to ≥ 32 for e = 0,
    /// which <c>vpsllvd</c> turns into 0), negated by xor/subtract, added.
    /// </summary>
    internal static void ShiftAdd_U8S4I32_16_Vector512<TEpilogue>(ref byte x, ref byte codes, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panels = QGemmU8S8.Panels(n), groups = QGemmU8S8.KGroups(k);
        nint panelBytes = (nint)groups * 32;
        for (int p = 0; p < panels; p++)
        {
            ref byte b = ref Unsafe.Add(ref codes, p * panelBytes);
            Vector512<int> lo = default, hi = default;
            int g = 0;
            for (; g + 2 <= groups; g += 2)
            {
                var v = Vector512.LoadUnsafe(ref Unsafe.Add(ref b, g * 32)).AsUInt32();
                for (int i = 0; i < 4; i++)
                {
                    var xv = Vector512.Create(Vector256.Create((int)X(ref x, k, 4 * g + i)), Vector256.Create((int)X(ref x, k, 4 * g + 4 + i)));
                    lo += Term512(v >> (8 * i), xv);
                    hi += Term512(v >> (8 * i + 4), xv);
                }
            }
            var lo256 = lo.GetLower() + lo.GetUpper();
            var hi256 = hi.GetLower() + hi.GetUpper();
            if (g < groups)
            {
                var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref b, g * 32)).AsUInt32();
                for (int i = 0; i < 4; i++)
                {
                    var xv = Vector256.Create((int)X(ref x, k, 4 * g + i));
                    lo256 += Term256(v >> (8 * i), xv);
                    hi256 += Term256(v >> (8 * i + 4), xv);
                }
            }
            int j = p * QGemmU8S8.PanelWidth;
            epilogue.Store(lo256, hi256, row, j, Math.Min(QGemmU8S8.PanelWidth, n - j));
        }
    }

    /// <summary>The Vector256 (Avx2) twin of <see cref="ShiftAdd_U8S4I32_16_Vector512"/>: one k-group per 32-byte load.</summary>
    internal static void ShiftAdd_U8S4I32_8_Vector256<TEpilogue>(ref byte x, ref byte codes, ref TEpilogue epilogue, int row, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panels = QGemmU8S8.Panels(n), groups = QGemmU8S8.KGroups(k);
        nint panelBytes = (nint)groups * 32;
        for (int p = 0; p < panels; p++)
        {
            ref byte b = ref Unsafe.Add(ref codes, p * panelBytes);
            Vector256<int> lo = default, hi = default;
            for (int g = 0; g < groups; g++)
            {
                var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref b, g * 32)).AsUInt32();
                for (int i = 0; i < 4; i++)
                {
                    var xv = Vector256.Create((int)X(ref x, k, 4 * g + i));
                    lo += Term256(v >> (8 * i), xv);
                    hi += Term256(v >> (8 * i + 4), xv);
                }
            }
            int j = p * QGemmU8S8.PanelWidth;
            epilogue.Store(lo, hi, row, j, Math.Min(QGemmU8S8.PanelWidth, n - j));
        }
    }

    /// <summary>x[kk], or 0 past k (the codes there are 0 anyway; this keeps the loads inside x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte X(ref byte x, int k, int kk) => kk < k ? Unsafe.Add(ref x, kk) : (byte)0;

    /// <summary>±(x &lt;&lt; (e − 1)) per lane for the nibble in bits 0–3 of <paramref name="nibbles"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Term512(Vector512<uint> nibbles, Vector512<int> x)
    {
        var count = (nibbles & Vector512.Create(7u)) - Vector512<uint>.One;
        var t = Avx512F.ShiftLeftLogicalVariable(x, count);
        var negative = Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(nibbles.AsInt32(), 28), 31);
        return (t ^ negative) - negative;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Term256(Vector256<uint> nibbles, Vector256<int> x)
    {
        var count = (nibbles & Vector256.Create(7u)) - Vector256<uint>.One;
        var t = Avx2.ShiftLeftLogicalVariable(x, count);
        var negative = Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(nibbles.AsInt32(), 28), 31);
        return (t ^ negative) - negative;
    }

    /// <summary>Forwards an epilogue with the column index shifted by the panel's first column.</summary>
    private ref struct OffsetEpilogue<TEpilogue>(TEpilogue inner, int j0) : IQEpilogue
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        private TEpilogue _inner = inner;

        public void Store(int acc, int row, int j) => _inner.Store(acc, row, j + j0);

        public void Store(Vector512<int> acc, int row, int j, int valid) => _inner.Store(acc, row, j + j0, valid);

        public void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid) => _inner.Store(lo, hi, row, j + j0, valid);

        public void Store(Vector128<int> acc, int row, int j, int valid) => _inner.Store(acc, row, j + j0, valid);
    }
}
