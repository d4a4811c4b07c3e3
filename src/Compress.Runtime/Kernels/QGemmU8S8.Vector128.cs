using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

public static partial class QGemmU8S8
{
    /// <summary>
    /// Portable Vector128 body (no AvxVnni/Avx512BW, or not x86): per row, 8 columns (two 16-byte chunks of a panel) at
    /// a time. Each chunk (4 columns × 4 k) is sign-extended to s16 and multiplied by x zero-extended to s16 — a u8·s8
    /// product fits s16 exactly (|255·−128| = 32640) — then widened to s32 and added into one accumulator per column
    /// (lanes = k mod 4), summed across lanes at the end.
    /// </summary>
    internal static void Gemm_U8S8I32_1x8_Vector128<TEpilogue>(ref byte a, ref sbyte packedB, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        int panels = Panels(n), groups = KGroups(k), full = k / KGroup;
        nint panelBytes = (nint)groups * 64;
        for (int i = 0; i < m; i++)
        {
            ref byte x = ref Unsafe.Add(ref a, (nint)i * k);
            int tail = TailWord(ref x, k);
            for (int p = 0; p < panels; p++)
                for (int half = 0; half < 2; half++)
                {
                    int j = p * PanelWidth + half * 8;
                    if (j >= n) break;
                    ref sbyte b = ref Unsafe.Add(ref packedB, p * panelBytes + half * 32);
                    Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
                    for (nint g = 0; g < groups; g++)
                    {
                        int word = g < full ? Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x, g * 4)) : tail;
                        var xs = Vector128.WidenLower(Vector128.Create(word).AsByte()).AsInt16();
                        var (w0, w1) = Vector128.Widen(Vector128.LoadUnsafe(ref b, (nuint)(g * 64)));
                        var (w2, w3) = Vector128.Widen(Vector128.LoadUnsafe(ref b, (nuint)(g * 64 + 16)));
                        var p0 = w0 * xs;
                        var p1 = w1 * xs;
                        var p2 = w2 * xs;
                        var p3 = w3 * xs;
                        c0 += Vector128.WidenLower(p0);
                        c1 += Vector128.WidenUpper(p0);
                        c2 += Vector128.WidenLower(p1);
                        c3 += Vector128.WidenUpper(p1);
                        c4 += Vector128.WidenLower(p2);
                        c5 += Vector128.WidenUpper(p2);
                        c6 += Vector128.WidenLower(p3);
                        c7 += Vector128.WidenUpper(p3);
                    }
                    epilogue.Store(Vector128.Create(Vector128.Sum(c0), Vector128.Sum(c1), Vector128.Sum(c2), Vector128.Sum(c3)), i, j, Math.Min(4, n - j));
                    if (j + 4 < n)
                        epilogue.Store(Vector128.Create(Vector128.Sum(c4), Vector128.Sum(c5), Vector128.Sum(c6), Vector128.Sum(c7)), i, j + 4, Math.Min(4, n - j - 4));
                }
        }
    }
}
