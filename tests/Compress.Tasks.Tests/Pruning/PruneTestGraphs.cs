using System.Runtime.InteropServices;
using Compress.Tasks.Calibration;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Pruning;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Small hand-made graphs, calibration files and runners for the pruning tests.</summary>
internal static class PruneTestGraphs
{
    public static Graph Canonical(GraphBuilder builder) => CanonicalPipeline.Run(builder.Build(), new PassLog());

    /// <summary>Deterministic samples in [−1, 1] (or [0, 1] when <paramref name="positive"/>).</summary>
    public static float[][] Samples(int count, int length, int seed, bool positive = false)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length)
            .Select(_ => (float)(positive ? rng.NextDouble() : rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    /// <summary>Writes <paramref name="samples"/> as a raw .f32 file and opens it for <paramref name="graph"/>'s input.</summary>
    public static CalibrationData Calibration(TempFolder dir, Graph graph, float[][] samples)
    {
        string path = dir.File($"calib{Guid.NewGuid():N}.f32");
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(samples.SelectMany(s => s).ToArray().AsSpan()).ToArray());
        return CalibrationData.Open(path, ModelLowering.Lower(graph, LoweringOptions.ForClass("Probe")).Plan);
    }

    public static PruneResult Prune(Graph graph, PruneOptions options, TempFolder? dir = null, float[][]? calibration = null)
    {
        if (calibration is null) return Pruner.Run(graph, options, null, new PassLog());
        using var data = Calibration(dir!, graph, calibration);
        return Pruner.Run(graph, options, data, new PassLog());
    }

    /// <summary>Runs the graph's plan (the runtime kernels) on one sample.</summary>
    public static float[] Run(Graph graph, float[] x)
    {
        var lowered = ModelLowering.Lower(graph, LoweringOptions.ForClass("Probe"));
        return new PlanInterpreter(lowered.Plan, lowered.Weights).Run([x])[0];
    }

    /// <summary>Exports the graph as ONNX and runs it in ONNX Runtime on one sample.</summary>
    public static float[] RunOnnxRuntime(Graph graph, float[] x, TempFolder dir)
    {
        string path = dir.File($"model{Guid.NewGuid():N}.onnx");
        OnnxModelWriter.Write(graph, path);
        using var ort = new OnnxRuntimeReference(path);
        var shape = graph.Inputs[0].Shape!.Dims.Select(d => d.IsKnown ? d.Value : 1).ToArray();
        return ort.Run([x], [shape], [graph.Inputs[0].Name], [graph.Outputs[0].Name])[0];
    }

    public static float[] Weights(Graph graph, string name) => graph.Constant(name)!.Floats;

    public static long[] Dims(Graph graph, string name) => graph.Constant(name)!.Dims.ToArray();
}
