using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Refuses a model that is already quantised (ONNX QDQ or QOperator format, ONNX Runtime's integer and n-bit contrib
/// ops, or integer weights feeding a MatMul/Gemm/Conv): quantising twice would compound the error, and Compress reads
/// fp32 models. Works on the graph as loaded (before canonicalisation, which would reject these ops as unsupported with
/// a less helpful CMP004) and on canonical graphs.
/// </summary>
public static class QuantizedModelCheck
{
    /// <summary>Op types (any domain) that only a quantised model contains; every <c>QLinear*</c> op counts too.</summary>
    public static ImmutableSortedSet<string> QuantizedOps { get; } = ImmutableSortedSet.Create(StringComparer.Ordinal,
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
        "QGemm", "QAttention", "QEmbedLayerNormalization", "DynamicQuantizeMatMul", "DynamicQuantizeLSTM",
        "MatMulIntegerToFloat", "MatMulNBits", "MatMulBnb4", "GatherBlockQuantized", "QOrderedMatMul", "QuickGelu_Quantized");

    /// <summary>Ops whose weight, when an integer tensor, marks a quantised model.</summary>
    static readonly ImmutableHashSet<string> WeightReaders = ImmutableHashSet.Create(StringComparer.Ordinal, "MatMul", "Gemm", "Conv", "ConvTranspose");

    /// <exception cref="CompressException">CMP013 naming the first node that shows the model is quantised.</exception>
    public static void ThrowIfQuantized(Graph graph)
    {
        if (Find(graph) is { } found)
            throw new CompressException(ErrorCodes.AlreadyQuantized,
                $"The model is already quantised: node '{found.Node.Label}' ({found.Why}). Compress quantises fp32 models; " +
                "give it the original fp32 model (before QDQ/QOperator quantisation) and set Quantize on that.");
    }

    /// <summary>The first node showing the model is quantised, with why; null for an fp32 model.</summary>
    public static (Node Node, string Why)? Find(Graph graph)
    {
        foreach (var node in graph.Nodes)
        {
            if (QuantizedOps.Contains(node.OpType) || node.OpType.StartsWith("QLinear", StringComparison.Ordinal))
                return (node, $"{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType} is a quantisation op");
        }
        // Integer initializers reaching a MatMul/Gemm/Conv, directly or through a few element-wise/shape ops (Cast, Mul, Reshape…).
        foreach (var tensor in graph.Initializers.Values.Where(t => IsQuantizedType(t.Type)).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var frontier = new List<string> { tensor.Name };
            for (int depth = 0; depth < 4 && frontier.Count > 0; depth++)
            {
                var next = new List<string>();
                foreach (var value in frontier)
                    foreach (var consumer in graph.Consumers(value))
                    {
                        if (WeightReaders.Contains(consumer.OpType))
                            return (consumer, $"it reads the {tensor.Type} initializer '{tensor.Name}'{(depth > 0 ? " through " + depth + " op(s)" : "")} as a weight");
                        next.AddRange(consumer.Outputs.Where(o => o.Length > 0));
                    }
                frontier = next;
            }
        }
        return null;
    }

    /// <summary>Int8, UInt8 and the 4-bit types (UINT4 21, INT4 22).</summary>
    static bool IsQuantizedType(DataType type) => type is DataType.Int8 or DataType.UInt8 or (DataType)21 or (DataType)22;
}
