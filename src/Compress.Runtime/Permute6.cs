namespace Compress.Runtime;

/// <summary>
/// An ONNX Transpose as a strided gather: output dims D0..D5 (padded with leading 1s) and, for each output dim, the
/// element stride S0..S5 of the input along it.
/// </summary>
public readonly record struct Permute6(int D0, int D1, int D2, int D3, int D4, int D5, int S0, int S1, int S2, int S3, int S4, int S5)
{
    /// <summary>Number of elements (D0·…·D5).</summary>
    public long Length => (long)D0 * D1 * D2 * D3 * D4 * D5;

    /// <summary>
    /// Output dim i is input dim <paramref name="perm"/>[i]. Dims of size 1 are dropped and adjacent output dims that
    /// stay adjacent in the input are merged, so any rank works as long as at most 6 dims remain
    /// (an identity permutation becomes one contiguous dim).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="perm"/> is not a permutation of the input dims, or more than
    /// 6 dims remain after collapsing.</exception>
    public static Permute6 Create(ReadOnlySpan<long> inShape, ReadOnlySpan<int> perm)
    {
        int rank = inShape.Length;
        if (perm.Length != rank)
            throw new ArgumentException($"perm has {perm.Length} entries but the input has rank {rank}.");
        var seen = new bool[rank];
        foreach (int p in perm)
        {
            if ((uint)p >= (uint)rank || seen[p])
                throw new ArgumentException($"[{string.Join(",", perm.ToArray())}] is not a permutation of {rank} dims.");
            seen[p] = true;
        }
        long[] stride = Broadcast4.ContiguousStrides(inShape);
        var dims = new List<(long D, long S)>(rank);
        bool empty = false;
        for (int i = 0; i < rank; i++)
        {
            long d = inShape[perm[i]], s = stride[perm[i]];
            if (d == 0) empty = true;
            if (d == 1) continue;
            if (dims.Count > 0 && dims[^1].S == s * d)
            {
                dims[^1] = (dims[^1].D * d, s);
                continue;
            }
            dims.Add((d, s));
        }
        if (empty) return new Permute6(1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0);
        if (dims.Count > 6)
            throw new ArgumentException($"Transpose needs {dims.Count} dims after collapsing; at most 6 are supported.");
        while (dims.Count < 6) dims.Insert(0, (1, 0));
        foreach (var d in dims)
            if (d.D > int.MaxValue || d.S > int.MaxValue) throw new ArgumentException("Tensor too large.");
        return new Permute6((int)dims[0].D, (int)dims[1].D, (int)dims[2].D, (int)dims[3].D, (int)dims[4].D, (int)dims[5].D,
            (int)dims[0].S, (int)dims[1].S, (int)dims[2].S, (int)dims[3].S, (int)dims[4].S, (int)dims[5].S);
    }
}
