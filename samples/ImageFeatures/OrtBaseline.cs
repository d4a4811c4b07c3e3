using Microsoft.ML.OnnxRuntime;

namespace ImageFeatures;

/// <summary>
/// ONNX Runtime on a ResNet-18 model, set up as fairly as we know how: one intra-op thread, all graph optimisations,
/// input and output OrtValues allocated once and reused, so a call measures inference only.
/// </summary>
public sealed class OrtBaseline : IDisposable
{
    readonly InferenceSession _session;
    readonly RunOptions _runOptions = new();
    readonly float[] _input = new float[Images.Length];
    readonly float[] _output = new float[ImageFeatures.Features.Length];
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
        _inputValue = OrtValue.CreateTensorValueFromMemory(_input, [1, Images.Channels, Images.Height, Images.Width]);
        _outputValue = OrtValue.CreateTensorValueFromMemory(_output, [1, ImageFeatures.Features.Length, 1, 1]);
        _inputs = [_inputValue];
        _outputs = [_outputValue];
    }

    /// <summary>Runs one preprocessed image through ONNX Runtime; the result is in <see cref="Features"/>.</summary>
    public void Run(ReadOnlySpan<float> image)
    {
        image.CopyTo(_input);
        _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
    }

    public ReadOnlySpan<float> Features => _output;

    public void Dispose()
    {
        _inputValue.Dispose();
        _outputValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
