using Compress.Tasks.Quantization;

namespace Compress.Tasks.Calibration;

/// <summary>The <see cref="CalibrationMethod.MinMax"/> range: everything observed, nothing clipped.</summary>
public static class MinMaxRange
{
    /// <summary>[min, max] of every element seen; [0, 0] when nothing was.</summary>
    // Max calibration: Jacob et al., CVPR 2018, §3.1 (ranges from the observed min/max of activations).
    public static TensorRange Compute(float min, float max) =>
        min <= max ? new TensorRange(min, max) : new TensorRange(0f, 0f);

    /// <inheritdoc cref="Compute(float, float)"/>
    public static TensorRange Compute(RangeHistogram histogram) => Compute(histogram.Min, histogram.Max);
}
