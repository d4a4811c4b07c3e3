namespace Compress.Tasks.Build;

/// <summary>Everything one <c>CompressModel</c> item asks for, with paths already resolved.</summary>
public sealed record CompressOptions
{
    public required string ModelPath { get; init; }
    public required string ClassName { get; init; }
    public string Namespace { get; init; } = "";
    public string? ValidationData { get; init; }
    public string? ValidationLabels { get; init; }
    public string? CalibrationData { get; init; }

    /// <summary>Largest accepted |compiled − ONNX Runtime| relative to the outputs' scale.</summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>Cap on validation samples; 0 skips validation, null uses every sample.</summary>
    public int? ValidationSamples { get; init; }

    public required string PlanPath { get; init; }
    public required string WeightsPath { get; init; }
    public required string ReportPath { get; init; }

    /// <summary>The compressed model written back as standard ONNX (any ONNX tool can run it).</summary>
    public string? OnnxPath { get; init; }

    public string FullClassName => Namespace.Length == 0 ? ClassName : $"{Namespace}.{ClassName}";

    /// <summary>Manifest resource name of the weights inside the user's assembly.</summary>
    public string WeightsResourceName => FullClassName + ".weights";
}
