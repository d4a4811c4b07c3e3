using Microsoft.ML.OnnxRuntime;

namespace Digits;

/// <summary>
/// ONNX Runtime on the original model, set up as fairly as we know how: one intra-op thread, all graph
/// optimisations, input and output OrtValues allocated once and reused, so a call measures inference only.
/// </summary>
public sealed class OrtBaseline : IDisposable
{
    readonly InferenceSession _session;
    readonly RunOptions _runOptions = new();
    readonly float[] _input = new float[64];
    readonly float[] _output = new float[10];
    readonly OrtValue _inputValue;
    readonly OrtValue _outputValue;
    readonly string[] _inputNames;
    readonly string[] _outputNames;
    readonly OrtValue[] _inputs;
    readonly OrtValue[] _outputs;

    public OrtBaseline(string modelPath)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(modelPath, options);
        _inputNames = [.. _session.InputMetadata.Keys];
        _outputNames = [.. _session.OutputMetadata.Keys];
        long[] inputShape = _session.InputMetadata[_inputNames[0]].Dimensions.Length == 4 ? [1, 1, 8, 8] : [1, 64];
        _inputValue = OrtValue.CreateTensorValueFromMemory(_input, inputShape);
        _outputValue = OrtValue.CreateTensorValueFromMemory(_output, [1, 10]);
        _inputs = [_inputValue];
        _outputs = [_outputValue];
    }

    /// <summary>Runs one image through ONNX Runtime; the result is in <see cref="Logits"/>.</summary>
    public void Run(ReadOnlySpan<float> image)
    {
        image.CopyTo(_input);
        _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
    }

    public ReadOnlySpan<float> Logits => _output;

    public void Dispose()
    {
        _inputValue.Dispose();
        _outputValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
