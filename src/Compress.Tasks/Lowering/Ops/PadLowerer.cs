using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Pad (https://onnx.ai/onnx/operators/onnx__Pad.html; pads as attribute before opset 11, constant inputs from
/// 11, axes from 18): one index table per padded axis — the input position, −1 for the constant, the clamped position
/// for edge, the mirrored one for reflect — run by <c>GatherF32.Axis</c>. Padding is separable, so the passes compose.
/// </summary>
internal sealed class PadLowerer : IOpLowerer
{
    public string OpType => "Pad";

    public IReadOnlyList<string> Calls => [PlanCalls.GatherAxis, PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "pads"), new(2, "constant_value"), new(3, "axes")];

    public string Notes => "modes constant, edge, reflect; pads as attribute (opset < 11) or constant input; negative pads crop";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        var (begin, end, mode, value) = new OpForms(node, ctx.Opset, i => SliceLowerer.Ints(node, ctx, i))
            .Pad(dims.Length, i => ctx.Constant(node.Input(i)) is { Type: DataType.Float, ElementCount: 1 } t ? t.Floats[0] : null, m => ctx.Unsupported(node, m));
        var passes = new List<AxisGather.Pass>();
        for (int d = 0; d < dims.Length; d++)
        {
            if (begin[d] == 0 && end[d] == 0) continue;
            long size = dims[d] + begin[d] + end[d];
            var indices = new int[LoweringContext.ToInt(size)];
            for (int j = 0; j < indices.Length; j++)
                indices[j] = LoweringContext.ToInt(Source(j - begin[d], dims[d], mode) ?? throw ctx.Unsupported(node, $"mode '{mode}' (constant, edge and reflect are supported)"));
            passes.Add(new(d, indices));
        }
        AxisGather.Emit(node, ctx, x, y, dims, passes, value);
    }

    /// <summary>The input position read for padded position <paramref name="at"/> (−1: the constant), or null for an unknown mode.</summary>
    internal static long? Source(long at, long size, string mode)
    {
        if (at >= 0 && at < size) return at;
        switch (mode)
        {
            case "constant": return -1;
            case "edge": return Math.Clamp(at, 0, size - 1);
            case "reflect":
                if (size == 1) return 0;
                long period = 2 * (size - 1), r = ((at % period) + period) % period;
                return r < size ? r : period - r;
            default: return null;
        }
    }
}
