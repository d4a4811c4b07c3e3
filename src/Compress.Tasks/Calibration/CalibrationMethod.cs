using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Calibration;

/// <summary>
/// How a value's observed distribution becomes the range its u8 parameters cover (<c>CalibrationMethod</c> metadata).
/// Parse a name with <c>CalibrationMethod.Parse("Entropy")</c>.
/// </summary>
public enum CalibrationMethod
{
    /// <summary>The observed [min, max]: nothing clipped (<see cref="MinMaxRange"/>).</summary>
    MinMax,

    /// <summary>The (100 − p)th and p-th percentiles of the values, p = 99.99 by default (<see cref="PercentileRange"/>).</summary>
    Percentile,

    /// <summary>The clipping threshold that minimises the KL divergence of the quantised distribution, as in TensorRT (<see cref="EntropyRange"/>).</summary>
    Entropy,
}

/// <summary><c>CalibrationMethod.Parse</c> and the list of valid names (C# 14 static extension members on the enum).</summary>
public static class CalibrationMethodNames
{
    extension(CalibrationMethod)
    {
        /// <summary>The valid names, in declaration order: "MinMax, Percentile, Entropy".</summary>
        public static IReadOnlyList<string> Names => s_names;

        /// <summary>The method named <paramref name="name"/> (case-insensitive, surrounding spaces ignored; numbers are not names).</summary>
        /// <exception cref="CompressException">CMP006 listing the valid names.</exception>
        public static CalibrationMethod Parse(string? name)
        {
            string trimmed = name?.Trim() ?? "";
            foreach (var method in Enum.GetValues<CalibrationMethod>())
                if (string.Equals(method.ToString(), trimmed, StringComparison.OrdinalIgnoreCase))
                    return method;
            throw new CompressException(ErrorCodes.BadMetadata,
                $"CalibrationMethod '{name}' is not a calibration method. Valid names: {string.Join(", ", s_names)}.");
        }
    }

    static readonly string[] s_names = Enum.GetNames<CalibrationMethod>();
}
