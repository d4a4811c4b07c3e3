using Compress.Tasks.Calibration;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

/// <summary>
/// The inputs the build-time analyses run (<see cref="LayerErrorAnalysis"/>, <see cref="StepLatency"/>): the first
/// samples of a data file, streamed one at a time so memory does not grow with their number; without a file, the
/// seeded random inputs validation uses (<see cref="RandomInputs"/>); or samples already in memory (tests).
/// </summary>
public sealed class SampleSource : IDisposable
{
    readonly CalibrationData? _file;
    readonly List<float[][]>? _memory;
    readonly ModelPlan _plan;

    SampleSource(ModelPlan plan, CalibrationData? file, List<float[][]>? memory, int count, string description)
    {
        _plan = plan;
        _file = file;
        _memory = memory;
        Count = count;
        Description = description;
    }

    /// <summary>Samples available (at most the cap given to <see cref="Open"/>).</summary>
    public int Count { get; }

    /// <summary>Where the samples come from, for the report: "the first 256 of 500 samples of 'x.npy'", "16 random samples (seed 0)".</summary>
    public string Description { get; }

    /// <summary>
    /// The first <paramref name="maxSamples"/> samples of <paramref name="path"/> (a file or folder as
    /// <see cref="CalibrationData"/> reads them), or with a null path the random samples validation uses.
    /// </summary>
    /// <exception cref="Diagnostics.CompressException">CMP008: the data cannot be read for the plan's inputs.</exception>
    public static SampleSource Open(string? path, ModelPlan plan, int maxSamples)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSamples);
        if (path is null)
        {
            var random = RandomInputs(plan);
            return FromMemory(plan, random.Take(maxSamples).ToList(), $"{Math.Min(random.Count, maxSamples)} random samples (seed 0)");
        }
        var file = CalibrationData.Open(path, plan);
        int count = Math.Min(file.Count, maxSamples);
        string what = count == file.Count ? $"{count} samples" : $"the first {count} of {file.Count} samples";
        return new SampleSource(plan, file, null, count, $"{what} of {path}");
    }

    /// <summary>Samples already in memory: each one array per plan input.</summary>
    /// <exception cref="ArgumentException">A sample does not fit the plan's inputs.</exception>
    public static SampleSource FromMemory(ModelPlan plan, IReadOnlyList<float[][]> samples, string description)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(samples);
        foreach (var sample in samples)
            if (sample.Length != plan.Inputs.Count || sample.Zip(plan.Inputs).Any(p => p.First.Length != p.Second.Length))
                throw new ArgumentException("A sample does not match the plan's inputs (one array per input, of the input's length).", nameof(samples));
        return new SampleSource(plan, null, [.. samples], samples.Count, description);
    }

    /// <summary>The inputs validation uses without a data file: <see cref="ModelValidator.RandomSamples"/> samples, each input uniform in [0, 1), seed 0.</summary>
    public static List<float[][]> RandomInputs(ModelPlan plan)
    {
        var random = new Random(0);
        return Enumerable.Range(0, ModelValidator.RandomSamples)
            .Select(_ => plan.Inputs.Select(i => Enumerable.Range(0, i.Length).Select(_ => (float)random.NextDouble()).ToArray()).ToArray())
            .ToList();
    }

    /// <summary>One buffer per plan input, for <see cref="Read"/>.</summary>
    public float[][] CreateBuffers() => _plan.Inputs.Select(i => new float[i.Length]).ToArray();

    /// <summary>Copies sample <paramref name="index"/> into <paramref name="destination"/> (from <see cref="CreateBuffers"/>) without allocating.</summary>
    public void Read(int index, float[][] destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        if (_file is not null) { _file.Read(index, destination); return; }
        for (int i = 0; i < destination.Length; i++) _memory![index][i].CopyTo(destination[i], 0);
    }

    public void Dispose() => _file?.Dispose();
}
