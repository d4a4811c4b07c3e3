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
    /// The noise this layer adds on its own, as an SQNR in dB: the output's noise-to-signal ratio minus the worst input's
    /// (10^(−SQNR/10) each), so a first quantised layer reading exact inputs gets a finite figure and a layer that only
    /// carries its inputs' error gets +∞. Comparable across layers, unlike <see cref="LossDb"/>.
    /// </summary>
    public double AddedNoiseDb
    {
        get
        {
            if (double.IsNaN(SqnrDb)) return double.NaN;
            double added = Nsr(SqnrDb) - Nsr(InputSqnrDb);
            return added <= 0 ? double.PositiveInfinity : -10 * Math.Log10(added);

            static double Nsr(double sqnrDb) => double.IsPositiveInfinity(sqnrDb) || double.IsNaN(sqnrDb) ? 0 : Math.Pow(10, -sqnrDb / 10);
        }
    }

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
    /// Among the quantised layers whose output is measured and not exact: the one adding the most noise on its own (the
    /// lowest <see cref="LayerError.AddedNoiseDb"/>); ties go to the lower output SQNR, then to the earlier layer. Null
    /// when no quantised layer adds any.
    /// </summary>
    public static LayerError? WorstOf(IEnumerable<LayerError> layers)
    {
        LayerError? worst = null;
        foreach (var l in layers)
        {
            if (!l.Quantized || double.IsNaN(l.SqnrDb) || double.IsPositiveInfinity(l.SqnrDb) || double.IsPositiveInfinity(l.AddedNoiseDb)) continue;
            if (worst is null || l.AddedNoiseDb < worst.AddedNoiseDb || (l.AddedNoiseDb == worst.AddedNoiseDb && l.SqnrDb < worst.SqnrDb)) worst = l;
        }
        return worst;
    }
}
