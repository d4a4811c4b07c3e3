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

    /// <summary>
    /// Largest accepted |compiled − ONNX Runtime| relative to the outputs' scale. Null: 1e-4 for fp32; for quantised and
    /// pruned variants no error bound is enforced (the report and summary state the error and the agreement instead).
    /// </summary>
    public double? Tolerance { get; init; }

    /// <summary>Quantisation mode (Int8, Int8Dynamic, Int4), or null for fp32.</summary>
    public string? Quantize { get; init; }

    /// <summary>Calibration method for static int8: MinMax, Percentile (default) or Entropy.</summary>
    public string? CalibrationMethod { get; init; }

    /// <summary>Percentile for <c>CalibrationMethod="Percentile"</c> (default 99.99).</summary>
    public double CalibrationPercentile { get; init; } = 99.99;

    /// <summary>Nodes kept in fp32 (names separated by ';').</summary>
    public string? Exclude { get; init; }

    /// <summary>Values per int4 scale along k (default 32).</summary>
    public string? Int4BlockSize { get; init; }

    /// <summary>Bits of a shift weight (<c>ShiftBits</c>, 2–4; default 4), or null.</summary>
    public string? ShiftBits { get; init; }

    /// <summary>"true": Binary layers binarise their inputs too (XNOR + popcount); default false.</summary>
    public string? BinaryActivations { get; init; }

    /// <summary>Per-layer precision: "fc2=Binary;fc3=Int8;conv1=Fp32" (docs/low-bit.md).</summary>
    public string? LayerOverrides { get; init; }

    /// <summary>Fixed dims for named inputs (<c>InputShape</c>, e.g. <c>"x=1,3,224,224;y=1,10"</c>), or null.</summary>
    public string? InputShape { get; init; }

    /// <summary>Pruning fraction (<c>Prune</c>, invariant culture), or null; with <see cref="PruneMode"/> it turns pruning on.</summary>
    public string? Prune { get; init; }

    /// <summary>Unstructured (default), NofM, Block or Channel.</summary>
    public string? PruneMode { get; init; }

    /// <summary>"2:4" for NofM, "1x4"/"4x1"/"8x1" for Block.</summary>
    public string? PrunePattern { get; init; }

    /// <summary>Global (default; Layer for Channel) or Layer.</summary>
    public string? PruneScope { get; init; }

    /// <summary>Channel criterion: Reconstruction (default with calibration data), L1 or BnGamma.</summary>
    public string? PruneCriterion { get; init; }

    /// <summary>"true" (default with calibration data) or "false": refit the kept weights on calibration data.</summary>
    public string? PruneReconstruct { get; init; }

    /// <summary>Layers left unpruned (node names separated by ';').</summary>
    public string? PruneExclude { get; init; }

    /// <summary>Cap on validation samples; 0 skips validation, null uses every sample.</summary>
    public int? ValidationSamples { get; init; }

    /// <summary>What runs the model: kernels, ONNX Runtime, or kernels when every op lowers (default; docs/onnxruntime-backend.md).</summary>
    public ModelBackend Backend { get; init; } = ModelBackend.Auto;

    public required string PlanPath { get; init; }
    public required string WeightsPath { get; init; }
    public required string ReportPath { get; init; }

    /// <summary>The compressed model written back as standard ONNX (any ONNX tool can run it).</summary>
    public string? OnnxPath { get; init; }

    public string FullClassName => Namespace.Length == 0 ? ClassName : $"{Namespace}.{ClassName}";

    /// <summary>Manifest resource name of the weights inside the user's assembly.</summary>
    public string WeightsResourceName => FullClassName + ".weights";
}
