namespace Compress.Runtime;

/// <summary>
/// Numpy broadcasting (ONNX "multidirectional broadcasting") collapsed to at most 4 dims: output dims D0..D3 and the
/// element strides of A (A0..A3) and B (B0..B3) for each output dim, 0 meaning "broadcast along this dim".
/// </summary>
public readonly record struct Broadcast4(int D0, int D1, int D2, int D3, int A0, int A1, int A2, int A3, int B0, int B1, int B2, int B3)
{
    /// <summary>Number of output elements (D0·D1·D2·D3).</summary>
    public long Length => (long)D0 * D1 * D2 * D3;

    /// <summary>
    /// Aligns <paramref name="aShape"/> and <paramref name="bShape"/> to the right of <paramref name="outShape"/>
    /// (numpy rules: each input dim is 1 or equal to the output dim), drops dims of size 1 and merges adjacent dims
    /// that both inputs walk contiguously (or both broadcast), so e.g. [1,C,1,1]×[1,C,H,W] becomes D=(1,1,C,H·W),
    /// A=(0,0,1,0), B=(0,0,H·W,1).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast to <paramref name="outShape"/>, or more than
    /// 4 dims remain after collapsing.</exception>
    public static Broadcast4 Create(ReadOnlySpan<long> outShape, ReadOnlySpan<long> aShape, ReadOnlySpan<long> bShape)
    {
        int rank = outShape.Length;
        if (aShape.Length > rank || bShape.Length > rank)
            throw new ArgumentException($"Input ranks ({aShape.Length}, {bShape.Length}) exceed the output rank {rank}.");

        long[] aStride = ContiguousStrides(aShape), bStride = ContiguousStrides(bShape);
        var dims = new List<(long D, long A, long B)>(rank);
        bool empty = false;
        for (int i = 0; i < rank; i++)
        {
            long od = outShape[i];
            if (od < 0) throw new ArgumentException($"Output dim {i} is negative ({od}).");
            int ai = i - (rank - aShape.Length), bi = i - (rank - bShape.Length);
            long ad = ai >= 0 ? aShape[ai] : 1, bd = bi >= 0 ? bShape[bi] : 1;
            if ((ad != 1 && ad != od) || (bd != 1 && bd != od))
                throw new ArgumentException(
                    $"Shapes [{string.Join(",", aShape.ToArray())}] and [{string.Join(",", bShape.ToArray())}] do not broadcast to [{string.Join(",", outShape.ToArray())}] (dim {i}).");
            if (od == 0) empty = true;
            if (od == 1) continue;
            long sa = ad == 1 ? 0 : aStride[ai], sb = bd == 1 ? 0 : bStride[bi];
            if (dims.Count > 0)
            {
                var p = dims[^1];
                if (p.A == sa * od && p.B == sb * od)
                {
                    dims[^1] = (p.D * od, sa, sb);
                    continue;
                }
            }
            dims.Add((od, sa, sb));
        }
        if (empty) return new Broadcast4(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        if (dims.Count > 4)
            throw new ArgumentException($"Broadcast of [{string.Join(",", aShape.ToArray())}] and [{string.Join(",", bShape.ToArray())}] needs {dims.Count} dims after collapsing; at most 4 are supported.");
        while (dims.Count < 4) dims.Insert(0, (1, 0, 0));
        foreach (var d in dims)
            if (d.D > int.MaxValue || d.A > int.MaxValue || d.B > int.MaxValue)
                throw new ArgumentException("Tensor too large.");
        return new Broadcast4((int)dims[0].D, (int)dims[1].D, (int)dims[2].D, (int)dims[3].D,
            (int)dims[0].A, (int)dims[1].A, (int)dims[2].A, (int)dims[3].A,
            (int)dims[0].B, (int)dims[1].B, (int)dims[2].B, (int)dims[3].B);
    }

    internal static long[] ContiguousStrides(ReadOnlySpan<long> shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] < 0) throw new ArgumentException($"Dim {i} is negative ({shape[i]}).");
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }
}
