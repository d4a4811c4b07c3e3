using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Tasks.Tests.Lowering.Structural;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// End to end against the ground truth: the hand-built model is written as ONNX and run by ONNX Runtime, and the
/// same model goes through the canonical pipeline, the lowering and the plan interpreter (the runtime kernels).
/// </summary>
internal static class OrtCheck
{
    /// <summary>Runs both on random inputs (batch dim as the plan has it) and compares every output; returns the plan.</summary>
    public static LoweredModel Matches(Graph model, float tolerance = 1e-4f, int seed = 1)
    {
        using var dir = TestFiles.TempFolder();
        string path = dir.File("model.onnx");
        OnnxModelWriter.Write(model, path);
        var canonical = CanonicalPipeline.Run(model, new PassLog());
        var lowered = Harness.Lower(canonical);
        var plan = lowered.Plan;
        var inputs = plan.Inputs.Select((t, i) => Harness.Random(t.Length, seed + i)).ToArray();
        var ours = Harness.Run(lowered, inputs);

        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        var feeds = plan.Inputs.Select((t, i) => NamedOnnxValue.CreateFromTensor(t.Name, new DenseTensor<float>(inputs[i], t.Shape.Select(d => (int)d).ToArray()))).ToList();
        using var results = session.Run(feeds, plan.Outputs.Select(o => o.Name).ToArray());
        var expected = results.Select(r => r.AsEnumerable<float>().ToArray()).ToArray();
        for (int o = 0; o < expected.Length; o++) Harness.Close(expected[o], ours[o], tolerance);
        return lowered;
    }
}
