using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Folds an inference BatchNormalization into the Conv, Gemm or MatMul (constant weights) that feeds it
/// (Ioffe &amp; Szegedy 2015, "Batch Normalization"; folding as in Jacob et al. 2018, §3.2):
/// y = γ·(x − μ)/√(σ² + ε) + β = s·x + (β − μ·s) with s = γ/√(σ² + ε) per channel, so the weights of output channel c
/// are scaled by s[c] and the bias becomes b[c]·s[c] + β[c] − μ[c]·s[c]. New initializers get new names; existing
/// tensors are never changed. A BatchNormalization with another producer stays (the lowering has a kernel for it).
/// </summary>
public sealed class FoldBatchNorm : IGraphPass
{
    public string Name => "FoldBatchNorm";

    public Graph Run(Graph graph, PassLog log)
    {
        graph = ShapeInference.EnsureInferred(graph);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var bn = graph.Nodes[i];
            if (bn.OpType != "BatchNormalization" || bn.Domain.Length > 0) continue;
            var folded = TryFold(graph, bn, out string message);
            log.Add(Name, bn.Label, message);
            if (folded is not null)
            {
                graph = folded;
                i--; // the BN node is gone; its successor now sits at i
            }
        }
        graph = graph.RemoveUnusedInitializers(out var removed);
        if (!removed.IsEmpty)
            log.Add(Name, "(graph)", $"removed {removed.Length} initializer(s) no longer used: {string.Join(", ", removed)}");
        return graph;
    }

    static Graph? TryFold(Graph graph, Node bn, out string message)
    {
        string Keep(string why) => $"kept as a standalone BatchNormalization: {why}";
        message = "";
        if (bn.GetInt("spatial", 1) != 1) { message = Keep("spatial=0 (statistics per activation, not per channel)"); return null; }
        if (bn.GetInt("training_mode", 0) != 0) { message = Keep("training_mode=1"); return null; }
        if (bn.Outputs.Skip(1).Any(o => o.Length > 0 && (graph.UseCount(o) > 0 || graph.IsGraphOutput(o))))
        { message = Keep("its mean/variance outputs are used"); return null; }

        var p = Enumerable.Range(1, 4).Select(k => graph.Constant(bn.Input(k))).ToArray();
        if (p.Any(t => t is null || t.Type != DataType.Float)) { message = Keep("its scale, B, mean and var are not all float constants"); return null; }
        float[] gamma = p[0]!.Floats, beta = p[1]!.Floats, mean = p[2]!.Floats, variance = p[3]!.Floats;
        int channels = gamma.Length;
        if (beta.Length != channels || mean.Length != channels || variance.Length != channels)
        { message = Keep("its parameters have different lengths"); return null; }

        string x = bn.Input(0);
        if (graph.Producer(x) is not { } producer || producer.OpType is not ("Conv" or "Gemm" or "MatMul") || producer.Domain.Length > 0)
        {
            message = Keep($"its input '{x}' is not produced by a Conv, Gemm or MatMul");
            return null;
        }
        if (graph.UseCount(x) != 1 || graph.IsGraphOutput(x)) { message = Keep($"'{x}' is also read by another node or is a graph output"); return null; }
        if (FusedActivationAttributes.Has(producer)) { message = Keep($"'{producer.Label}' already applies an activation"); return null; }
        if (producer.Output0 != x) { message = Keep($"'{x}' is not the first output of '{producer.Label}'"); return null; }

        // s = γ/√(σ²+ε), shift = β − μ·s; computed in double, stored as float.
        double epsilon = bn.GetFloat("epsilon", 1e-5f);
        var scale = new double[channels];
        var shift = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
            shift[c] = beta[c] - mean[c] * scale[c];
        }

        Node? replacement = producer.OpType switch
        {
            "Conv" => FoldIntoConv(ref graph, producer, scale, shift, out message),
            "Gemm" => FoldIntoGemm(ref graph, producer, scale, shift, out message),
            _ => FoldIntoMatMul(ref graph, producer, scale, shift, out message),
        };
        if (replacement is null)
        {
            message = Keep(message);
            return null;
        }
        int at = graph.IndexOf(producer);
        graph = graph.ReplaceNodeAt(at, replacement.WithOutput(0, bn.Output0));
        graph = graph.RemoveNodeAt(graph.IndexOf(bn)) with { Values = graph.Values.Remove(x) };
        return graph;
    }

    /// <summary>Conv: W[M, C/g, k…] scaled per output channel (dim 0); the bias (added when missing) becomes b·s + shift.</summary>
    static Node? FoldIntoConv(ref Graph graph, Node conv, double[] scale, double[] shift, out string message)
    {
        if (graph.Constant(conv.Input(1)) is not { Type: DataType.Float } w) { message = "the Conv weight is not a float constant"; return null; }
        int m = (int)w.Dims[0];
        if (m != scale.Length) { message = $"the Conv has {m} output channels but the BatchNormalization {scale.Length}"; return null; }
        float[]? bias = null;
        if (conv.HasInput(2))
        {
            if (graph.Constant(conv.Input(2)) is not { Type: DataType.Float } b || b.ElementCount != m) { message = "the Conv bias is not a float constant"; return null; }
            bias = b.Floats;
        }
        float[] weights = w.Floats;
        long block = w.ElementCount / m;
        var newWeights = new float[weights.Length];
        for (long j = 0; j < weights.Length; j++) newWeights[j] = (float)(weights[j] * scale[j / block]);
        var newBias = new float[m];
        for (int c = 0; c < m; c++) newBias[c] = (float)((bias?[c] ?? 0.0) * scale[c] + shift[c]);

        var wName = Add(ref graph, $"{w.Name}_bnfold", w.Dims, newWeights);
        var bName = Add(ref graph, conv.HasInput(2) ? $"{conv.Input(2)}_bnfold" : $"{w.Name}_bnfold_bias", [m], newBias);
        message = $"folded into Conv '{conv.Label}': weight '{wName}'{w.Shape} scaled per output channel, bias '{bName}'" +
                  (conv.HasInput(2) ? "" : " added");
        return conv.WithInput(1, wName).WithInput(2, bName);
    }

    /// <summary>
    /// Gemm: the output features are B's columns (rows with transB=1), scaled by s; C becomes beta·C·s + shift
    /// (broadcast to the features) and beta becomes 1.
    /// </summary>
    static Node? FoldIntoGemm(ref Graph graph, Node gemm, double[] scale, double[] shift, out string message)
    {
        if (graph.Constant(gemm.Input(1)) is not { Type: DataType.Float, Dims.Length: 2 } b) { message = "the Gemm B is not a rank-2 float constant"; return null; }
        bool transB = gemm.GetInt("transB", 0) != 0;
        int n = (int)b.Dims[transB ? 0 : 1];
        if (n != scale.Length) { message = $"the Gemm has {n} output features but the BatchNormalization {scale.Length}"; return null; }
        double betaAttr = gemm.GetFloat("beta", 1f);

        Tensor? c = null;
        if (gemm.HasInput(2) && (c = graph.Constant(gemm.Input(2))) is not { Type: DataType.Float }) { message = "the Gemm C is not a float constant"; return null; }
        if (!TryScaleBias(c, n, betaAttr, scale, shift, out var newC, out var cDims)) { message = $"the Gemm C {c?.Shape} does not broadcast to the {n} output features"; return null; }

        var newB = ScaleFeatures(b.Floats, (int)b.Dims[0], (int)b.Dims[1], scale, featuresAreRows: transB);
        var bName = Add(ref graph, $"{b.Name}_bnfold", b.Dims, newB);
        var cName = Add(ref graph, c is null ? $"{b.Name}_bnfold_bias" : $"{c.Name}_bnfold", cDims, newC);
        message = $"folded into Gemm '{gemm.Label}': B '{bName}'{b.Shape} scaled per output feature{(transB ? " (rows, transB=1)" : " (columns)")}, " +
                  $"C '{cName}'{(c is null ? " added" : "")}";
        return gemm.WithInput(1, bName).WithInput(2, cName).WithAttribute("beta", AttributeValue.Of(1f));
    }

    /// <summary>MatMul [M,K]×[K,N] with constant B: becomes Gemm(A, B·s, shift), since BN's channels are the N output features.</summary>
    static Node? FoldIntoMatMul(ref Graph graph, Node matmul, double[] scale, double[] shift, out string message)
    {
        if (graph.Constant(matmul.Input(1)) is not { Type: DataType.Float, Dims.Length: 2 } b) { message = "the MatMul B is not a rank-2 float constant"; return null; }
        var a = graph.Constant(matmul.Input(0))?.Shape ?? graph.Value(matmul.Input(0))?.Shape;
        if (a is null || a.Rank != 2) { message = $"the MatMul A has shape {a?.ToString() ?? "?"}; only [M,K] × [K,N] folds (BN normalizes axis 1)"; return null; }
        int n = (int)b.Dims[1];
        if (n != scale.Length) { message = $"the MatMul has {n} output features but the BatchNormalization {scale.Length}"; return null; }
        var newB = ScaleFeatures(b.Floats, (int)b.Dims[0], n, scale, featuresAreRows: false);
        var bName = Add(ref graph, $"{b.Name}_bnfold", b.Dims, newB);
        var cName = Add(ref graph, $"{b.Name}_bnfold_bias", [n], shift.Select(v => (float)v).ToArray());
        message = $"folded into MatMul '{matmul.Label}', which becomes a Gemm with B '{bName}'{b.Shape} scaled per column and bias '{cName}'";
        return Node.Create(matmul.Name, "Gemm", [matmul.Input(0), bName, cName], matmul.Outputs);
    }

    static float[] ScaleFeatures(float[] b, int rows, int cols, double[] scale, bool featuresAreRows)
    {
        var result = new float[b.Length];
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
                result[r * cols + col] = (float)(b[r * cols + col] * scale[featuresAreRows ? r : col]);
        return result;
    }

    /// <summary>beta·C·s + shift, with C broadcast against the feature axis (last); null C is zero.</summary>
    static bool TryScaleBias(Tensor? c, int n, double beta, double[] scale, double[] shift, out float[] result, out ImmutableArray<long> dims)
    {
        var cDims = c?.Dims ?? [];
        dims = cDims.Length switch
        {
            0 => [n],
            1 when cDims[0] == n || cDims[0] == 1 => [n],
            2 when cDims[1] == n || cDims[1] == 1 => [cDims[0], n],
            _ => default,
        };
        if (dims.IsDefault) { result = []; return false; }
        var values = c?.Floats ?? [];
        long count = dims.Aggregate(1L, (x, d) => x * d);
        var indices = c is null ? null : TensorData.BroadcastIndices(cDims, dims);
        result = new float[count];
        for (long i = 0; i < count; i++)
        {
            int feature = (int)(i % n);
            double value = indices is null ? 0 : values[indices[i]];
            result[i] = (float)(beta * value * scale[feature] + shift[feature]);
        }
        return true;
    }

    static string Add(ref Graph graph, string hint, ImmutableArray<long> dims, float[] data)
    {
        string name = graph.UniqueValueName(hint);
        graph = graph.WithInitializer(new Tensor(name, DataType.Float, dims, data));
        return name;
    }
}
