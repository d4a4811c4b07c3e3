using System.Globalization;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Build;

/// <summary>How the report and the one-line build summary write decibels and the layer that loses the most.</summary>
internal static class ReportFormat
{
    static CultureInfo C => CultureInfo.InvariantCulture;

    /// <summary>An SQNR: "35.2", "exact" (+∞), "−∞", "—" (not measured).</summary>
    public static string Sqnr(double db) =>
        double.IsNaN(db) ? "—" : double.IsPositiveInfinity(db) ? "exact" : double.IsNegativeInfinity(db) ? "−∞" : db.ToString("0.0", C);

    /// <summary>A loss: "4.1", "∞" (all of the layer's error is its own), "0.0", "—".</summary>
    public static string Loss(double db) =>
        double.IsNaN(db) ? "—" : double.IsPositiveInfinity(db) ? "∞" : Math.Abs(db) < 0.05 ? "0.0" : db.ToString("0.0", C);

    /// <summary>"/fc/Gemm (SQNR 31.2 dB, the noise it adds alone at 33.0 dB)", or "… (SQNR 35.2 dB, from exact inputs)".</summary>
    public static string Worst(LayerError layer) => $"{layer.Node} ({Headline(layer)})";

    /// <summary>"SQNR 31.2 dB, the noise it adds alone at 33.0 dB", or "SQNR 35.2 dB, from exact inputs".</summary>
    public static string Headline(LayerError layer) =>
        $"SQNR {Sqnr(layer.SqnrDb)} dB, " + (double.IsPositiveInfinity(layer.LossDb) ? "from exact inputs" : $"the noise it adds alone at {Sqnr(layer.AddedNoiseDb)} dB");
}
