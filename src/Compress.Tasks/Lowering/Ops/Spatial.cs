using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// The sliding-window geometry shared by Conv and the pools (ONNX spec: <c>kernel_shape</c>, <c>strides</c>,
/// <c>dilations</c>, <c>pads</c>, <c>auto_pad</c>, <c>ceil_mode</c>), for 1-D and 2-D windows; a 1-D window is a 2-D
/// one with height 1. Output sizes are computed here and checked against shape inference.
/// </summary>
internal sealed record Window2d(int InHeight, int InWidth, int OutHeight, int OutWidth, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int DilationHeight, int DilationWidth, int PadTop, int PadLeft, int PadBottom, int PadRight)
{
    /// <summary>"3×3 stride 2 pad 1 dilation 2" (defaults omitted).</summary>
    public string Describe()
    {
        var parts = new List<string> { $"{KernelHeight}×{KernelWidth}" };
        if (StrideHeight != 1 || StrideWidth != 1) parts.Add(StrideHeight == StrideWidth ? $"stride {StrideHeight}" : $"stride {StrideHeight}×{StrideWidth}");
        if (PadTop == PadLeft && PadTop == PadBottom && PadTop == PadRight) { if (PadTop != 0) parts.Add($"pad {PadTop}"); }
        else parts.Add($"pad {PadTop},{PadLeft},{PadBottom},{PadRight}");
        if (DilationHeight != 1 || DilationWidth != 1) parts.Add(DilationHeight == DilationWidth ? $"dilation {DilationHeight}" : $"dilation {DilationHeight}×{DilationWidth}");
        return string.Join(" ", parts);
    }

    /// <param name="x">Input dims [N, C, (H,) W].</param>
    /// <param name="kernel">The window size per spatial dim (from <c>kernel_shape</c> or the weights).</param>
    /// <param name="y">Output dims from shape inference, checked against the computed ones.</param>
    public static Window2d Resolve(Node node, LoweringContext ctx, long[] x, long[] kernel, long[] y, bool ceilModeAllowed)
    {
        int r = x.Length - 2;
        if (r is < 1 or > 2 || kernel.Length != r)
            throw ctx.Unsupported(node, $"only 1-D and 2-D windows over [N, C, (H,) W] tensors are supported, the input is {LoweringContext.Format(x)}");
        long[] strides = node.GetInts("strides") ?? Ones(r), dilations = node.GetInts("dilations") ?? Ones(r);
        long[] pads = node.GetInts("pads") ?? new long[2 * r];
        if (strides.Length != r || dilations.Length != r || pads.Length != 2 * r)
            throw ctx.Unsupported(node, "strides, dilations or pads have the wrong number of entries");
        string autoPad = node.GetString("auto_pad", "NOTSET");
        bool ceil = node.GetInt("ceil_mode", 0) != 0;
        if (ceil && !ceilModeAllowed) throw ctx.Unsupported(node, "ceil_mode is not supported here");

        var begin = new long[r]; var end = new long[r]; var outs = new long[r];
        for (int i = 0; i < r; i++)
        {
            long input = x[2 + i], k = kernel[i], s = strides[i], d = dilations[i];
            if (k < 1 || s < 1 || d < 1) throw ctx.Unsupported(node, "kernel sizes, strides and dilations must be positive");
            long span = (k - 1) * d + 1;
            switch (autoPad)
            {
                case "NOTSET" or "":
                    begin[i] = pads[i]; end[i] = pads[i + r];
                    if (begin[i] < 0 || end[i] < 0) throw ctx.Unsupported(node, "negative pads are not supported");
                    long room = input + begin[i] + end[i] - span;
                    outs[i] = room < 0 ? 0 : (ceil ? (room + s - 1) / s : room / s) + 1;
                    // With ceil_mode the last window must start inside the input or its left padding (as ONNX Runtime and PyTorch do).
                    if (ceil && outs[i] > 0 && (outs[i] - 1) * s >= input + begin[i]) outs[i]--;
                    break;
                case "VALID":
                    outs[i] = input < span ? 0 : (input - span) / s + 1;
                    break;
                case "SAME_UPPER" or "SAME_LOWER":
                    outs[i] = (input + s - 1) / s;
                    long total = Math.Max(0, (outs[i] - 1) * s + span - input);
                    long small = total / 2;
                    (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
                    break;
                default:
                    throw ctx.Unsupported(node, $"auto_pad '{autoPad}' is not an ONNX value");
            }
            if (outs[i] < 1) throw ctx.Unsupported(node, $"the window ({span}) is larger than the padded input ({input + begin[i] + end[i]})");
        }
        if (y.Length != x.Length || !y.AsSpan(2).SequenceEqual(outs))
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Node '{node.Label}' ({node.OpType}): shape inference gives output {LoweringContext.Format(y)} but the window geometry gives spatial size {LoweringContext.Format(outs)}.");

        int I(long v) => LoweringContext.ToInt(v);
        return r == 1
            ? new Window2d(1, I(x[2]), 1, I(outs[0]), 1, I(kernel[0]), 1, I(strides[0]), 1, I(dilations[0]), 0, I(begin[0]), 0, I(end[0]))
            : new Window2d(I(x[2]), I(x[3]), I(outs[0]), I(outs[1]), I(kernel[0]), I(kernel[1]), I(strides[0]), I(strides[1]),
                I(dilations[0]), I(dilations[1]), I(begin[0]), I(begin[1]), I(end[0]), I(end[1]));
    }

    static long[] Ones(int n) => Enumerable.Repeat(1L, n).ToArray();
}
