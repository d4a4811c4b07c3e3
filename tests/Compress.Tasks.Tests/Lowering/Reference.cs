namespace Compress.Tasks.Tests.Lowering;

/// <summary>Straightforward loops implementing the ONNX ops, as the tests' ground truth.</summary>
internal static class Reference
{
    public static long Count(long[] dims) => dims.Aggregate(1L, (p, d) => p * d);

    /// <summary>Y = alpha·A'·B' + beta·C, C broadcast to [m, n] (null for none).</summary>
    public static float[] Gemm(float[] a, float[] b, float[]? c, long[] cDims, int m, int k, int n, bool transA, bool transB, float alpha, float beta)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                double bias = 0;
                if (c is not null)
                {
                    var idx = Broadcast([m, n], cDims, i * n + j);
                    bias = c[idx];
                }
                y[i * n + j] = (float)(alpha * sum + beta * bias);
            }
        return y;
    }

    /// <summary>The index into a tensor of <paramref name="dims"/> that numpy broadcasting reads for flat output index <paramref name="flat"/>.</summary>
    public static int Broadcast(long[] outDims, long[] dims, long flat)
    {
        int rank = outDims.Length;
        var coord = new long[rank];
        for (int d = rank - 1; d >= 0; d--) { coord[d] = flat % outDims[d]; flat /= outDims[d]; }
        long index = 0, stride = 1;
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            long c = dims[d] == 1 ? 0 : coord[rank - dims.Length + d];
            index += c * stride;
            stride *= dims[d];
        }
        return (int)index;
    }

    public static float[] Binary(Func<float, float, float> op, float[] a, long[] aDims, float[] b, long[] bDims, long[] outDims)
    {
        var y = new float[Count(outDims)];
        for (int i = 0; i < y.Length; i++) y[i] = op(a[Broadcast(outDims, aDims, i)], b[Broadcast(outDims, bDims, i)]);
        return y;
    }

    /// <summary>ONNX Conv over NCHW with pads (top, left), strides, dilations, groups.</summary>
    public static float[] Conv(float[] x, int n, int c, int h, int w, float[] wt, int m, int kh, int kw, float[]? bias,
        int oh, int ow, int sh, int sw, int pt, int pl, int dh, int dw, int groups)
    {
        var y = new float[n * m * oh * ow];
        int cg = c / groups, mg = m / groups;
        for (int b = 0; b < n; b++)
            for (int co = 0; co < m; co++)
            {
                int g = co / mg;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double sum = bias?[co] ?? 0;
                        for (int ci = 0; ci < cg; ci++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    sum += (double)x[((b * c + g * cg + ci) * h + iy) * w + ix] * wt[((co * cg + ci) * kh + ky) * kw + kx];
                                }
                        y[((b * m + co) * oh + oy) * ow + ox] = (float)sum;
                    }
            }
        return y;
    }

    /// <summary>MaxPool / AveragePool over NCHW planes; pads (top, left, bottom, right).</summary>
    public static float[] Pool(bool max, float[] x, int planes, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, bool countIncludePad)
    {
        var y = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    int count = 0, padded = 0;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                            if (iy >= -pt && iy < h + pb && ix >= -pl && ix < w + pr) padded++;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            float v = x[(p * h + iy) * w + ix];
                            acc = max ? Math.Max(acc, v) : acc + v;
                            count++;
                        }
                    y[(p * oh + oy) * ow + ox] = (float)(max ? acc : acc / (countIncludePad ? padded : count));
                }
        return y;
    }

    public static float[] Softmax(float[] x, int outer, int n, int inner)
    {
        var y = new float[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double mx = double.NegativeInfinity, sum = 0;
                for (int a = 0; a < n; a++) mx = Math.Max(mx, x[(o * n + a) * inner + i]);
                for (int a = 0; a < n; a++) sum += Math.Exp(x[(o * n + a) * inner + i] - mx);
                for (int a = 0; a < n; a++) y[(o * n + a) * inner + i] = (float)(Math.Exp(x[(o * n + a) * inner + i] - mx) / sum);
            }
        return y;
    }

    public static float[] Transpose(float[] x, long[] dims, int[] perm)
    {
        int rank = dims.Length;
        long[] outDims = perm.Select(p => dims[p]).ToArray();
        var inStride = new long[rank];
        for (int d = rank - 1, s = 1; d >= 0; s *= (int)dims[d], d--) inStride[d] = s;
        var y = new float[x.Length];
        for (long flat = 0; flat < y.Length; flat++)
        {
            long rem = flat, src = 0;
            for (int d = rank - 1; d >= 0; d--) { long c = rem % outDims[d]; rem /= outDims[d]; src += c * inStride[perm[d]]; }
            y[flat] = x[src];
        }
        return y;
    }

    public static float[] Concat(IReadOnlyList<(float[] Data, long[] Dims)> inputs, int axis)
    {
        long outer = Count(inputs[0].Dims[..axis]), inner = Count(inputs[0].Dims[(axis + 1)..]);
        var y = new List<float>();
        for (long o = 0; o < outer; o++)
            foreach (var (data, dims) in inputs)
            {
                long row = dims[axis] * inner;
                for (long i = 0; i < row; i++) y.Add(data[o * row + i]);
            }
        return y.ToArray();
    }

    public static float Activation(string op, float x, float alpha, float beta) => op switch
    {
        "Relu" => Math.Max(x, 0),
        "LeakyRelu" => x < 0 ? alpha * x : x,
        "Clip" => Math.Min(Math.Max(x, alpha), beta),
        "Sigmoid" => (float)(1 / (1 + Math.Exp(-x))),
        "HardSigmoid" => Math.Max(0, Math.Min(1, alpha * x + beta)),
        "HardSwish" => x * Math.Max(0, Math.Min(1, x / 6 + 0.5f)),
        "Tanh" => (float)Math.Tanh(x),
        _ => throw new ArgumentException(op),
    };
}
