using System.Collections.Immutable;
using Compress.Tasks.Graph;
using Compress.Tasks.Passes;

namespace Compress.Tasks.Tests.Graph;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// A deliberately naive fp32 interpreter (ONNX semantics, double accumulation) for the ops the sample models and
/// the pass tests use, fused activations included. Tests use it to check that a rewritten graph computes what the
/// original did.
/// </summary>
public static class ReferenceInterpreter
{
    public static Dictionary<string, Tensor> Run(Graph graph, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var env = new Dictionary<string, Tensor>(graph.Initializers, StringComparer.Ordinal);
        foreach (var (k, v) in inputs) env[k] = v;
        foreach (var node in graph.Nodes)
        {
            var outputs = Eval(node, env, graph.Info.DefaultOpset);
            if (FusedActivationAttributes.Read(node) is { } act)
                outputs[0] = Map(outputs[0], x => Activation(act.OpType, x, act.Alpha, act.Beta));
            for (int i = 0; i < outputs.Length && i < node.Outputs.Length; i++)
                if (node.Outputs[i].Length > 0) env[node.Outputs[i]] = outputs[i] with { Name = node.Outputs[i] };
        }
        return graph.Outputs.ToDictionary(o => o.Name, o => env[o.Name]);
    }

    /// <summary>Runs a single-input, single-output float model on one sample shaped <paramref name="dims"/>.</summary>
    public static float[] RunOne(Graph graph, float[] input, params long[] dims)
    {
        var result = Run(graph, new Dictionary<string, Tensor> { [graph.Inputs[0].Name] = Tensor.FromFloats(graph.Inputs[0].Name, input, dims) });
        return result[graph.Outputs[0].Name].Floats;
    }

    public static float Activation(string op, float x, float alpha, float beta) => op switch
    {
        "Relu" => Math.Max(x, 0f),
        "LeakyRelu" => x < 0 ? alpha * x : x,
        "Clip" => Math.Min(Math.Max(x, alpha), beta),
        "Sigmoid" => 1f / (1f + MathF.Exp(-x)),
        "HardSigmoid" => Math.Max(0f, Math.Min(1f, alpha * x + beta)),
        "HardSwish" => x * Math.Max(0f, Math.Min(1f, x / 6f + 0.5f)),
        "Tanh" => MathF.Tanh(x),
        _ => throw new NotSupportedException(op),
    };

    static Tensor[] Eval(Node n, Dictionary<string, Tensor> env, long opset)
    {
        Tensor In(int i) => env[n.Inputs[i]];
        Tensor? Opt(int i) => n.HasInput(i) ? env[n.Inputs[i]] : null;
        switch (n.OpType)
        {
            case "Constant": return [ConstantNode.ValueOf(n)!];
            case "Identity" or "Dropout": return [In(0)];
            case "Relu" or "Sigmoid" or "Tanh" or "HardSwish": return [Map(In(0), x => Activation(n.OpType, x, 0, 0))];
            case "LeakyRelu": return [Map(In(0), x => Activation("LeakyRelu", x, n.GetFloat("alpha", 0.01f), 0))];
            case "HardSigmoid": return [Map(In(0), x => Activation("HardSigmoid", x, n.GetFloat("alpha", 0.2f), n.GetFloat("beta", 0.5f)))];
            case "Clip":
                float lo = opset < 11 ? n.GetFloat("min", float.NegativeInfinity) : Opt(1)?.Floats[0] ?? float.NegativeInfinity;
                float hi = opset < 11 ? n.GetFloat("max", float.PositiveInfinity) : Opt(2)?.Floats[0] ?? float.PositiveInfinity;
                return [Map(In(0), x => Math.Min(Math.Max(x, lo), hi))];
            case "Add" or "Sub" or "Mul" or "Div" or "Max" or "Min": return [Binary(n.OpType, In(0), In(1))];
            case "Gemm": return [Gemm(n, In(0), In(1), Opt(2))];
            case "MatMul": return [MatMul(In(0), In(1))];
            case "Conv": return [Conv(n, In(0), In(1), Opt(2))];
            case "BatchNormalization": return [BatchNorm(n, In(0), In(1), In(2), In(3), In(4))];
            case "MaxPool" or "AveragePool": return [Pool(n, In(0))];
            case "GlobalAveragePool": return [GlobalAveragePool(In(0))];
            case "Flatten":
            {
                var x = In(0);
                long axis = n.GetInt("axis", 1);
                if (axis < 0) axis += x.Dims.Length;
                long outer = x.Dims.Take((int)axis).Aggregate(1L, (a, d) => a * d);
                return [x with { Dims = [outer, x.ElementCount / outer] }];
            }
            case "Reshape":
            {
                var x = In(0);
                var target = TensorData.ToInt64s(In(1)).ToArray();
                for (int i = 0; i < target.Length; i++) if (target[i] == 0) target[i] = x.Dims[i];
                int infer = Array.IndexOf(target, -1L);
                if (infer >= 0) target[infer] = x.ElementCount / target.Where((_, i) => i != infer).Aggregate(1L, (a, d) => a * d);
                return [x with { Dims = target.ToImmutableArray() }];
            }
            case "Unsqueeze":
            {
                var x = In(0);
                var axes = opset < 13 ? n.GetInts("axes")! : TensorData.ToInt64s(In(1));
                int rank = x.Dims.Length + axes.Length;
                var set = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
                var dims = new List<long>();
                for (int d = 0, s = 0; d < rank; d++) dims.Add(set.Contains(d) ? 1 : x.Dims[s++]);
                return [x with { Dims = dims.ToImmutableArray() }];
            }
            case "Squeeze":
            {
                var x = In(0);
                var axes = (opset < 13 ? n.GetInts("axes") : Opt(1) is { } t ? TensorData.ToInt64s(t) : null)
                    ?? Enumerable.Range(0, x.Dims.Length).Where(d => x.Dims[d] == 1).Select(d => (long)d).ToArray();
                var set = axes.Select(a => a < 0 ? a + x.Dims.Length : a).ToHashSet();
                return [x with { Dims = x.Dims.Where((_, d) => !set.Contains(d)).ToImmutableArray() }];
            }
            default: throw new NotSupportedException($"The reference interpreter has no {n.OpType}.");
        }
    }

