namespace Compress.Tasks.Graph;

/// <summary>
/// The geometry of an ONNX ConvTranspose (https://onnx.ai/onnx/operators/onnx__ConvTranspose.html) per spatial dim:
/// output size and begin/end pads from pads, output_padding, output_shape and auto_pad, as the spec computes them.
/// </summary>
internal sealed record ConvTransposeForm(long[] Kernel, long[] Strides, long[] Dilations, long[] PadBegin, long[] PadEnd, long[] OutputPadding, long[] Output)
{
    /// <param name="spatial">The input's spatial dims.</param>
    /// <param name="kernel">The weight's spatial dims.</param>
    public static ConvTransposeForm Read(Node node, long[] spatial, long[] kernel, Func<string, Exception> fail)
    {
        int n = spatial.Length;
        long[] Ints(string name, long fallback)
        {
            var v = node.GetInts(name) ?? Enumerable.Repeat(fallback, n).ToArray();
            return v.Length == n ? v : throw fail($"'{name}' has {v.Length} entries for {n} spatial dims");
        }
        var k = node.GetInts("kernel_shape") ?? kernel;
        if (k.Length != n || !k.SequenceEqual(kernel)) throw fail($"kernel_shape [{string.Join(",", k)}] does not match the weight's [{string.Join(",", kernel)}]");
        long[] strides = Ints("strides", 1), dilations = Ints("dilations", 1), outputPadding = Ints("output_padding", 0);
        var pads = node.GetInts("pads") ?? new long[2 * n];
        if (pads.Length != 2 * n) throw fail($"'pads' has {pads.Length} entries for {n} spatial dims");
        long[] begin = pads[..n], end = pads[n..], output = new long[n];
        string autoPad = node.GetString("auto_pad", "NOTSET");
        var outputShape = node.GetInts("output_shape");
        if (outputShape is { Length: > 0 } && outputShape.Length != n) outputShape = outputShape.Length == n + 2 ? outputShape[2..] : throw fail($"'output_shape' has {outputShape.Length} entries for {n} spatial dims");
        for (int i = 0; i < n; i++)
        {
            if (strides[i] < 1 || dilations[i] < 1 || outputPadding[i] < 0) throw fail("strides and dilations must be ≥ 1 and output_padding ≥ 0");
            long full = strides[i] * (spatial[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
            long? target = outputShape is { Length: > 0 } ? outputShape[i] : autoPad is "SAME_UPPER" or "SAME_LOWER" ? spatial[i] * strides[i] : null;
            if (target is { } t)
            {
                // The spec's total_padding, split with floor division as the ONNX reference implementation does. A
                // negative total (an output larger than the positions the kernel reaches) gives a negative end pad:
                // the positions past the last one the kernel reaches hold the bias only.
                long total = full - t, half = Math.DivRem(total, 2) is var (q, r) && r < 0 ? q - 1 : q;
                (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (half, total - half) : (total - half, half);
                if (t < 0) throw fail($"output size {t} along spatial dim {i} is negative");
                if (begin[i] < 0)
                    throw fail($"output size {t} along spatial dim {i} needs {-begin[i]} position(s) before the first the kernel reaches ({full} positions); only extra positions at the end are supported");
            }
            else
            {
                if (autoPad == "VALID") begin[i] = end[i] = 0;
                if (begin[i] < 0 || end[i] < 0) throw fail($"pads [{begin[i]}, {end[i]}] along spatial dim {i} are negative");
            }
            output[i] = full - begin[i] - end[i];
            if (output[i] < 0) throw fail($"pads [{begin[i]}, {end[i]}] do not fit spatial dim {i} ({full} positions)");
        }
        return new ConvTransposeForm(kernel, strides, dilations, begin, end, outputPadding, output);
    }
}
