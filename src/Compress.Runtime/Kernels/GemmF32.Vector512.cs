using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

public static partial class GemmF32
{
    /// <summary>
    /// Register-blocked GEMV: 8 panels (128 outputs) at a time, then 4, x[k] broadcast once and FMA'd into independent
    /// accumulators, each weight loaded exactly once in address order; leftover panels one at a time with k split over
    /// 4 accumulators so FMA latency stays hidden.
    /// </summary>
    internal static void Gemv_F32_8x16_Vector512(ref float x, ref float packedB, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        int panels = Panels(n);
        nint stride = (nint)k * PanelWidth;
        int p = 0;
        // Groups of 8 panels (128 outputs) whose outputs are all inside n: 8 independent accumulators cover the
        // FMA latency × throughput product (4 cycles × 2 per cycle), and 8 sequential streams keep the L2 busy.
        for (; (p + 8) * PanelWidth <= n; p += 8)
        {
            ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
            Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                ref float bk = ref Unsafe.Add(ref b0, kk * PanelWidth);
                var xv = Vector512.Create(Unsafe.Add(ref x, kk));
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk), xv, acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)stride), xv, acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)(2 * stride)), xv, acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)(3 * stride)), xv, acc3);
                acc4 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)(4 * stride)), xv, acc4);
                acc5 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)(5 * stride)), xv, acc5);
                acc6 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)(6 * stride)), xv, acc6);
                acc7 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref bk, (nuint)(7 * stride)), xv, acc7);
            }
            nint j = p * PanelWidth;
            StoreFull(acc0, ref bias, hasBias, ref y, j, act);
            StoreFull(acc1, ref bias, hasBias, ref y, j + 16, act);
            StoreFull(acc2, ref bias, hasBias, ref y, j + 32, act);
            StoreFull(acc3, ref bias, hasBias, ref y, j + 48, act);
            StoreFull(acc4, ref bias, hasBias, ref y, j + 64, act);
            StoreFull(acc5, ref bias, hasBias, ref y, j + 80, act);
            StoreFull(acc6, ref bias, hasBias, ref y, j + 96, act);
            StoreFull(acc7, ref bias, hasBias, ref y, j + 112, act);
        }
        // Then a group of 4 full panels.
        for (; (p + 4) * PanelWidth <= n; p += 4)
        {
            ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
            ref float b1 = ref Unsafe.Add(ref b0, stride);
            ref float b2 = ref Unsafe.Add(ref b1, stride);
            ref float b3 = ref Unsafe.Add(ref b2, stride);
            Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            nint kk = 0;
            for (; kk + 2 <= k; kk += 2)
            {
                nuint o = (nuint)(kk * PanelWidth);
                var xv = Vector512.Create(Unsafe.Add(ref x, kk));
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b0, o), xv, acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b1, o), xv, acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b2, o), xv, acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b3, o), xv, acc3);
                xv = Vector512.Create(Unsafe.Add(ref x, kk + 1));
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b0, o + PanelWidth), xv, acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b1, o + PanelWidth), xv, acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b2, o + PanelWidth), xv, acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b3, o + PanelWidth), xv, acc3);
            }
            if (kk < k)
            {
                nuint o = (nuint)(kk * PanelWidth);
                var xv = Vector512.Create(Unsafe.Add(ref x, kk));
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b0, o), xv, acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b1, o), xv, acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b2, o), xv, acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b3, o), xv, acc3);
            }
            nint j = p * PanelWidth;
            StoreFull(acc0, ref bias, hasBias, ref y, j, act);
            StoreFull(acc1, ref bias, hasBias, ref y, j + 16, act);
            StoreFull(acc2, ref bias, hasBias, ref y, j + 32, act);
            StoreFull(acc3, ref bias, hasBias, ref y, j + 48, act);
        }
        // Leftover panels (fewer than 4, or the last one partial): one panel, k split over 4 accumulators.
        for (; p < panels; p++)
        {
            ref float b = ref Unsafe.Add(ref packedB, p * stride);
            Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            nint kk = 0;
            for (; kk + 4 <= k; kk += 4)
            {
                nuint o = (nuint)(kk * PanelWidth);
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, o), Vector512.Create(Unsafe.Add(ref x, kk)), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, o + 16), Vector512.Create(Unsafe.Add(ref x, kk + 1)), acc1);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, o + 32), Vector512.Create(Unsafe.Add(ref x, kk + 2)), acc2);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, o + 48), Vector512.Create(Unsafe.Add(ref x, kk + 3)), acc3);
            }
            for (; kk < k; kk++)
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, (nuint)(kk * PanelWidth)), Vector512.Create(Unsafe.Add(ref x, kk)), acc0);
            StorePanel((acc0 + acc1) + (acc2 + acc3), ref bias, hasBias, ref y, p * PanelWidth, n, act);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFull(Vector512<float> acc, ref float bias, bool hasBias, ref float y, nint j, in FusedActivation act)
    {
        if (hasBias) acc += Vector512.LoadUnsafe(ref bias, (nuint)j);
        ActivationF32.Apply(acc, act).StoreUnsafe(ref y, (nuint)j);
    }

    /// <summary>Adds bias, applies the activation and stores the valid lanes of one panel's outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePanel(Vector512<float> acc, ref float bias, bool hasBias, ref float y, int j, int n, in FusedActivation act)
    {
        if (j + PanelWidth <= n)
        {
            if (hasBias) acc += Vector512.LoadUnsafe(ref bias, (nuint)j);
            ActivationF32.Apply(acc, act).StoreUnsafe(ref y, (nuint)j);
        }
        else
        {
            StorePartial(acc, ref bias, hasBias, ref y, j, n - j, act);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void StorePartial(Vector512<float> acc, ref float bias, bool hasBias, ref float y, int j, int valid, in FusedActivation act)
    {
        Span<float> lanes = stackalloc float[PanelWidth];
        acc.CopyTo(lanes);
        for (int i = 0; i < valid; i++)
            Unsafe.Add(ref y, j + i) = ActivationF32.Fused(lanes[i] + (hasBias ? Unsafe.Add(ref bias, j + i) : 0f), act);
    }

    /// <summary>Register-blocked GEMM micro-kernel: 4 rows of A × 2 panels (8 accumulators), B streamed once per 4 rows.</summary>
    internal static void Gemm_F32_4x32_Vector512(ref float a, ref float packedB, ref float bias, bool hasBias, ref float c, int m, int k, int n, in FusedActivation act)
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
            ref float c0 = ref Unsafe.Add(ref c, (nint)i * n);
            ref float c1 = ref Unsafe.Add(ref c0, n);
            ref float c2 = ref Unsafe.Add(ref c1, n);
            ref float c3 = ref Unsafe.Add(ref c2, n);
            int p = 0;
            for (; p + 2 <= panels; p += 2)
            {
                ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
                ref float b1 = ref Unsafe.Add(ref b0, stride);
                Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
                for (nint kk = 0; kk < k; kk++)
                {
                    nuint o = (nuint)(kk * PanelWidth);
                    var w0 = Vector512.LoadUnsafe(ref b0, o);
                    var w1 = Vector512.LoadUnsafe(ref b1, o);
                    var x0 = Vector512.Create(Unsafe.Add(ref a0, kk));
                    s00 = Vector512.FusedMultiplyAdd(w0, x0, s00);
                    s01 = Vector512.FusedMultiplyAdd(w1, x0, s01);
                    var x1 = Vector512.Create(Unsafe.Add(ref a1, kk));
                    s10 = Vector512.FusedMultiplyAdd(w0, x1, s10);
                    s11 = Vector512.FusedMultiplyAdd(w1, x1, s11);
                    var x2 = Vector512.Create(Unsafe.Add(ref a2, kk));
                    s20 = Vector512.FusedMultiplyAdd(w0, x2, s20);
                    s21 = Vector512.FusedMultiplyAdd(w1, x2, s21);
                    var x3 = Vector512.Create(Unsafe.Add(ref a3, kk));
                    s30 = Vector512.FusedMultiplyAdd(w0, x3, s30);
                    s31 = Vector512.FusedMultiplyAdd(w1, x3, s31);
                }
                int j = p * PanelWidth;
                StorePanel(s00, ref bias, hasBias, ref c0, j, n, act);
                StorePanel(s01, ref bias, hasBias, ref c0, j + PanelWidth, n, act);
                StorePanel(s10, ref bias, hasBias, ref c1, j, n, act);
                StorePanel(s11, ref bias, hasBias, ref c1, j + PanelWidth, n, act);
                StorePanel(s20, ref bias, hasBias, ref c2, j, n, act);
                StorePanel(s21, ref bias, hasBias, ref c2, j + PanelWidth, n, act);
                StorePanel(s30, ref bias, hasBias, ref c3, j, n, act);
                StorePanel(s31, ref bias, hasBias, ref c3, j + PanelWidth, n, act);
            }
            for (; p < panels; p++)
            {
                ref float b0 = ref Unsafe.Add(ref packedB, p * stride);
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (nint kk = 0; kk < k; kk++)
                {
                    var w0 = Vector512.LoadUnsafe(ref b0, (nuint)(kk * PanelWidth));
                    s0 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(Unsafe.Add(ref a0, kk)), s0);
                    s1 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(Unsafe.Add(ref a1, kk)), s1);
                    s2 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(Unsafe.Add(ref a2, kk)), s2);
                    s3 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(Unsafe.Add(ref a3, kk)), s3);
                }
                int j = p * PanelWidth;
                StorePanel(s0, ref bias, hasBias, ref c0, j, n, act);
                StorePanel(s1, ref bias, hasBias, ref c1, j, n, act);
                StorePanel(s2, ref bias, hasBias, ref c2, j, n, act);
                StorePanel(s3, ref bias, hasBias, ref c3, j, n, act);
            }
        }
        for (; i < m; i++)
            Gemv_F32_8x16_Vector512(ref Unsafe.Add(ref a, (nint)i * k), ref packedB, ref bias, hasBias, ref Unsafe.Add(ref c, (nint)i * n), k, n, act);
    }
}
