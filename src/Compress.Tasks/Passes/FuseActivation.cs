using Compress.Tasks.Graph;

namespace Compress.Tasks.Passes;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Operator fusion of injective epilogues (Chen et al. 2018, "TVM", §3: fusing element-wise ops into their producer).
/// Fuses an element-wise activation (Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh) into the node that
/// produces its input (Conv, Gemm, MatMul, Add, Sub, Mul, Div, BatchNormalization), so the kernel applies it in its
/// epilogue instead of a separate pass over memory. The producer gets the <see cref="FusedActivationAttributes"/>
/// and the activation's output name. Preconditions: the intermediate value has exactly this one reader, is not a
/// graph output, is float, and the producer has no fused activation yet.
/// </summary>
public sealed class FuseActivation : IGraphPass
{
    public string Name => "FuseActivation";

    /// <summary>Ops whose kernels have an activation epilogue.</summary>
    public static IReadOnlySet<string> Producers { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "BatchNormalization",
    };

    public Graph Run(Graph graph, PassLog log)
    {
        graph = ShapeInference.EnsureInferred(graph);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var act = graph.Nodes[i];
            if (!FusedActivationAttributes.Fusable.Contains(act.OpType) || act.Domain.Length > 0) continue;
            if (Blocker(graph, act, out var producer, out float alpha, out float beta) is { } reason)
            {
                log.Add(Name, act.Label, $"kept {act.OpType}: {reason}");
                continue;
            }
            string x = act.Input(0);
            var fused = FusedActivationAttributes.Set(producer!, act.OpType, alpha, beta).WithOutput(0, act.Output0);
            graph = graph.ReplaceNodeAt(graph.IndexOf(producer!), fused);
            graph = graph.RemoveNodeAt(i) with { Values = graph.Values.Remove(x) };
            i--;
            log.Add(Name, act.Label, $"{act.OpType} fused into {producer!.OpType} '{producer.Label}'" +
                (act.OpType is "LeakyRelu" or "Clip" or "HardSigmoid" ? $" (alpha {alpha:R}, beta {beta:R})" : ""));
        }
        graph = graph.RemoveUnusedInitializers(out var removed);
        if (!removed.IsEmpty) log.Add(Name, "(graph)", $"removed {removed.Length} initializer(s) no longer used: {string.Join(", ", removed)}");
        return graph;
    }

    static string? Blocker(Graph graph, Node act, out Node? producer, out float alpha, out float beta)
    {
        alpha = beta = 0;
        producer = null;
        if (!act.HasInput(0) || act.Output0.Length == 0) return "it has no input or output";
        string x = act.Input(0);
        producer = graph.Producer(x);
        if (producer is null) return $"its input '{x}' is a graph input or constant";
        if (!Producers.Contains(producer.OpType) || producer.Domain.Length > 0)
            return $"its input comes from {producer.OpType} '{producer.Label}', which has no activation epilogue";
        if (producer.Output0 != x) return $"'{x}' is not the first output of '{producer.Label}'";
        if (graph.IsGraphOutput(x)) return $"'{x}' is a graph output";
        int uses = graph.UseCount(x);
        if (uses != 1) return $"'{x}' has {uses} readers; fusing would hide the value before the activation from the others";
        if (FusedActivationAttributes.Read(producer) is { } existing) return $"'{producer.Label}' already applies {existing.OpType}";
        if (graph.Value(x) is { } info && info.Type != DataType.Float) return $"'{x}' is {info.Type}; epilogues are float only";
        return Parameters(graph, act, out alpha, out beta);
    }

    /// <summary>The activation's (alpha, beta) as the kernels take them; a reason when they are not constant.</summary>
    static string? Parameters(Graph graph, Node act, out float alpha, out float beta)
    {
        alpha = beta = 0;
        switch (act.OpType)
        {
            case "LeakyRelu":
                alpha = act.GetFloat("alpha", 0.01f);
                break;
            case "HardSigmoid":
                alpha = act.GetFloat("alpha", 0.2f);
                beta = act.GetFloat("beta", 0.5f);
                break;
            case "Clip" when graph.Info.DefaultOpset < 11:
                alpha = act.GetFloat("min", float.NegativeInfinity);
                beta = act.GetFloat("max", float.PositiveInfinity);
                break;
            case "Clip":
                if (Bound(graph, act, 1, float.NegativeInfinity, out alpha) is { } minReason) return minReason;
                if (Bound(graph, act, 2, float.PositiveInfinity, out beta) is { } maxReason) return maxReason;
                break;
        }
        return null;
    }

    static string? Bound(Graph graph, Node clip, int input, float fallback, out float value)
    {
        value = fallback;
        if (!clip.HasInput(input)) return null;
        string what = input == 1 ? "min" : "max";
        if (graph.Constant(clip.Input(input)) is not { } t) return $"its {what} '{clip.Input(input)}' is computed at run time";
        if (t.ElementCount != 1) return $"its {what} is not a scalar";
        value = (float)TensorData.ToDoubles(t)[0];
        return null;
    }
}
