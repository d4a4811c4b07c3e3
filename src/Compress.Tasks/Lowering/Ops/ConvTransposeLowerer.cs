using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX ConvTranspose over NCHW (1-D as 2-D with height 1) with constant W and B: the weights are rearranged at build
/// time into the per-group Wᵀ matrices <c>ConvTranspose2dF32</c> multiplies (GEMM + col2im); the geometry is a
/// <see cref="Conv2dShape"/> read in the transposed direction.
/// </summary>
internal sealed class ConvTransposeLowerer : IOpLowerer
{
    public string OpType => "ConvTranspose";

    public IReadOnlyList<string> Calls => [PlanCalls.ConvTranspose2d];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "W"), new(2, "B")];

    public string Notes => "1-D and 2-D; W and B constant; strides, pads, output_padding, output_shape, auto_pad, dilations, groups";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] xDims = ctx.Dims(x), wDims = ctx.Dims(node.Input(1));
        if (xDims.Length is not (3 or 4)) throw ctx.Unsupported(node, $"only 1-D and 2-D ConvTranspose is supported, the input is {LoweringContext.Format(xDims)}");
        float[] w = ctx.ConstantFloats(node, 1, "W (the weights)");
        float[] bias = node.HasInput(2) ? ctx.ConstantFloats(node, 2, "B (the bias)") : [];
        var form = ConvTransposeForm.Read(node, xDims[2..], wDims[2..], m => ctx.Unsupported(node, m));
        bool oneD = xDims.Length == 3;
        int I(long v) => LoweringContext.ToInt(v);
        long Two(long[] v, int i, long oneDValue) => oneD ? (i == 0 ? oneDValue : v[0]) : v[i];
        int group = I(node.GetInt("group", 1));
        var shape = new Conv2dShape(I(xDims[0]), I(xDims[1]), I(oneD ? 1 : xDims[2]), I(xDims[^1]),
            I(wDims[1] * group), I(Two(form.Output, 0, 1)), I(Two(form.Output, 1, 1)), I(Two(form.Kernel, 0, 1)), I(Two(form.Kernel, 1, 1)),
            I(Two(form.Strides, 0, 1)), I(Two(form.Strides, 1, 1)), I(Two(form.PadBegin, 0, 0)), I(Two(form.PadBegin, 1, 0)),
            I(Two(form.Dilations, 0, 1)), I(Two(form.Dilations, 1, 1)), group);
        var packed = new float[ConvTranspose2dF32.WeightsLength(shape)];
        ConvTranspose2dF32.PackWeights(w, shape, packed);
        ctx.Emit(node, PlanCalls.ConvTranspose2d,
            $"ConvTranspose {shape.InChannels}→{shape.OutChannels} {shape.KernelHeight}×{shape.KernelWidth} stride {shape.StrideHeight}×{shape.StrideWidth}" + (group > 1 ? $" groups {group}" : ""),
            ctx.Read(x), ctx.Weights(packed), ctx.Weights(bias), ctx.Write(y), ctx.Scratch(ConvTranspose2dF32.ScratchLength(shape)), StructArgs.Conv(shape));
    }
}
