using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// Sparse or dense for a constant B of a Gemm/MatMul (fp32): the format with the fewest packed bytes among those whose
/// density is under the break-even measured for its kernel (<see cref="SparseFormats.BreakEvenDensityF32"/>, from
/// docs/runtime-kernels-sparse.md), else dense <see cref="GemmF32"/>. Pruned weights (docs/pruning.md) are what makes
/// a format qualify: N:M only when every group of M holds at most N non-zeros, blocks only when whole blocks are zero.
/// </summary>
internal static class SparseLinear
{
    /// <summary>One chosen sparse encoding of B, ready to emit.</summary>
    internal sealed record Choice(SparseFormat Format, int BlockRows, int BlockCols, int NmN, int NmM, float[] Values, ushort[] Indices, int[] Rows, double Density)
    {
        /// <summary>"CSR 10% dense", "2:4", "1×4 blocks 12% dense".</summary>
        public string Describe() => Format switch
        {
            SparseFormat.NM => $"sparse {NmN}:{NmM}",
            SparseFormat.Unstructured => $"sparse, {Density:P0} non-zero",
            _ => $"sparse {BlockRows}×{BlockCols} blocks, {Density:P0} non-zero",
        };
    }

    /// <summary>The sparse encoding to run B [k, n] (or [n, k] when <paramref name="transposed"/>) with, or null for dense.</summary>
    public static Choice? Choose(float[] b, bool transposed, int k, int n)
    {
        long total = (long)k * n;
        if (total == 0 || k > ushort.MaxValue + 1) return null;
        long nonZero = 0;
        foreach (float v in b) if (v != 0f) nonZero++;
        double density = (double)nonZero / total;
        if (density > 0.75) return null; // above every kernel's break-even

        Choice? best = null;
        long bestBytes = long.MaxValue;
        void Consider(Choice c, long bytes, double formatDensity)
        {
            if (formatDensity > SparseFormats.BreakEvenDensityF32(c.Format, k, n) || bytes >= bestBytes) return;
            best = c;
            bestBytes = bytes;
        }

        foreach (var (nmN, nmM) in new[] { (1, 4), (2, 4) })
        {
            if (!NmGemmF32.Fits(b, transposed, k, n, nmN, nmM)) continue;
            var lengths = NmGemmF32.PackedLengths(k, n, nmN, nmM);
            var values = new float[lengths.Values];
            var indices = new ushort[lengths.Indices];
            NmGemmF32.Pack(b, transposed, k, n, nmN, nmM, values, indices);
            Consider(new Choice(SparseFormat.NM, 0, 0, nmN, nmM, values, indices, [], density), lengths.Bytes(4), (double)nmN / nmM);
            break; // 1:4 fits ⇒ 2:4 fits with more bytes
        }

        foreach (var (format, rows, cols) in new[] { (SparseFormat.Block1x4, 1, 4), (SparseFormat.Block4x1, 4, 1), (SparseFormat.Block8x1, 8, 1) })
        {
            var lengths = BlockSparseGemmF32.PackedLengths(b, transposed, k, n, rows, cols);
            double blockDensity = (double)lengths.Values / total; // stored values, zeros inside kept blocks included
            if (blockDensity > SparseFormats.BreakEvenDensityF32(format, k, n)) continue;
            var values = new float[lengths.Values];
            var indices = new ushort[lengths.Indices];
            var offsets = new int[lengths.Rows];
            BlockSparseGemmF32.Pack(b, transposed, k, n, rows, cols, values, indices, offsets);
            Consider(new Choice(format, rows, cols, 0, 0, values, indices, offsets, density), lengths.Bytes(4), blockDensity);
        }

        {
            var lengths = SparseGemmF32.PackedLengths(b, transposed, k, n);
            if (density <= SparseFormats.BreakEvenDensityF32(SparseFormat.Unstructured, k, n) && lengths.Bytes(4) < bestBytes)
            {
                var values = new float[lengths.Values];
                var indices = new ushort[lengths.Indices];
                var offsets = new int[lengths.Rows];
                SparseGemmF32.Pack(b, transposed, k, n, values, indices, offsets);
                Consider(new Choice(SparseFormat.Unstructured, 0, 0, 0, 0, values, indices, offsets, density), lengths.Bytes(4), density);
            }
        }
        return best;
    }

    /// <summary>Emits y = act(a·B + bias) with <paramref name="c"/>'s kernel: Gemv for one row, Gemm for more.</summary>
    public static void Emit(Node node, LoweringContext ctx, Choice c, LoweredArg a, LoweredArg bias, LoweredArg y,
        int m, int k, int n, LoweredArg act, string comment)
    {
        var values = ctx.Weights(c.Values);
        var indices = ctx.WeightsU16(c.Indices);
        string what = $"{comment}, {c.Describe()}";
        bool gemv = m == 1;
        switch (c.Format)
        {
            case SparseFormat.NM:
                if (gemv) ctx.Emit(node, PlanCalls.NmGemv, what, a, values, indices, bias, y, PlanArg.Int(k), PlanArg.Int(n), PlanArg.Int(c.NmN), PlanArg.Int(c.NmM), act);
                else ctx.Emit(node, PlanCalls.NmGemm, what, a, values, indices, bias, y, PlanArg.Int(m), PlanArg.Int(k), PlanArg.Int(n), PlanArg.Int(c.NmN), PlanArg.Int(c.NmM), act);
                break;
            case SparseFormat.Unstructured:
                if (gemv) ctx.Emit(node, PlanCalls.SparseGemv, what, a, values, indices, ctx.WeightsI32(c.Rows), bias, y, PlanArg.Int(k), PlanArg.Int(n), act);
                else ctx.Emit(node, PlanCalls.SparseGemm, what, a, values, indices, ctx.WeightsI32(c.Rows), bias, y, PlanArg.Int(m), PlanArg.Int(k), PlanArg.Int(n), act);
                break;
            default:
                if (gemv)
                    ctx.Emit(node, PlanCalls.BlockSparseGemv, what, a, values, indices, ctx.WeightsI32(c.Rows), bias, y, PlanArg.Int(k), PlanArg.Int(n),
                        PlanArg.Int(c.BlockRows), PlanArg.Int(c.BlockCols), act);
                else
                    ctx.Emit(node, PlanCalls.BlockSparseGemm, what, a, values, indices, ctx.WeightsI32(c.Rows), bias, y, PlanArg.Int(m), PlanArg.Int(k),
                        PlanArg.Int(n), PlanArg.Int(c.BlockRows), PlanArg.Int(c.BlockCols), act);
                break;
        }
    }
}
