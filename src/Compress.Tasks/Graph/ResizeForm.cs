namespace Compress.Tasks.Graph;

/// <summary>
/// The operands of an ONNX Resize (https://onnx.ai/onnx/operators/onnx__Resize.html) in any opset form (10: X,
/// scales; 11+: X, roi, scales, sizes), resolved against the input dims: output sizes, the scale per axis, and the
/// modes. Read the same way by shape inference and lowering; forms the kernels do not run are refused through
/// <paramref name="Unsupported"/>.
/// </summary>
internal sealed record ResizeForm(long[] OutputDims, double[] Scales, string Mode, string CoordinateMode, string NearestMode)
{
    public static ResizeForm Read(Node node, long opset, long[] dims, Func<int, Tensor?> constant, Func<string, Exception> fail, Func<string, Exception> unsupported)
    {
        bool legacy = opset is > 0 and < 11;
        string mode = node.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear")) throw unsupported($"mode '{mode}' (nearest and linear are supported)");
        // Opset 10 is Upsample's arithmetic: asymmetric coordinates, nearest rounds down.
        string coordinate = legacy ? "asymmetric" : node.GetString("coordinate_transformation_mode", "half_pixel");
        if (coordinate is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric"))
            throw unsupported($"coordinate_transformation_mode '{coordinate}' (half_pixel, pytorch_half_pixel, align_corners and asymmetric are supported)");
        string nearest = legacy ? "floor" : node.GetString("nearest_mode", "round_prefer_floor");
        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil")) throw unsupported($"nearest_mode '{nearest}'");
        if (node.GetInt("antialias", 0) != 0) throw unsupported("antialias=1");
        if (node.GetString("keep_aspect_ratio_policy", "stretch") != "stretch") throw unsupported("keep_aspect_ratio_policy other than stretch");
        if (node.GetInts("axes") is { } axes && !axes.Select(a => a < 0 ? a + dims.Length : a).SequenceEqual(Enumerable.Range(0, dims.Length).Select(i => (long)i)))
            throw unsupported("the axes attribute naming a subset of the axes");

        int scalesInput = legacy ? 1 : 2, sizesInput = 3;
        var scalesTensor = node.HasInput(scalesInput) ? constant(scalesInput) ?? throw fail($"its scales (input {scalesInput}) are computed at run time; they must be constant") : null;
        var sizesTensor = !legacy && node.HasInput(sizesInput) ? constant(sizesInput) ?? throw fail("its sizes (input 3) are computed at run time; they must be constant") : null;
        if (scalesTensor is { ElementCount: 0 }) scalesTensor = null;
        var outDims = new long[dims.Length];
        var scales = new double[dims.Length];
        if (sizesTensor is not null && scalesTensor is null)
        {
            var sizes = TensorData.ToInt64s(sizesTensor);
            if (sizes.Length != dims.Length) throw fail($"it has {sizes.Length} sizes for rank {dims.Length}");
            for (int d = 0; d < dims.Length; d++)
            {
                outDims[d] = sizes[d];
                scales[d] = dims[d] == 0 ? 1 : (double)sizes[d] / dims[d];
            }
        }
        else if (scalesTensor is not null && sizesTensor is null)
        {
            var values = TensorData.ToDoubles(scalesTensor);
            if (values.Length != dims.Length) throw fail($"it has {values.Length} scales for rank {dims.Length}");
            for (int d = 0; d < dims.Length; d++)
            {
                if (!(values[d] > 0)) throw fail($"scale {values[d]} of axis {d} is not positive");
                // The spec: output size = floor(input size · scale), computed in float as the reference does.
                float scaled = dims[d] * (float)values[d];
                outDims[d] = (long)Math.Floor(scaled);
                scales[d] = (float)values[d];
                // align_corners maps through length_resized: the ONNX reference takes it as in·scale, ONNX Runtime as
                // the output size floor(in·scale). They agree only when in·scale is whole; refuse the ambiguous rest.
                if (coordinate == "align_corners" && scaled != outDims[d])
                    throw unsupported($"coordinate_transformation_mode 'align_corners' with scale {values[d]} on axis {d} of size {dims[d]}: " +
                        $"{dims[d]}·scale = {scaled} is not a whole number, where the ONNX reference and ONNX Runtime disagree (give sizes instead of scales)");
            }
        }
        else throw fail("it needs exactly one of scales and sizes");
        return new ResizeForm(outDims, scales, mode, coordinate, nearest);
    }

    /// <summary>The input coordinate of output position <paramref name="j"/> along an axis of <paramref name="inSize"/> → <paramref name="outSize"/>.</summary>
    public double SourceCoordinate(long j, long inSize, long outSize, double scale) => CoordinateMode switch
    {
        "half_pixel" => (j + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => outSize > 1 ? (j + 0.5) / scale - 0.5 : 0,
        "align_corners" => outSize == 1 ? 0 : j * (double)(inSize - 1) / (outSize - 1),
        _ => j / scale,
    };

    /// <summary>The nearest input position for coordinate <paramref name="x"/>, clamped into the axis.</summary>
    public long Nearest(double x, long inSize)
    {
        double r = NearestMode switch
        {
            "round_prefer_ceil" => Math.Floor(x + 0.5),
            "floor" => Math.Floor(x),
            "ceil" => Math.Ceiling(x),
            // round_prefer_floor: halves go down.
            _ => x - Math.Floor(x) == 0.5 ? Math.Floor(x) : Math.Round(x, MidpointRounding.AwayFromZero),
        };
        return Math.Clamp((long)r, 0, inSize - 1);
    }
}
