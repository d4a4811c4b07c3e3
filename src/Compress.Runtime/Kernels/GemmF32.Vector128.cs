using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

public static partial class GemmF32
{
    /// <summary>Register-blocked GEMV for 16 xmm registers: 2 panels (32 outputs, 8 accumulators) at a time, x[k] broadcast once.</summary>
    internal static void Gemv_F32_2x16_Vector128(ref float x, ref float packedB, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        int panels = Panels(n);
        nint stride = (nint)k * PanelWidth;
        for (int p = 0; p < panels; p += 2)
        {
            bool two = p + 1 < panels;
            ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
            // With one panel left, the second set reads the first panel again; its result is discarded.
            ref float b1 = ref two ? ref Unsafe.Add(ref b0, stride) : ref b0;
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                nuint o = (nuint)(kk * PanelWidth);
                var xv = Vector128.Create(Unsafe.Add(ref x, kk));
                a0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b0, o), xv, a0);
                a1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b0, o + 4), xv, a1);
                a2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b0, o + 8), xv, a2);
                a3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b0, o + 12), xv, a3);
                a4 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b1, o), xv, a4);
                a5 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b1, o + 4), xv, a5);
                a6 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b1, o + 8), xv, a6);
                a7 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref b1, o + 12), xv, a7);
            }
            StorePanel(a0, a1, a2, a3, ref bias, hasBias, ref y, p * PanelWidth, n, act);
            if (two) StorePanel(a4, a5, a6, a7, ref bias, hasBias, ref y, (p + 1) * PanelWidth, n, act);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFull(Vector128<float> acc, ref float bias, bool hasBias, ref float y, nint j, in FusedActivation act)
    {
        if (hasBias) acc += Vector128.LoadUnsafe(ref bias, (nuint)j);
        ActivationF32.Apply(acc, act).StoreUnsafe(ref y, (nuint)j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePanel(Vector128<float> q0, Vector128<float> q1, Vector128<float> q2, Vector128<float> q3,
        ref float bias, bool hasBias, ref float y, int j, int n, in FusedActivation act)
    {
        if (j + PanelWidth <= n)
        {
            StoreFull(q0, ref bias, hasBias, ref y, j, act);
            StoreFull(q1, ref bias, hasBias, ref y, j + 4, act);
            StoreFull(q2, ref bias, hasBias, ref y, j + 8, act);
            StoreFull(q3, ref bias, hasBias, ref y, j + 12, act);
        }
        else
        {
            StorePartial(Vector512.Create(Vector256.Create(q0, q1), Vector256.Create(q2, q3)), ref bias, hasBias, ref y, j, n - j, act);
        }
    }

    /// <summary>GEMM micro-kernel for 16 xmm registers: 2 rows of A × 1 panel (8 accumulators).</summary>
    internal static void Gemm_F32_2x16_Vector128(ref float a, ref float packedB, ref float bias, bool hasBias, ref float c, int m, int k, int n, in FusedActivation act)
    {
        int panels = Panels(n);
        nint stride = (nint)k * PanelWidth;
        int i = 0;
        for (; i + 2 <= m; i += 2)
        {
            ref float a0 = ref Unsafe.Add(ref a, (nint)i * k);
            ref float a1 = ref Unsafe.Add(ref a0, k);
            for (int p = 0; p < panels; p++)
            {
                ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
                Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                for (nint kk = 0; kk < k; kk++)
                {
                    nuint o = (nuint)(kk * PanelWidth);
                    var w0 = Vector128.LoadUnsafe(ref b0, o);
                    var w1 = Vector128.LoadUnsafe(ref b0, o + 4);
                    var w2 = Vector128.LoadUnsafe(ref b0, o + 8);
                    var w3 = Vector128.LoadUnsafe(ref b0, o + 12);
                    var x0 = Vector128.Create(Unsafe.Add(ref a0, kk));
                    s0 = Vector128.MultiplyAddEstimate(w0, x0, s0);
                    s1 = Vector128.MultiplyAddEstimate(w1, x0, s1);
                    s2 = Vector128.MultiplyAddEstimate(w2, x0, s2);
                    s3 = Vector128.MultiplyAddEstimate(w3, x0, s3);
                    var x1 = Vector128.Create(Unsafe.Add(ref a1, kk));
                    s4 = Vector128.MultiplyAddEstimate(w0, x1, s4);
                    s5 = Vector128.MultiplyAddEstimate(w1, x1, s5);
                    s6 = Vector128.MultiplyAddEstimate(w2, x1, s6);
                    s7 = Vector128.MultiplyAddEstimate(w3, x1, s7);
                }
                ref float c0 = ref Unsafe.Add(ref c, (nint)i * n);
                StorePanel(s0, s1, s2, s3, ref bias, hasBias, ref c0, p * PanelWidth, n, act);
                StorePanel(s4, s5, s6, s7, ref bias, hasBias, ref Unsafe.Add(ref c0, n), p * PanelWidth, n, act);
            }
        }
        for (; i < m; i++)
            Gemv_F32_2x16_Vector128(ref Unsafe.Add(ref a, (nint)i * k), ref packedB, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), k, n, act);
    }
}
