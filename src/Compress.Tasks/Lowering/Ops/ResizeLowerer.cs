using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Resize (https://onnx.ai/onnx/operators/onnx__Resize.html; opsets 10, 11, 13+), separable: one pass per
/// resized axis, chained through arena scratch. Nearest: an index table (<c>GatherF32.Axis</c>) from the coordinate
/// transformation and nearest_mode. Linear: two positions and a weight per output position (<c>ResizeF32.LinearAxis</c>),
/// the coordinate clamped into the axis as ONNX Runtime does. Axes that keep their size under an identity mapping
/// are skipped; an upsampled last axis (element-wise blends, no vector rows) goes first, on the smaller tensor.
/// </summary>
internal sealed class ResizeLowerer : IOpLowerer
{
    public string OpType => "Resize";

    public IReadOnlyList<string> Calls => [PlanCalls.GatherAxis, PlanCalls.ResizeLinear, PlanCalls.CopyRows, PlanCalls.Activation];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "roi"), new(2, "scales"), new(3, "sizes")];

    public string Notes => "nearest (all nearest_modes) and linear; coordinate modes half_pixel, pytorch_half_pixel, align_corners, asymmetric; constant scales or sizes; any rank, one pass per resized axis";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        var form = ResizeForm.Read(node, ctx.Opset, dims, i => node.HasInput(i) ? ctx.Constant(node.Input(i)) : null,
            m => ctx.Unsupported(node, m), m => ctx.Unsupported(node, m));
        var current = (long[])dims.Clone();
        LoweredArg? source = null;
        var axes = Enumerable.Range(0, dims.Length).Where(d => !IsIdentity(form, d, dims[d])).ToList();
        // The last axis blends single elements (no vector rows): upsampling it first runs that pass on the smaller tensor.
        int lastAxis = dims.Length - 1;
        if (axes.Count > 1 && axes[^1] == lastAxis && form.OutputDims[lastAxis] > dims[lastAxis])
        {
            axes.RemoveAt(axes.Count - 1);
            axes.Insert(0, lastAxis);
        }
        if (axes.Count == 0)
        {
            AliasLowerer.AliasWithActivation(node, ctx, y, x);
            return;
        }
        foreach (int d in axes)
        {
            long inSize = current[d], outSize = form.OutputDims[d];
            long outer = current[..d].Aggregate(1L, (p, v) => p * v), inner = current[(d + 1)..].Aggregate(1L, (p, v) => p * v);
            current[d] = outSize;
            bool last = d == axes[^1];
            LoweredArg target = last ? ctx.Write(y) : ctx.Scratch(LoweringContext.ToInt(current.Aggregate(1L, (p, v) => p * v)));
            source ??= ctx.Read(x);
            string what = $"Resize {form.Mode} axis {d}: {inSize} → {outSize} ({form.CoordinateMode})";
            var ints = new[] { outer, inSize, inner }.Select(v => PlanArg.Int(LoweringContext.ToInt(v))).ToArray();
            if (form.Mode == "nearest")
            {
                var indices = new int[outSize];
                for (long j = 0; j < outSize; j++)
                    indices[j] = LoweringContext.ToInt(form.Nearest(form.SourceCoordinate(j, inSize, outSize, form.Scales[d]), inSize));
                ctx.Emit(node, PlanCalls.GatherAxis, what, source, ctx.WeightsI32(indices), target, ints[0], ints[1], ints[2], PlanArg.Float(0f));
            }
            else
            {
                var first = new int[outSize];
                var second = new int[outSize];
                var weight = new float[outSize];
                for (long j = 0; j < outSize; j++)
                {
                    double c = Math.Clamp(form.SourceCoordinate(j, inSize, outSize, form.Scales[d]), 0, inSize - 1);
                    long i0 = (long)Math.Floor(c);
                    first[j] = LoweringContext.ToInt(i0);
                    second[j] = LoweringContext.ToInt(Math.Min(i0 + 1, inSize - 1));
                    weight[j] = (float)(c - i0);
                }
                ctx.Emit(node, PlanCalls.ResizeLinear, what, source, ctx.WeightsI32(first), ctx.WeightsI32(second), ctx.Weights(weight), target, ints[0], ints[1], ints[2]);
            }
            source = target;
        }
    }

    /// <summary>True when axis <paramref name="d"/> keeps its size and every output position reads its own input position.</summary>
    static bool IsIdentity(ResizeForm form, int d, long size)
    {
        if (form.OutputDims[d] != size) return false;
        for (long j = 0; j < size; j++)
        {
            double c = form.SourceCoordinate(j, size, size, form.Scales[d]);
            if (form.Mode == "nearest" ? form.Nearest(c, size) != j : Math.Abs(Math.Clamp(c, 0, size - 1) - j) > 1e-9) return false;
        }
        return true;
    }
}
