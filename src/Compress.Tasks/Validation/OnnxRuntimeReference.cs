using Compress.Tasks.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Tasks.Validation;

/// <summary>
/// The ground truth: the ORIGINAL model run by ONNX Runtime (one intra-op thread, all graph optimisations),
/// one sample at a time with the plan's batch-1 shapes.
/// </summary>
public sealed class OnnxRuntimeReference : IDisposable
{
    readonly InferenceSession _session;
    readonly string[] _inputNames;
    readonly string[] _outputNames;
    readonly string _modelPath;

    public OnnxRuntimeReference(string modelPath)
    {
        _modelPath = modelPath;
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            _session = new InferenceSession(modelPath, options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new CompressException(ErrorCodes.ReferenceRuntime,
                $"ONNX Runtime could not load '{modelPath}' to compute reference outputs: {e.Message}. Check that the model is valid ONNX (e.g. with onnx.checker), or set ValidationSamples=\"0\" to skip validation.", modelPath, e);
        }
        _inputNames = _session.InputMetadata.Keys.ToArray();
        _outputNames = _session.OutputMetadata.Keys.ToArray();
    }

    /// <summary>Runs one sample: <paramref name="inputs"/>[i] is graph input i, shaped <paramref name="shapes"/>[i].</summary>
    public float[][] Run(IReadOnlyList<float[]> inputs, IReadOnlyList<long[]> shapes, IReadOnlyList<string> inputNames, IReadOnlyList<string> outputNames)
    {
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            for (int i = 0; i < inputs.Count; i++)
                values.Add(OrtValue.CreateTensorValueFromMemory(inputs[i], shapes[i]));
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, inputNames.ToArray(), values, outputNames.ToArray());
            var outputs = new float[results.Count][];
            for (int i = 0; i < results.Count; i++)
                outputs[i] = results[i].GetTensorDataAsSpan<float>().ToArray();
            return outputs;
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(ErrorCodes.ReferenceRuntime,
                $"ONNX Runtime failed to run '{_modelPath}' for reference outputs: {e.Message}.", _modelPath, e);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public IReadOnlyList<string> InputNames => _inputNames;

    public IReadOnlyList<string> OutputNames => _outputNames;

    public void Dispose() => _session.Dispose();
}