    static Tensor Map(Tensor x, Func<float, float> f) => x with { Data = x.Floats.Select(f).ToArray() };

    static Tensor Binary(string op, Tensor a, Tensor b)
    {
        ShapeInference.TryBroadcast(a.Shape, b.Shape, out var shape);
        var dims = shape.ToArray().ToImmutableArray();
        var ia = TensorData.BroadcastIndices(a.Dims, dims);
        var ib = TensorData.BroadcastIndices(b.Dims, dims);
        if (a.Data is long[] la)
        {
            var lb = (long[])b.Data;
            return new Tensor("", a.Type, dims, ia.Select((_, i) => op switch
            {
                "Add" => la[ia[i]] + lb[ib[i]],
                "Sub" => la[ia[i]] - lb[ib[i]],
                "Mul" => la[ia[i]] * lb[ib[i]],
                "Div" => la[ia[i]] / lb[ib[i]],
                "Max" => Math.Max(la[ia[i]], lb[ib[i]]),
                _ => Math.Min(la[ia[i]], lb[ib[i]]),
            }).ToArray());
        }
        float[] fa = a.Floats, fb = b.Floats;
        return new Tensor("", DataType.Float, dims, ia.Select((_, i) => op switch
        {
            "Add" => fa[ia[i]] + fb[ib[i]],
            "Sub" => fa[ia[i]] - fb[ib[i]],
            "Mul" => fa[ia[i]] * fb[ib[i]],
            "Div" => fa[ia[i]] / fb[ib[i]],
            "Max" => Math.Max(fa[ia[i]], fb[ib[i]]),
            _ => Math.Min(fa[ia[i]], fb[ib[i]]),
        }).ToArray());
    }

    static Tensor Gemm(Node n, Tensor a, Tensor b, Tensor? c)
    {
        bool ta = n.GetInt("transA", 0) != 0, tb = n.GetInt("transB", 0) != 0;
        float alpha = n.GetFloat("alpha", 1f), beta = n.GetFloat("beta", 1f);
        long m = ta ? a.Dims[1] : a.Dims[0], k = ta ? a.Dims[0] : a.Dims[1], nn = tb ? b.Dims[0] : b.Dims[1];
        var ci = c is null ? null : TensorData.BroadcastIndices(c.Dims, [m, nn]);
        var y = new float[m * nn];
        for (long i = 0; i < m; i++)
            for (long j = 0; j < nn; j++)
            {
                double s = 0;
                for (long q = 0; q < k; q++)
                    s += (double)a.Floats[ta ? q * m + i : i * k + q] * b.Floats[tb ? j * k + q : q * nn + j];
                y[i * nn + j] = (float)(alpha * s + (c is null ? 0 : beta * c.Floats[ci![i * nn + j]]));
            }
        return Tensor.FromFloats("", y, m, nn);
    }

