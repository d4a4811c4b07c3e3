using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX Conv over NCHW (1-D convolutions run as 2-D with height 1): any pads, strides, dilations, groups, auto_pad.
/// Groups == in channels == out channels runs the depthwise kernel; wide 3×3 stride-1 convolutions run Winograd
/// F(2×2, 3×3) (<see cref="WinogradConv2dF32"/>, see <see cref="UseWinograd"/>); everything else <see cref="Conv2dF32"/>. The
/// weights are packed at build time with the kernel's own <c>PackWeights</c>, so the layout always matches; the
/// kernel's im2col scratch (<c>ScratchLength</c>) is arena memory alive for this step only.
/// </summary>
internal sealed class ConvLowerer : IOpLowerer
{
    public string OpType => "Conv";

    public IReadOnlyList<string> Calls => [PlanCalls.Conv2d, PlanCalls.DepthwiseConv2d, PlanCalls.WinogradConv2d];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "W"), new(2, "B")];

    public string Notes => "1-D and 2-D; W and B constant; any pads/strides/dilations/groups/auto_pad; depthwise kernel when groups = channels";

    public void Lower(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        var (shape, win, w, depthwise) = Resolve(node, ctx);
        int c = shape.InChannels, mOut = shape.OutChannels, groups = shape.Groups;
        float[] packed;
        int scratch;
        bool winograd = !depthwise && UseWinograd(shape);
        if (winograd)
        {
            packed = new float[WinogradConv2dF32.PackedWeightsLength(shape)];
            WinogradConv2dF32.PackWeights(w, shape, packed);
            scratch = WinogradConv2dF32.ScratchLength(shape);
        }
        else if (depthwise)
        {
            packed = new float[DepthwiseConv2dF32.PackedWeightsLength(shape)];
            DepthwiseConv2dF32.PackWeights(w, shape, packed);
            scratch = DepthwiseConv2dF32.ScratchLength(shape);
        }
        else
        {
            packed = new float[Conv2dF32.PackedWeightsLength(shape)];
            Conv2dF32.PackWeights(w, shape, packed);
            scratch = Conv2dF32.ScratchLength(shape);
        }

        var packedArg = ctx.Weights(packed);
        LoweredArg bias = PlanArg.Empty;
        if (Bias(node, ctx, mOut) is { } b) bias = ctx.Weights(b);

        string call = winograd ? PlanCalls.WinogradConv2d : depthwise ? PlanCalls.DepthwiseConv2d : PlanCalls.Conv2d;
        ctx.Emit(node, call, $"{Describe(shape, depthwise)} {win.Describe()}{(winograd ? " Winograd F(2×2, 3×3)" : "")}",
            ctx.Read(x), packedArg, bias, ctx.Write(y), ctx.Scratch(scratch), StructArgs.Conv(shape), ctx.FusedActivation(node));
    }

    /// <summary>
    /// Winograd for 3×3 stride-1 ungrouped convolutions with Cin·Cout ≥ 64·64, where its 2.25× fewer multiplies
    /// outweigh the per-call tile transforms. Measured on this project's machine (one core, ReLU, batch 1): 64→64 on
    /// 56×56 2.0 vs 3.9 ms im2col, 128→128 on 28×28 2.3 vs 3.3 ms, 512→512 on 7×7 1.9 vs 2.5 ms. Also small planes whose
    /// 12–16 output tiles fill the lanes of the tile-major path (7×7 to 8×8 outputs, ≥ 4 input channels): 16→32 on 8×8
    /// (digits_cnn) 3.9 vs 6.1 µs, 4→16 1.2 vs 1.6 µs, 8→8 0.8 vs 1.8 µs; with fewer tiles (6×6: 9) or one input channel
    /// im2col is as fast or faster. The tile-major path needs AVX-512; without it these small layers run the
    /// rows-of-tiles path, slower than im2col there (8.8 vs 5.8 µs on 16→32 8×8).
    /// </summary>
    internal static bool UseWinograd(in Conv2dShape shape) =>
        WinogradConv2dF32.Supports(shape)
        && ((long)shape.InChannels * shape.OutChannels >= 64 * 64 || (shape.InChannels >= 4 && SmallPlaneTiles(shape) is >= 12 and <= 16));

    /// <summary>Winograd F(2×2, 3×3) output tiles of one plane.</summary>
    static int SmallPlaneTiles(in Conv2dShape shape) => (shape.OutHeight + 1) / 2 * ((shape.OutWidth + 1) / 2);

    /// <summary>
    /// The node's geometry, checked: the kernels' <see cref="Conv2dShape"/>, the window (for comments), the float
    /// weights W (ONNX layout) and whether the depthwise kernel runs it (groups = in channels = out channels).
    /// </summary>
    /// <exception cref="Diagnostics.CompressException">A form no kernel supports (CMP004) or inconsistent shapes (CMP005).</exception>
    internal static (Conv2dShape Shape, Window2d Window, float[] W, bool Depthwise) Resolve(Node node, LoweringContext ctx)
    {
        string x = node.Input(0), y = node.Output0;
        long[] xDims = ctx.Dims(x), yDims = ctx.Dims(y);
        float[] w = ctx.ConstantFloats(node, 1, "weight W");
        long[] wDims = ctx.Dims(node.Input(1));
        int groups = LoweringContext.ToInt(node.GetInt("group", 1));
        if (xDims.Length is not (3 or 4) || wDims.Length != xDims.Length)
            throw ctx.Unsupported(node, $"only 1-D and 2-D convolutions are supported (X {LoweringContext.Format(xDims)}, W {LoweringContext.Format(wDims)})");
        long[] kernel = node.GetInts("kernel_shape") ?? wDims[2..];
        if (!kernel.SequenceEqual(wDims[2..]))
            throw ctx.Unsupported(node, $"kernel_shape {LoweringContext.Format(kernel)} differs from the weight's {LoweringContext.Format(wDims)}");
        int c = LoweringContext.ToInt(xDims[1]), mOut = LoweringContext.ToInt(wDims[0]);
        if (groups < 1 || c % groups != 0 || mOut % groups != 0 || wDims[1] * groups != c)
            throw ctx.Unsupported(node, $"group {groups} does not divide X {LoweringContext.Format(xDims)} and W {LoweringContext.Format(wDims)}");
        var win = Window2d.Resolve(node, ctx, xDims, kernel, yDims, ceilModeAllowed: false);

        var shape = new Conv2dShape(LoweringContext.ToInt(xDims[0]), c, win.InHeight, win.InWidth, mOut, win.OutHeight, win.OutWidth,
            win.KernelHeight, win.KernelWidth, win.StrideHeight, win.StrideWidth, win.PadTop, win.PadLeft,
            win.DilationHeight, win.DilationWidth, groups);
        bool depthwise = groups > 1 && groups == c && c == mOut;
        return (shape, win, w, depthwise);
    }

    /// <summary>The constant bias B (one value per output channel), or null when the node has none.</summary>
    internal static float[]? Bias(Node node, LoweringContext ctx, int outChannels)
    {
        if (!node.HasInput(2)) return null;
        float[] b = ctx.ConstantFloats(node, 2, "bias B");
        if (b.Length != outChannels) throw ctx.Unsupported(node, $"bias has {b.Length} values for {outChannels} output channels");
        return b;
    }

    /// <summary>"DepthwiseConv 16", "Conv 8→16", "Conv 8→16 groups 2".</summary>
    internal static string Describe(in Conv2dShape shape, bool depthwise)
    {
        string what = depthwise ? $"DepthwiseConv {shape.InChannels}" : $"Conv {shape.InChannels}→{shape.OutChannels}";
        if (shape.Groups > 1 && !depthwise) what += $" groups {shape.Groups}";
        return what;
    }
}
