using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

// ConvTranspose.
public static partial class ShapeInference
{
    /// <summary>ConvTranspose: X[N, C, D…] with W[C, M/group, k…] → Y[N, M, out…] (<see cref="ConvTransposeForm"/>).</summary>
    static void ConvTranspose(ShapeContext c)
    {
        Shape x = c.InputShape(0), w = c.InputShape(1);
        if (x.Rank < 3) throw c.Fail($"its input has shape {x}; ConvTranspose needs (N, C, D1, …)");
        if (w.Rank != x.Rank || !w.IsFullyKnown) throw c.Fail($"the weight has shape {w}, expected a known shape of rank {x.Rank} (C, M/group, k1, …)");
        long group = c.Node.GetInt("group", 1);
        if (group < 1) throw c.Fail($"group = {group} must be ≥ 1");
        if (x.Dims[1].IsKnown && x[1] != w[0]) throw c.Fail($"the input has {x[1]} channels but the weight {w} expects {w[0]}");
        if (w[0] % group != 0) throw c.Fail($"{w[0]} input channels cannot be split into {group} groups");
        long m = w[1] * group;
        if (c.HasInput(2) && c.InputShape(2) is var bias && (bias.Rank != 1 || (bias.Dims[0].IsKnown && bias[0] != m)))
            throw c.Fail($"the bias has shape {bias}, expected [{m}]");
        if (x.Dims.Skip(2).Any(d => !d.IsKnown)) throw c.Fail($"the spatial dims of {x} must be known");
        var form = ConvTransposeForm.Read(c.Node, x.Dims.Skip(2).Select(d => d.Value).ToArray(), w.Dims.Skip(2).Select(d => d.Value).ToArray(), c.Fail);
        c.Output(0, c.InputType(0), new Shape([x.Dims[0], Dim.Known(m), .. form.Output.Select(Dim.Known)]));
    }
}
