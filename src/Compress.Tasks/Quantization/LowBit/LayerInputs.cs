using System.Numerics.Tensors;
using Compress.Tasks.Calibration;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Pruning;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Quantization.LowBit;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// What one layer sees on the calibration data, for fitting its low-bit weights to minimise the layer's output error
/// (the post-training setting of AdaRound/GPTQ: min ‖X·w − X·ŵ‖² per output channel). Gemm/MatMul keep the input rows
/// themselves, <see cref="X"/> (rows × K, one row per sample and row of A), which the ternary and binary fits multiply
/// with candidate weights; every layer has the second moment <c>G = XᵀX / rows</c> per Conv group (Conv rows are the
/// im2col patches, in the weight's [c, kh, kw] order), which the shift fit works with.
/// </summary>
public sealed class LayerInput
{
    internal LinearLayer Layer { get; }

    /// <summary>Reduction length of one output channel.</summary>
    public int K => Layer.K;

    /// <summary>Conv groups (1 for Gemm/MatMul).</summary>
    public int Groups => Layer.Groups;

    /// <summary>Rows of <see cref="X"/> (Gemm/MatMul), or of the patches the Gram matrices were summed over (Conv).</summary>
    public int Rows { get; private set; }

    /// <summary>Gemm/MatMul: the input rows, rows × K row-major; null for Conv.</summary>
    public float[]? X { get; }

    readonly double[][] _gram;
    bool _gramReady;

    internal LayerInput(LinearLayer layer, int samples)
    {
        Layer = layer;
        if (layer.Window is null) X = new float[checked(samples * (int)layer.Positions * layer.K)];
        _gram = Enumerable.Range(0, layer.Groups).Select(_ => new double[layer.K * layer.K]).ToArray();
    }

    /// <summary>G = XᵀX / rows of <paramref name="group"/>, K × K row-major.</summary>
    public double[] Gram(int group)
    {
        lock (_gram)
        {
            if (_gramReady) return _gram[group];
            if (X is not null) AddRows(X.AsSpan(0, Rows * K).ToArray().Select(v => (double)v).ToArray(), Rows, 0);
            foreach (var g in _gram) TensorPrimitives.Multiply(g, 1.0 / Math.Max(1, Rows), g);
            _gramReady = true;
            return _gram[group];
        }
    }

    /// <summary>Adds one sample (the layer's whole input at batch 1).</summary>
    internal void Add(ReadOnlySpan<float> input)
    {
        int rows = (int)Layer.Positions;
        if (X is not null)
        {
            input[..(rows * K)].CopyTo(X.AsSpan(Rows * K));
            Rows += rows;
            return;
        }
        int cols = K + (Layer.HasBias ? 1 : 0);
        var patches = new double[rows * cols];
        var dense = new double[rows * K];
        for (int g = 0; g < Groups; g++)
        {
            GramCollector.Patches(Layer, input, g, patches);
            for (int r = 0; r < rows; r++) patches.AsSpan(r * cols, K).CopyTo(dense.AsSpan(r * K));
            AddRows(dense, rows, g);
        }
        Rows += rows;
    }

    void AddRows(double[] rows, int count, int group)
    {
        var gram = _gram[group];
        int k = K;
        Parallel.For(0, k, i =>
        {
            var gRow = gram.AsSpan(i * k, k);
            for (int r = 0; r < count; r++)
            {
                double a = rows[r * k + i];
                if (a != 0) TensorPrimitives.MultiplyAdd(rows.AsSpan(r * k, k), a, gRow, gRow);
            }
        });
    }
}

/// <summary>Collects <see cref="LayerInput"/>s by running the fp32 plan (the runtime kernels) on calibration samples.</summary>
public static class LayerInputs
{
    /// <summary>At most this many calibration samples are used (the fits need second moments, not many samples).</summary>
    public const int MaxSamples = 256;

    /// <summary>The inputs of <paramref name="nodes"/> (labels of Gemm/MatMul/Conv nodes with constant weights) over the first samples of <paramref name="data"/>.</summary>
    public static IReadOnlyDictionary<string, LayerInput> Collect(Graph canonical, LoweredModel fp32, CalibrationData data, IReadOnlyCollection<string> nodes)
    {
        var layers = new List<(LayerInput Input, SpanArg Location, int Step)>();
        int samples = Math.Min(data.Count, MaxSamples);
        foreach (var node in canonical.Nodes)
        {
            if (!nodes.Contains(node.Label) || LinearLayer.TryCreate(canonical, node, out _) is not { } layer) continue;
            if (!fp32.ValueLocations.TryGetValue(node.Input(0), out var location) || !fp32.ValueReadyAfterStep.TryGetValue(node.Input(0), out int step)) continue;
            layers.Add((new LayerInput(layer, samples), location, step));
        }
        var result = layers.ToDictionary(l => l.Input.Layer.Label, l => l.Input, StringComparer.Ordinal);
        if (layers.Count == 0 || samples == 0) return result;
        var byStep = layers.GroupBy(l => l.Step).ToDictionary(g => g.Key, g => g.ToList());
        var interpreter = new PlanInterpreter(fp32.Plan, fp32.Weights);
        var inputs = data.CreateBuffers();
        var outputs = fp32.Plan.Outputs.Select(o => new float[o.Length]).ToArray();
        for (int s = 0; s < samples; s++)
        {
            data.Read(s, inputs);
            interpreter.RunInto(inputs, outputs, (step, frame) =>
            {
                if (!byStep.TryGetValue(step, out var list)) return;
                foreach (var (input, location, _) in list) input.Add(frame.Read(location));
            });
        }
        return result;
    }
}
