using Compress.Tasks.Data;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Calibration;

/// <summary>
/// The calibration samples of a model, streamed from disk: one file per model input, each holding every sample of
/// that input along its first axis (float32). Opening reads and checks only the headers; <see cref="Read"/> reads one
/// sample at a time into caller-owned buffers, so memory does not grow with the number of samples.
/// </summary>
/// <remarks>
/// <para><c>CalibrationData</c> names either</para>
/// <list type="bullet">
/// <item>a file, for a single-input model: NumPy <c>.npy</c> (the usual case), an ONNX TensorProto <c>.pb</c>, or raw
/// little-endian <c>.f32</c>; or</item>
/// <item>a folder with one file per input: <c>&lt;input name&gt;.npy</c> (or <c>.pb</c>) or <c>input_&lt;i&gt;.pb</c>
/// as in the ONNX test data sets; failing those, the <c>.pb</c> whose TensorProto name is the input's name. Characters
/// a file name cannot hold (<c>/ \ : * ? " &lt; &gt; |</c>) may be written as <c>_</c>. Two files for one input are
/// an error, files for no input are ignored.</item>
/// </list>
/// Every file must be float32, its dims after the first must multiply to the input's length, and all files must hold
/// the same number of samples; a NaN or infinity is reported when the sample holding it is read. Each problem is a
/// CMP008 error naming the file, with what was expected and what was found.
/// </remarks>
public sealed class CalibrationData : IDisposable
{
    readonly TensorFile.RowReader[] _readers;

    CalibrationData(string path, IReadOnlyList<PlanTensor> inputs, TensorFile.RowReader[] readers)
    {
        Path = path;
        Inputs = inputs;
        _readers = readers;
        Files = readers.Select(r => r.Path).ToArray();
        Count = readers.Length == 0 ? 0 : readers[0].Count;
    }

    /// <summary>The file or folder given.</summary>
    public string Path { get; }

    /// <summary>The model inputs the samples are for, in plan order.</summary>
    public IReadOnlyList<PlanTensor> Inputs { get; }

    /// <summary>The file feeding each input, in plan order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Samples available.</summary>
    public int Count { get; }

    /// <summary>Opens the calibration data at <paramref name="path"/> for <paramref name="plan"/>'s inputs.</summary>
    /// <exception cref="CompressException">CMP008 naming the file or folder (see the remarks).</exception>
    public static CalibrationData Open(string path, ModelPlan plan) => Open(path, plan.Inputs);

    /// <summary>Opens the calibration data at <paramref name="path"/> for <paramref name="inputs"/> (plan order).</summary>
    /// <exception cref="CompressException">CMP008 naming the file or folder (see the remarks).</exception>
    // Layouts: NumPy .npy format 1.0–3.0; ONNX TensorProto (onnx/onnx.proto); folder naming as the ONNX test data sets (input_<i>.pb).
    public static CalibrationData Open(string path, IReadOnlyList<PlanTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
            throw new CompressException(ErrorCodes.BadData, $"Calibration data '{path}' was given, but the model has no inputs to calibrate.", path);
        string[] files;
        if (Directory.Exists(path)) files = FilesInFolder(path, inputs);
        else if (File.Exists(path))
        {
            if (inputs.Count != 1)
                throw new CompressException(ErrorCodes.BadData,
                    $"Calibration data '{path}' is one file, but the model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}). " +
                    $"Give a folder with one file per input: {string.Join(", ", inputs.Select((i, k) => $"'{SafeFileName(i.Name)}.npy' or 'input_{k}.pb'"))}.", path);
            files = [path];
        }
        else
            throw new CompressException(ErrorCodes.BadData,
                $"Calibration data '{path}' does not exist. Give a .npy file (float32, first axis = samples) or a folder with one file per model input; relative paths are resolved from the project folder.", path);

        var readers = new List<TensorFile.RowReader>(files.Length);
        try
        {
            for (int i = 0; i < files.Length; i++) readers.Add(TensorFile.OpenRows(files[i], inputs[i].Length));
            var counts = readers.Select(r => r.Count).Distinct().ToList();
            if (counts.Count > 1)
                throw new CompressException(ErrorCodes.BadData,
                    $"Calibration data '{path}' has different numbers of samples per input: " +
                    string.Join(", ", readers.Select((r, i) => $"'{System.IO.Path.GetFileName(r.Path)}' ({inputs[i].Name}) {r.Count}")) +
                    ". Every input needs one row per sample.", readers.First(r => r.Count != readers[0].Count).Path);
            return new CalibrationData(path, inputs, readers.ToArray());
        }
        catch
        {
            foreach (var r in readers) r.Dispose();
            throw;
        }
    }

