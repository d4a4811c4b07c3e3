namespace Compress.Tasks.Validation;

/// <summary>How the compiled plan compares with ONNX Runtime on the original model.</summary>
/// <param name="Samples">Samples compared.</param>
/// <param name="DataSource">Where the samples came from: a file path, or "random (seed 0)".</param>
/// <param name="MaxAbsError">Largest |plan − reference| over all outputs and samples.</param>
/// <param name="MaxReference">Largest |reference| over all outputs and samples (the scale of the outputs).</param>
/// <param name="Accuracy">Top-1 accuracy of the plan on the labels, when labels were given.</param>
/// <param name="ReferenceAccuracy">Top-1 accuracy of ONNX Runtime on the labels, when labels were given.</param>
/// <param name="Agreement">Fraction of samples where the plan's and the reference's argmax of output 0 agree.</param>
public sealed record ValidationResult(
    int Samples,
    string DataSource,
    double MaxAbsError,
    double MaxReference,
    double? Accuracy,
    double? ReferenceAccuracy,
    double Agreement)
{
    /// <summary>Max absolute error relative to the outputs' scale: |Δ|max / max(|ref|max, 1e-6).</summary>
    public double RelativeError => MaxAbsError / Math.Max(MaxReference, 1e-6);
}