    static Tensor MatMul(Tensor a, Tensor b)
    {
        long m = a.Dims[0], k = a.Dims[1], n = b.Dims[1];
        var y = new float[m * n];
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++)
            {
                double s = 0;
                for (long q = 0; q < k; q++) s += (double)a.Floats[i * k + q] * b.Floats[q * n + j];
                y[i * n + j] = (float)s;
            }
        return Tensor.FromFloats("", y, m, n);
    }

    static Tensor Conv(Node node, Tensor x, Tensor w, Tensor? bias)
    {
        long n = x.Dims[0], c = x.Dims[1], h = x.Dims[2], wd = x.Dims[3];
        long m = w.Dims[0], cg = w.Dims[1], kh = w.Dims[2], kw = w.Dims[3];
        long group = node.GetInt("group", 1), mg = m / group;
        var g = ConvGeometry.Resolve(node, [h, wd], [kh, kw]);
        long oh = g.Output[0], ow = g.Output[1];
        var y = new float[n * m * oh * ow];
        for (long b = 0; b < n; b++)
            for (long o = 0; o < m; o++)
            {
                long gi = o / mg;
                for (long r = 0; r < oh; r++)
                    for (long s = 0; s < ow; s++)
                    {
                        double acc = bias?.Floats[o] ?? 0;
                        for (long ci = 0; ci < cg; ci++)
                            for (long i = 0; i < kh; i++)
                                for (long j = 0; j < kw; j++)
                                {
                                    long ih = r * g.Strides[0] - g.Pads[0] + i * g.Dilations[0];
                                    long iw = s * g.Strides[1] - g.Pads[1] + j * g.Dilations[1];
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                    acc += (double)x.Floats[((b * c + gi * cg + ci) * h + ih) * wd + iw] * w.Floats[((o * cg + ci) * kh + i) * kw + j];
                                }
                        y[((b * m + o) * oh + r) * ow + s] = (float)acc;
                    }
            }
        return Tensor.FromFloats("", y, n, m, oh, ow);
    }

    static Tensor BatchNorm(Node node, Tensor x, Tensor scale, Tensor bias, Tensor mean, Tensor variance)
    {
        float eps = node.GetFloat("epsilon", 1e-5f);
        long c = x.Dims[1], inner = x.ElementCount / x.Dims[0] / c;
        var y = new float[x.ElementCount];
        for (long i = 0; i < y.Length; i++)
        {
            long ch = i / inner % c;
            y[i] = (x.Floats[i] - mean.Floats[ch]) / MathF.Sqrt(variance.Floats[ch] + eps) * scale.Floats[ch] + bias.Floats[ch];
        }
        return x with { Data = y };
    }

    static Tensor Pool(Node node, Tensor x)
    {
        long n = x.Dims[0], c = x.Dims[1], h = x.Dims[2], wd = x.Dims[3];
        var kernel = node.GetInts("kernel_shape")!;
        bool max = node.OpType == "MaxPool", includePad = node.GetInt("count_include_pad", 0) != 0;
        var g = ConvGeometry.Resolve(node, [h, wd], kernel, allowDilations: max);
        long oh = g.Output[0], ow = g.Output[1];
        var y = new float[n * c * oh * ow];
        for (long p = 0; p < n * c; p++)
            for (long r = 0; r < oh; r++)
                for (long s = 0; s < ow; s++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    long count = 0;
                    for (long i = 0; i < kernel[0]; i++)
                        for (long j = 0; j < kernel[1]; j++)
                        {
                            long ih = r * g.Strides[0] - g.Pads[0] + i * g.Dilations[0], iw = s * g.Strides[1] - g.Pads[1] + j * g.Dilations[1];
                            bool inside = ih >= 0 && ih < h && iw >= 0 && iw < wd;
                            if (inside || includePad) count++;
                            if (!inside) continue;
                            float v = x.Floats[(p * h + ih) * wd + iw];
                            acc = max ? Math.Max(acc, v) : acc + v;
                        }
                    y[(p * oh + r) * ow + s] = (float)(max ? acc : acc / count);
                }
        return Tensor.FromFloats("", y, n, c, oh, ow);
    }

    static Tensor GlobalAveragePool(Tensor x)
    {
        long nc = x.Dims[0] * x.Dims[1], inner = x.ElementCount / nc;
        var y = new float[nc];
        for (long p = 0; p < nc; p++)
        {
            double s = 0;
            for (long i = 0; i < inner; i++) s += x.Floats[p * inner + i];
            y[p] = (float)(s / inner);
        }
        return Tensor.FromFloats("", y, [x.Dims[0], x.Dims[1], .. Enumerable.Repeat(1L, x.Dims.Length - 2)]);
    }
}
