using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// The quantisation passes' entry point: checks the request, then runs the mode's planner — each a pure function of
/// the canonical graph and the options: <see cref="StaticInt8Planner"/> (Jacob et al. 2018), <see cref="DynamicInt8Planner"/>,
/// <see cref="Int4WeightOnlyPlanner"/> (MatMulNBits). The build calls <see cref="QuantizedModelCheck.ThrowIfQuantized"/>
/// on the loaded model first, then <see cref="ValuesToCalibrate"/>, calibrates those values, and calls <see cref="Plan"/>.
/// </summary>
public static class QuantizationPlanner
{
    /// <summary>
    /// The activation values whose observed ranges static int8 needs: the inputs and outputs of the nodes that will run
    /// int8 and get their own u8 parameters (pools and aliases on u8 share their input's). Empty for the other modes.
    /// </summary>
    /// <exception cref="CompressException">CMP013 for a quantised model; CMP006 for an Exclude entry naming no node.</exception>
    public static IReadOnlyList<string> ValuesToCalibrate(Graph canonical, QuantizeOptions options)
    {
        Check(canonical, options);
        if (LowBit.MixedPrecisionPlanner.Applies(options)) return LowBit.MixedPrecisionPlanner.ValuesToCalibrate(canonical, options);
        return options.Mode == QuantizeMode.Int8 ? StaticInt8Planner.Decide(canonical, options).Dataflow.Owned : [];
    }

    /// <summary>The quantisation of <paramref name="canonical"/>: per-node decisions, activation parameters, quantised weights.</summary>
    /// <param name="ranges">Calibrated ranges of (at least) <see cref="ValuesToCalibrate"/>; required for <see cref="QuantizeMode.Int8"/>, ignored otherwise.</param>
    /// <exception cref="CompressException">CMP013 for a quantised model; CMP006 for an Exclude entry naming no node or Int8 without
    /// ranges; CMP008 for a missing or non-finite range.</exception>
    public static QuantizationResult Plan(Graph canonical, QuantizeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges) =>
        Plan(canonical, options, ranges, null);

    /// <summary>
    /// <see cref="Plan(Graph, QuantizeOptions, IReadOnlyDictionary{string, TensorRange})"/> with the calibration statistics
    /// the low-bit fits use (<see cref="LowBit.MixedPrecisionPlanner.LayersToFit"/>; docs/low-bit.md).
    /// </summary>
    public static QuantizationResult Plan(Graph canonical, QuantizeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges,
        IReadOnlyDictionary<string, LowBit.LayerInput>? layerInputs)
    {
        Check(canonical, options);
        if (LowBit.MixedPrecisionPlanner.Applies(options)) return LowBit.MixedPrecisionPlanner.Plan(canonical, options, ranges, layerInputs);
        return options.Mode switch
        {
            QuantizeMode.Int8 => StaticInt8Planner.Plan(canonical, options, ranges ?? throw new CompressException(ErrorCodes.BadMetadata,
                "Quantize=\"Int8\" needs calibration: set CalibrationData to a .npy of representative inputs, or use Quantize=\"Int8Dynamic\" (no calibration).")),
            QuantizeMode.Int8Dynamic => DynamicInt8Planner.Plan(canonical, options),
            QuantizeMode.Int4 => Int4WeightOnlyPlanner.Plan(canonical, options),
            _ => throw new CompressException(ErrorCodes.BadMetadata,
                $"Quantize '{options.Mode}' is not a quantisation mode. Valid values: {string.Join(", ", QuantizeOptions.ModeNames)}."),
        };
    }

    static void Check(Graph graph, QuantizeOptions options)
    {
        QuantizedModelCheck.ThrowIfQuantized(graph);
        if (options.ShiftBits is < 2 or > 4)
            throw new CompressException(ErrorCodes.BitWidthOutOfRange, $"ShiftBits {options.ShiftBits} is out of range: a shift weight has 2 to 4 bits.");
        if (options.Int4BlockSize <= 0 || options.Int4BlockSize % 2 != 0)
            throw new CompressException(ErrorCodes.BadMetadata, $"Int4BlockSize {options.Int4BlockSize} is not a positive even integer.");
        var names = new HashSet<string>(graph.Nodes.Select(n => n.Label), StringComparer.Ordinal);
        var unknown = options.Exclude.Where(e => !names.Contains(e)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new CompressException(ErrorCodes.BadMetadata,
                $"Exclude names {(unknown.Count == 1 ? "a node" : "nodes")} the model does not have: {string.Join(", ", unknown.Select(u => $"'{u}'"))}. " +
                $"Nodes that can be quantised: {string.Join(", ", Quantizable(graph).Take(20))}{(Quantizable(graph).Count() > 20 ? ", …" : "")}. " +
                "(Activations fused into their producer, BatchNormalization folded into a Conv and Identity/Dropout are no longer nodes: name the producer.)");
    }

    static IEnumerable<string> Quantizable(Graph graph) =>
        graph.Nodes.Where(n => QuantizableOps.Analysers.ContainsKey(n.OpType) && n.Domain.Length == 0).Select(n => $"'{n.Label}'");
}