    /// <summary>One buffer per input, sized for <see cref="Read"/>.</summary>
    public float[][] CreateBuffers() => Inputs.Select(i => new float[i.Length]).ToArray();

    /// <summary>Reads sample <paramref name="index"/> into <paramref name="destination"/> (from <see cref="CreateBuffers"/>) without allocating.</summary>
    /// <exception cref="CompressException">CMP008 naming the file, sample and element: a value is NaN or infinite, or the file is truncated.</exception>
    public void Read(int index, float[][] destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Length != _readers.Length)
            throw new ArgumentException($"Expected {_readers.Length} buffers, one per input; got {destination.Length}.", nameof(destination));
        for (int i = 0; i < _readers.Length; i++) _readers[i].ReadRow(index, destination[i]);
    }

    /// <summary>
    /// Every sample in order, up to <paramref name="maxSamples"/>. The same buffers are filled and yielded each time:
    /// copy them to keep a sample.
    /// </summary>
    public IEnumerable<float[][]> Samples(int? maxSamples = null)
    {
        var buffers = CreateBuffers();
        int count = Math.Min(Count, maxSamples ?? int.MaxValue);
        for (int s = 0; s < count; s++)
        {
            Read(s, buffers);
            yield return buffers;
        }
    }

    public void Dispose()
    {
        foreach (var r in _readers) r.Dispose();
    }

    /// <summary>The file for each input in a calibration folder.</summary>
    static string[] FilesInFolder(string folder, IReadOnlyList<PlanTensor> inputs)
    {
        var entries = Directory.GetFiles(folder).Where(f => System.IO.Path.GetExtension(f).ToLowerInvariant() is ".npy" or ".pb")
            .Order(StringComparer.Ordinal).ToList();
        Dictionary<string, string>? protoNames = null; // .pb file → its TensorProto name, read on first need
        var result = new string[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            string name = inputs[i].Name, safe = SafeFileName(name);
            var byFileName = new[] { name + ".npy", safe + ".npy", name + ".pb", safe + ".pb", $"input_{i}.pb" }.Distinct(StringComparer.Ordinal).ToList();
            var candidates = entries.Where(f => byFileName.Contains(System.IO.Path.GetFileName(f), StringComparer.Ordinal)).ToList();
            if (candidates.Count == 0)
            {
                protoNames ??= entries.Where(f => f.EndsWith(".pb", StringComparison.OrdinalIgnoreCase))
                    .ToDictionary(f => f, f => TensorFile.TensorProtoName(f), StringComparer.Ordinal);
                candidates.AddRange(protoNames.Where(kv => kv.Value == name).Select(kv => kv.Key));
            }
            if (candidates.Count == 0)
                throw new CompressException(ErrorCodes.BadData,
                    $"Calibration folder '{folder}' has no file for model input '{name}' (input {i} of {inputs.Count}): expected " +
                    $"{string.Join(" or ", byFileName.Select(f => $"'{f}'"))}, or a .pb whose TensorProto name is '{name}'. " +
                    $"It holds {(entries.Count == 0 ? "no .npy or .pb files" : string.Join(", ", entries.Select(f => $"'{System.IO.Path.GetFileName(f)}'")))}.",
                    System.IO.Path.Combine(folder, byFileName[0]));
            if (candidates.Count > 1)
                throw new CompressException(ErrorCodes.BadData,
                    $"Calibration folder '{folder}' has several files for model input '{name}': " +
                    $"{string.Join(", ", candidates.Select(f => $"'{System.IO.Path.GetFileName(f)}'"))}. Keep one.", candidates[1]);
            result[i] = candidates[0];
        }
        var shared = result.GroupBy(f => f, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (shared is not null)
            throw new CompressException(ErrorCodes.BadData,
                $"Calibration file '{shared.Key}' matches several model inputs; give each input its own file.", shared.Key);
        return result;
    }

    /// <summary>An input name as a file name: characters invalid in file names on any OS become <c>_</c>.</summary>
    static string SafeFileName(string name)
    {
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (chars[i] is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' || char.IsControl(chars[i])) chars[i] = '_';
        return new string(chars);
    }
}
