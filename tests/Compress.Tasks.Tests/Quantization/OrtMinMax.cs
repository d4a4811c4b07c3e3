using Compress.Tasks.Data;
using Compress.Tasks.Onnx;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Tasks.Tests.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// MinMax calibration done by the tests themselves, independent of Compress's calibration: the canonical graph (which
/// computes what the original does) is exported with the requested values as extra outputs and run by ONNX Runtime.
/// </summary>
public static class OrtMinMax
{
    public static IReadOnlyDictionary<string, TensorRange> Ranges(Graph canonical, IReadOnlyList<string> values, TensorFile samples, int count = int.MaxValue)
    {
        var result = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        if (values.Count == 0) return result;
        string input = canonical.Inputs[0].Name;
        var extra = values.Where(v => !canonical.IsGraphOutput(v) && v != input).Select(v => canonical.Values[v]);
        var probe = canonical with { Outputs = canonical.Outputs.AddRange(extra) };
        using var dir = TestFiles.TempFolder();
        string path = dir.File("probe.onnx");
        OnnxModelWriter.Write(probe, path);

        var min = new Dictionary<string, float>(StringComparer.Ordinal);
        var max = new Dictionary<string, float>(StringComparer.Ordinal);
        void Observe(string name, ReadOnlySpan<float> data)
        {
            float lo = min.GetValueOrDefault(name, float.PositiveInfinity), hi = max.GetValueOrDefault(name, float.NegativeInfinity);
            foreach (float v in data) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            min[name] = lo;
            max[name] = hi;
        }

        var dims = InputDims(canonical);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        for (int i = 0; i < Math.Min(count, samples.Count); i++)
        {
            var x = samples.SampleAsFloats(i);
            Observe(input, x);
            using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(x, dims))]);
            foreach (var o in outputs) Observe(o.Name, o.AsEnumerable<float>().ToArray());
        }
        foreach (var v in values) result[v] = new TensorRange(min[v], max[v]);
        return result;
    }

    public static int[] InputDims(Graph g) => g.Inputs[0].Shape!.Dims.Select(d => d.IsKnown ? (int)d.Value : 1).ToArray();
}
