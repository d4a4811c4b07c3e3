using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

// Conv, MaxPool, AveragePool and the global pools.
public static partial class ShapeInference
{
    /// <summary>
    /// Conv: X[N, C, D…] ⊛ W[M, C/group, k…] → Y[N, M, out…] with the output sizes of <see cref="ConvGeometry"/>.
    /// </summary>
    static void Conv(ShapeContext c)
    {
        Shape x = c.InputShape(0), w = c.InputShape(1);
        if (x.Rank < 3) throw c.Fail($"its input has shape {x}; Conv needs (N, C, D1, …)");
        if (w.Rank != x.Rank) throw c.Fail($"the weight has shape {w}, expected rank {x.Rank} (M, C/group, k1, …)");
        long group = c.Node.GetInt("group", 1);
        if (group < 1) throw c.Fail($"group = {group} must be ≥ 1");
        if (!w.Dims.Skip(2).All(d => d.IsKnown) || !w.Dims[0].IsKnown || !w.Dims[1].IsKnown)
            throw c.Fail($"the weight shape {w} must be fully known");
        long m = w[0];
        if (m % group != 0) throw c.Fail($"{m} output channels cannot be split into {group} groups");
        if (x.Dims[1].IsKnown && x[1] != w[1] * group)
            throw c.Fail($"the input has {x[1]} channels but the weight {w} with group={group} expects {w[1] * group}");
        if (c.HasInput(2))
        {
            var bias = c.InputShape(2);
            if (bias.Rank != 1 || (bias.Dims[0].IsKnown && bias[0] != m))
                throw c.Fail($"the bias has shape {bias}, expected [{m}]");
        }
        var kernel = c.Node.GetInts("kernel_shape") ?? w.Dims.Skip(2).Select(d => d.Value).ToArray();
        var spatial = SpatialOutput(c, x, kernel, allowDilations: true, ceilMode: false);
        c.Output(0, c.InputType(0), new Shape([x.Dims[0], Dim.Known(m), .. spatial]));
    }

    /// <summary>MaxPool / AveragePool: X[N, C, D…] → Y[N, C, out…]; MaxPool's optional Indices output is Int64 of Y's shape.</summary>
    static void Pool(ShapeContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank < 3) throw c.Fail($"its input has shape {x}; pooling needs (N, C, D1, …)");
        var kernel = c.Node.GetInts("kernel_shape") ?? throw c.Fail("the required attribute 'kernel_shape' is missing");
        bool ceil = c.Node.GetInt("ceil_mode", 0) != 0;
        var spatial = SpatialOutput(c, x, kernel, allowDilations: c.Node.OpType == "MaxPool" || c.Opset >= 19, ceil);
        var y = new Shape([x.Dims[0], x.Dims[1], .. spatial]);
        c.Output(0, c.InputType(0), y);
        c.Output(1, DataType.Int64, y);
    }

    /// <summary>GlobalAveragePool / GlobalMaxPool: X[N, C, D…] → Y[N, C, 1, …].</summary>
    static void GlobalPool(ShapeContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank < 3) throw c.Fail($"its input has shape {x}; global pooling needs (N, C, D1, …)");
        c.Output(0, c.InputType(0), new Shape([x.Dims[0], x.Dims[1], .. Enumerable.Repeat(Dim.Known(1), x.Rank - 2)]));
    }

    static ImmutableArray<Dim> SpatialOutput(ShapeContext c, Shape x, long[] kernel, bool allowDilations, bool ceilMode)
    {
        int n = x.Rank - 2;
        if (kernel.Length != n) throw c.Fail($"kernel_shape has {kernel.Length} entries for {n} spatial dimensions");
        var inputs = new long[n];
        for (int i = 0; i < n; i++)
            inputs[i] = x.Dims[i + 2].IsKnown ? x[i + 2] : throw c.Fail($"spatial dimension {i + 2} of its input {x} is not known");
        try
        {
            var geometry = ConvGeometry.Resolve(c.Node, inputs, kernel, allowDilations, ceilMode);
            return geometry.Output.Select(Dim.Known).ToImmutableArray();
        }
        catch (ArgumentException e)
        {
            throw e.ParamName == "auto_pad" ? c.Unsupported(e.Message.Split(" (Parameter")[0]) : c.Fail(e.Message.Split(" (Parameter")[0]);
        }
    }
}

