using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

// Gemm and MatMul.
public static partial class ShapeInference
{
    /// <summary>Gemm: Y[M,N] = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A, B' likewise; C broadcasts to [M,N].</summary>
    static void Gemm(ShapeContext c)
    {
        Shape a = c.InputShape(0), b = c.InputShape(1);
        if (a.Rank != 2 || b.Rank != 2) throw c.Fail($"Gemm needs rank-2 A and B, got {a} and {b}");
        bool transA = c.Node.GetInt("transA", 0) != 0, transB = c.Node.GetInt("transB", 0) != 0;
        Dim m = a.Dims[transA ? 1 : 0], k = a.Dims[transA ? 0 : 1];
        Dim kb = b.Dims[transB ? 1 : 0], n = b.Dims[transB ? 0 : 1];
        if (k.IsKnown && kb.IsKnown && k.Value != kb.Value)
            throw c.Fail($"A{a} (transA={(transA ? 1 : 0)}) and B{b} (transB={(transB ? 1 : 0)}) disagree on K ({k} vs {kb})");
        var y = new Shape([m, n]);
        if (c.HasInput(2))
        {
            var cs = c.InputShape(2);
            if (!TryBroadcast(cs, y, out var r) || !r.Equals(y))
                throw c.Fail($"C{cs} cannot be broadcast to the output shape {y}");
        }
        c.Output(0, c.InputType(0), y);
    }

    /// <summary>MatMul: numpy matmul; rank-1 operands are promoted and the added dimension removed, batch dims broadcast.</summary>
    static void MatMul(ShapeContext c)
    {
        Shape a = c.InputShape(0), b = c.InputShape(1);
        if (a.Rank == 0 || b.Rank == 0) throw c.Fail($"MatMul needs operands of rank ≥ 1, got {a} and {b}");
        var ad = a.Rank == 1 ? [Dim.Known(1), a.Dims[0]] : a.Dims;
        var bd = b.Rank == 1 ? [b.Dims[0], Dim.Known(1)] : b.Dims;
        Dim m = ad[^2], k = ad[^1], kb = bd[^2], n = bd[^1];
        if (k.IsKnown && kb.IsKnown && k.Value != kb.Value)
            throw c.Fail($"{a} × {b}: the inner dimensions disagree ({k} vs {kb})");
        if (!TryBroadcast(new Shape(ad[..^2]), new Shape(bd[..^2]), out var batch))
            throw c.Fail($"{a} × {b}: the batch dimensions cannot be broadcast together");
        var dims = batch.Dims.ToBuilder();
        if (a.Rank > 1) dims.Add(m);
        if (b.Rank > 1) dims.Add(n);
        c.Output(0, c.InputType(0), new Shape(dims.ToImmutable()));
    }
}
