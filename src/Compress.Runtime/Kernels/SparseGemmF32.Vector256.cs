using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

public static partial class SparseGemmF32
{
    /// <summary>
    /// AVX2: a step as two halves of 8 lanes, each half's positions decoded with <c>vpsrlvd</c> + mask and its x values
    /// fetched with one <c>vgatherdps</c> from the window (AVX2 has no 16-float permute); two accumulators per half
    /// (steps mod 2).
    /// </summary>
    [SkipLocalsInit]
    internal static unsafe void Gemv_F32_16_Vector256(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        int slices = SparseSell.Slices(n), lastFull = k - SliceRows;
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sorted = stackalloc float[SparseSell.SortWindow];
        float* tail = stackalloc float[2 * SliceRows];
        int tailStart = SparseSell.PrepareTail(ref x, k, SliceRows, new Span<float>(tail, 2 * SliceRows));
        var shLo = SparseSell.NibbleShifts256;
        var shHi = shLo + Vector256.Create(16u);
        var mask = Vector256.Create(15u);
        fixed (float* px = &x)
        {
            for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
            {
                int wRows = Math.Min(SparseSell.SortWindow, n - w0);
                for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s < sEnd; s++)
                {
                    nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1);
                    Vector256<float> lo0 = default, hi0 = default, lo1 = default, hi1 = default;
                    for (; t < end; t++)
                    {
                        int b = Unsafe.Add(ref indices, t * IndicesPerStep);
                        var word = Vector256.Create(SparseSell.Word(ref indices, t)).AsUInt32();
                        var il = (Avx2.ShiftRightLogicalVariable(word, shLo) & mask).AsInt32();
                        var ih = (Avx2.ShiftRightLogicalVariable(word, shHi) & mask).AsInt32();
                        float* src = b <= lastFull ? px + b : tail + Math.Min(b - tailStart, SliceRows);
                        ref float v = ref Unsafe.Add(ref values, t * SliceRows);
                        if ((t & 1) == 0)
                        {
                            lo0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref v), Avx2.GatherVector256(src, il, 4), lo0);
                            hi0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref v, 8), Avx2.GatherVector256(src, ih, 4), hi0);
                        }
                        else
                        {
                            lo1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref v), Avx2.GatherVector256(src, il, 4), lo1);
                            hi1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref v, 8), Avx2.GatherVector256(src, ih, 4), hi1);
                        }
                    }
                    ref float sum0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(sorted), (s - w0 / SliceRows) * SliceRows);
                    (lo0 + lo1).StoreUnsafe(ref sum0);
                    (hi0 + hi1).StoreUnsafe(ref sum0, 8);
                }
                var ordered = SparseSell.InRowOrder<float>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n);
                SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
            }
        }
    }

    /// <summary>SSE/NEON: a step as four quarters of 4 lanes, x values assembled element by element, one accumulator per quarter.</summary>
    [SkipLocalsInit]
    internal static void Gemv_F32_16_Vector128(ref float x, ref float values, ref ushort indices, ref int rows, ref float bias, bool hasBias, ref float y, int k, int n, in FusedActivation act)
    {
        int slices = SparseSell.Slices(n), lastFull = k - SliceRows;
        Span<float> window = stackalloc float[SparseSell.SortWindow];
        Span<float> sorted = stackalloc float[SparseSell.SortWindow];
        Span<float> tailBuffer = stackalloc float[2 * SliceRows];
        int tailStart = SparseSell.PrepareTail(ref x, k, SliceRows, tailBuffer);
        ref float tail = ref MemoryMarshal.GetReference(tailBuffer);
        for (int w0 = 0; w0 < n; w0 += SparseSell.SortWindow)
        {
            int wRows = Math.Min(SparseSell.SortWindow, n - w0);
            for (int s = w0 / SliceRows, sEnd = Math.Min(slices, (w0 + SparseSell.SortWindow) / SliceRows); s < sEnd; s++)
            {
                nint t = Unsafe.Add(ref rows, s), end = Unsafe.Add(ref rows, s + 1);
                Vector128<float> q0 = default, q1 = default, q2 = default, q3 = default;
                for (; t < end; t++)
                {
                    int b = Unsafe.Add(ref indices, t * IndicesPerStep);
                    ulong word = SparseSell.Word(ref indices, t);
                    ref float src = ref SparseSell.WindowAt(ref x, ref tail, b, lastFull, tailStart, SliceRows);
                    ref float v = ref Unsafe.Add(ref values, t * SliceRows);
                    q0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref v), Quarter(ref src, word, 0), q0);
                    q1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref v, 4), Quarter(ref src, word, 4), q1);
                    q2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref v, 8), Quarter(ref src, word, 8), q2);
                    q3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref v, 12), Quarter(ref src, word, 12), q3);
                }
                ref float sum0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(sorted), (s - w0 / SliceRows) * SliceRows);
                q0.StoreUnsafe(ref sum0);
                q1.StoreUnsafe(ref sum0, 4);
                q2.StoreUnsafe(ref sum0, 8);
                q3.StoreUnsafe(ref sum0, 12);
            }
            var ordered = SparseSell.InRowOrder<float>(sorted, window, ref rows, slices, w0, wRows, SliceRows, 1, n);
            SparseSell.BiasActivation(ref MemoryMarshal.GetReference(ordered), ref Unsafe.Add(ref bias, w0), hasBias, ref Unsafe.Add(ref y, w0), wRows, act);
        }
    }

    /// <summary>x values of lanes l0..l0+3 of a windowed step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Quarter(ref float window, ulong word, int l0) => Vector128.Create(
        Unsafe.Add(ref window, SparseSell.Position(word, l0)), Unsafe.Add(ref window, SparseSell.Position(word, l0 + 1)),
        Unsafe.Add(ref window, SparseSell.Position(word, l0 + 2)), Unsafe.Add(ref window, SparseSell.Position(word, l0 + 3)));
}
