using System.Collections.Immutable;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Validation;

/// <summary>How much quantisation error one layer (ONNX node) of a quantised plan carries and adds (<see cref="LayerErrorAnalysis"/>).</summary>
/// <param name="Node">The node's label, as in the plan's steps.</param>
/// <param name="Op">Its ONNX op type.</param>
/// <param name="Inputs">Its inputs computed at run time (graph inputs and node outputs; constants left out).</param>
/// <param name="Constants">Its constant inputs (weights, biases), by initializer name.</param>
/// <param name="Outputs">Its outputs.</param>
/// <param name="Steps">The quantised plan's steps for this node, conversions of its inputs included; empty for an alias (Flatten, Reshape…).</param>
/// <param name="Quantized">It runs a quantised kernel: int8, int8 dynamic, int4, or a pool or binary op on u8.</param>
/// <param name="OutputParameters">The u8 parameters of its first output in the quantised plan, or null when that stays float32 only.</param>
/// <param name="SqnrDb">SQNR of its output against the fp32 plan's (the lowest over its outputs): +∞ when bit-identical, NaN when not measured.</param>
/// <param name="InputSqnrDb">The lowest SQNR of its inputs (+∞ for graph inputs and exact values); +∞ without measured inputs.</param>
public sealed record LayerError(
    string Node,
    string Op,
    ImmutableArray<string> Inputs,
    ImmutableArray<string> Constants,
    ImmutableArray<string> Outputs,
    ImmutableArray<int> Steps,
    bool Quantized,
    QuantParams? OutputParameters,
    double SqnrDb,
    double InputSqnrDb)
{
    /// <summary>The error the layer itself adds, in dB: <see cref="InputSqnrDb"/> − <see cref="SqnrDb"/> (see <see cref="Loss"/>).</summary>
    public double LossDb => Loss(InputSqnrDb, SqnrDb);

    /// <summary>
    /// input − output SQNR: 0 when the output is exact (nothing lost), +∞ when the inputs are exact and the output is not
    /// (the layer brings in all of its error), NaN when the output was not measured. Negative when the layer reduces
    /// the relative error (a clamp, a max).
    /// </summary>
    public static double Loss(double inputSqnrDb, double outputSqnrDb) =>
        double.IsNaN(outputSqnrDb) ? double.NaN
        : double.IsPositiveInfinity(outputSqnrDb) ? 0
        : double.IsPositiveInfinity(inputSqnrDb) ? double.PositiveInfinity
        : inputSqnrDb - outputSqnrDb;
}

/// <summary>The per-layer error of a quantised plan against its fp32 plan (<see cref="LayerErrorAnalysis.Run"/>).</summary>
/// <param name="Samples">Samples both plans ran.</param>
/// <param name="DataSource">Where they came from (<see cref="SampleSource.Description"/>).</param>
/// <param name="Layers">One per node of the quantised plan, in graph order.</param>
/// <param name="Agreement">Fraction of samples on which the argmax of output 0 is the same in both plans.</param>
public sealed record LayerErrorResult(int Samples, string DataSource, ImmutableArray<LayerError> Layers, double Agreement)
{
    /// <summary>The layer that loses the most (<see cref="WorstOf"/>), or null when no quantised layer loses anything.</summary>
    public LayerError? Worst => WorstOf(Layers);

    /// <summary>
    /// Among the quantised layers whose output is measured and not exact: the largest <see cref="LayerError.LossDb"/>
    /// (+∞, a quantised layer reading exact inputs, counts as largest); ties go to the lower output SQNR, then to the
    /// earlier layer.
    /// </summary>
    public static LayerError? WorstOf(IEnumerable<LayerError> layers)
    {
        LayerError? worst = null;
        foreach (var l in layers)
        {
            if (!l.Quantized || double.IsNaN(l.SqnrDb) || double.IsPositiveInfinity(l.SqnrDb)) continue;
            if (worst is null || l.LossDb > worst.LossDb || (l.LossDb == worst.LossDb && l.SqnrDb < worst.SqnrDb)) worst = l;
        }
        return worst;
    }
}