/// <summary>
/// The sliding-window geometry of a Conv or pooling node over known spatial sizes: strides, dilations, explicit
/// pads (auto_pad resolved) and output sizes, per the ONNX Conv/MaxPool/AveragePool specs. The lowering uses the
/// same resolution so kernels never see <c>auto_pad</c>.
/// </summary>
/// <param name="Kernel">Kernel size per spatial axis.</param>
/// <param name="Strides">Stride per spatial axis.</param>
/// <param name="Dilations">Dilation per spatial axis.</param>
/// <param name="Pads">Begin pads of every axis, then end pads (ONNX order).</param>
/// <param name="Output">Output size per spatial axis.</param>
public sealed record ConvGeometry(long[] Kernel, long[] Strides, long[] Dilations, long[] Pads, long[] Output)
{
    /// <summary>
    /// Resolves the node's attributes (<c>strides</c>, <c>dilations</c>, <c>pads</c>, <c>auto_pad</c>, and
    /// <c>ceil_mode</c> when <paramref name="ceilMode"/>) against <paramref name="input"/> spatial sizes.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent attributes, an unknown auto_pad (ParamName "auto_pad"), or a window larger than the padded input.</exception>
    public static ConvGeometry Resolve(Node node, IReadOnlyList<long> input, IReadOnlyList<long> kernel, bool allowDilations = true, bool? ceilMode = null)
    {
        int n = input.Count;
        long[] Ints(string name, long fallback, int count)
        {
            var v = node.GetInts(name);
            if (v is null || v.Length == 0) return Enumerable.Repeat(fallback, count).ToArray();
            if (v.Length != count) throw new ArgumentException($"attribute '{name}' has {v.Length} entries, expected {count}", name);
            return v;
        }
        var strides = Ints("strides", 1, n);
        var dilations = allowDilations ? Ints("dilations", 1, n) : Enumerable.Repeat(1L, n).ToArray();
        var pads = Ints("pads", 0, 2 * n);
        bool ceil = ceilMode ?? node.GetInt("ceil_mode", 0) != 0;
        string autoPad = node.GetString("auto_pad", "NOTSET");
        if (strides.Any(s => s < 1)) throw new ArgumentException($"strides [{string.Join(",", strides)}] must be ≥ 1", "strides");
        if (dilations.Any(d => d < 1)) throw new ArgumentException($"dilations [{string.Join(",", dilations)}] must be ≥ 1", "dilations");
        if (kernel.Any(k => k < 1)) throw new ArgumentException($"kernel_shape [{string.Join(",", kernel)}] must be ≥ 1", "kernel_shape");

        var output = new long[n];
        var resolved = new long[2 * n];
        for (int i = 0; i < n; i++)
        {
            long effective = (kernel[i] - 1) * dilations[i] + 1;
            switch (autoPad)
            {
                case "NOTSET" or "":
                    long span = input[i] + pads[i] + pads[i + n] - effective;
                    if (span < 0)
                        throw new ArgumentException($"the window ({effective}) is larger than the padded input ({input[i] + pads[i] + pads[i + n]}) on spatial axis {i}", "kernel_shape");
                    output[i] = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
                    // With ceil_mode the last window must start inside the input or its begin padding.
                    if (ceil && (output[i] - 1) * strides[i] >= input[i] + pads[i]) output[i]--;
                    resolved[i] = pads[i];
                    resolved[i + n] = pads[i + n];
                    break;
                case "VALID":
                    if (input[i] < effective)
                        throw new ArgumentException($"the window ({effective}) is larger than the input ({input[i]}) on spatial axis {i}", "kernel_shape");
                    output[i] = (input[i] - effective) / strides[i] + 1;
                    break;
                case "SAME_UPPER" or "SAME_LOWER":
                    output[i] = (input[i] + strides[i] - 1) / strides[i];
                    long total = Math.Max(0, (output[i] - 1) * strides[i] + effective - input[i]);
                    long small = total / 2, large = total - small;
                    (resolved[i], resolved[i + n]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                    break;
                default:
                    throw new ArgumentException($"auto_pad '{autoPad}' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)", "auto_pad");
            }
        }
        return new ConvGeometry(kernel.ToArray(), strides, dilations, resolved, output);
    }
}
