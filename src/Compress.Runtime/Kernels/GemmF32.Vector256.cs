using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

public static partial class GemmF32
{
    /// <summary>
    /// Register-blocked GEMV for 16 ymm registers: 4 panels (64 outputs, 8 accumulators) at a time, x[k] broadcast
    /// once; leftover panels one at a time with k split over 2 accumulator pairs.
    /// </summary>
    internal static void Gemv_F32_4x16_Vector256(ref float x, ref float packedB, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        int panels = Panels(n);
        nint stride = (nint)k * PanelWidth;
        int p = 0;
        for (; (p + 4) * PanelWidth <= n; p += 4)
        {
            ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
            ref float b1 = ref Unsafe.Add(ref b0, stride);
            ref float b2 = ref Unsafe.Add(ref b1, stride);
            ref float b3 = ref Unsafe.Add(ref b2, stride);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                nuint o = (nuint)(kk * PanelWidth);
                var xv = Vector256.Create(Unsafe.Add(ref x, kk));
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b0, o), xv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b0, o + 8), xv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b1, o), xv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b1, o + 8), xv, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b2, o), xv, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b2, o + 8), xv, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b3, o), xv, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b3, o + 8), xv, a7);
            }
            nint j = p * PanelWidth;
            StoreFull(a0, ref bias, hasBias, ref y, j, act);
            StoreFull(a1, ref bias, hasBias, ref y, j + 8, act);
            StoreFull(a2, ref bias, hasBias, ref y, j + 16, act);
            StoreFull(a3, ref bias, hasBias, ref y, j + 24, act);
            StoreFull(a4, ref bias, hasBias, ref y, j + 32, act);
            StoreFull(a5, ref bias, hasBias, ref y, j + 40, act);
            StoreFull(a6, ref bias, hasBias, ref y, j + 48, act);
            StoreFull(a7, ref bias, hasBias, ref y, j + 56, act);
        }
        for (; p < panels; p++)
        {
            ref float b = ref Unsafe.Add(ref packedB, p * stride);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            nint kk = 0;
            for (; kk + 2 <= k; kk += 2)
            {
                nuint o = (nuint)(kk * PanelWidth);
                var x0 = Vector256.Create(Unsafe.Add(ref x, kk));
                var x1 = Vector256.Create(Unsafe.Add(ref x, kk + 1));
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, o), x0, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, o + 8), x0, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, o + 16), x1, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, o + 24), x1, a3);
            }
            if (kk < k)
            {
                nuint o = (nuint)(kk * PanelWidth);
                var x0 = Vector256.Create(Unsafe.Add(ref x, kk));
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, o), x0, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, o + 8), x0, a1);
            }
            StorePanel(a0 + a2, a1 + a3, ref bias, hasBias, ref y, p * PanelWidth, n, act);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFull(Vector256<float> acc, ref float bias, bool hasBias, ref float y, nint j, in FusedActivation act)
    {
        if (hasBias) acc += Vector256.LoadUnsafe(ref bias, (nuint)j);
        ActivationF32.Apply(acc, act).StoreUnsafe(ref y, (nuint)j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePanel(Vector256<float> lo, Vector256<float> hi, ref float bias, bool hasBias, ref float y, int j, int n, in FusedActivation act)
    {
        if (j + PanelWidth <= n)
        {
            StoreFull(lo, ref bias, hasBias, ref y, j, act);
            StoreFull(hi, ref bias, hasBias, ref y, j + 8, act);
        }
        else
        {
            StorePartial(Vector512.Create(lo, hi), ref bias, hasBias, ref y, j, n - j, act);
        }
    }

    /// <summary>GEMM micro-kernel for 16 ymm registers: 4 rows of A × 1 panel (8 accumulators).</summary>
    internal static void Gemm_F32_4x16_Vector256(ref float a, ref float packedB, ref float bias, bool hasBias, ref float c, int m, int k, int n, in FusedActivation act)
    {
        int panels = Panels(n);
        nint stride = (nint)k * PanelWidth;
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            ref float a0 = ref Unsafe.Add(ref a, (nint)i * k);
            ref float a1 = ref Unsafe.Add(ref a0, k);
            ref float a2 = ref Unsafe.Add(ref a1, k);
            ref float a3 = ref Unsafe.Add(ref a2, k);
            for (int p = 0; p < panels; p++)
            {
                ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                for (nint kk = 0; kk < k; kk++)
                {
                    var wl = Vector256.LoadUnsafe(ref b0, (nuint)(kk * PanelWidth));
                    var wh = Vector256.LoadUnsafe(ref b0, (nuint)(kk * PanelWidth + 8));
                    var x0 = Vector256.Create(Unsafe.Add(ref a0, kk));
                    s0 = Vector256.FusedMultiplyAdd(wl, x0, s0);
                    s1 = Vector256.FusedMultiplyAdd(wh, x0, s1);
                    var x1 = Vector256.Create(Unsafe.Add(ref a1, kk));
                    s2 = Vector256.FusedMultiplyAdd(wl, x1, s2);
                    s3 = Vector256.FusedMultiplyAdd(wh, x1, s3);
                    var x2 = Vector256.Create(Unsafe.Add(ref a2, kk));
                    s4 = Vector256.FusedMultiplyAdd(wl, x2, s4);
                    s5 = Vector256.FusedMultiplyAdd(wh, x2, s5);
                    var x3 = Vector256.Create(Unsafe.Add(ref a3, kk));
                    s6 = Vector256.FusedMultiplyAdd(wl, x3, s6);
                    s7 = Vector256.FusedMultiplyAdd(wh, x3, s7);
                }
                int j = p * PanelWidth;
                ref float c0 = ref Unsafe.Add(ref c, (nint)i * n);
                StorePanel(s0, s1, ref bias, hasBias, ref c0, j, n, act);
                StorePanel(s2, s3, ref bias, hasBias, ref Unsafe.Add(ref c0, n), j, n, act);
                StorePanel(s4, s5, ref bias, hasBias, ref Unsafe.Add(ref c0, 2 * (nint)n), j, n, act);
                StorePanel(s6, s7, ref bias, hasBias, ref Unsafe.Add(ref c0, 3 * (nint)n), j, n, act);
            }
        }
        for (; i < m; i++)
            Gemv_F32_4x16_Vector256(ref Unsafe.Add(ref a, (nint)i * k), ref packedB, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), k, n, act);
    }
}
