namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Weight-only int4 (the ONNX Runtime MatMulNBits idea; block-wise symmetric 4-bit weights as in GPTQ, Frantar et al.
/// 2023, without its error-compensating updates): Gemm/MatMul weights in blocks of <see cref="QuantizeOptions.Int4BlockSize"/>
/// along k, one scale per output channel per block, f32 activations. Each node decides alone with the cost model.
/// </summary>
public static class Int4WeightOnlyPlanner
{
    public static QuantizationResult Plan(Graph graph, QuantizeOptions options) =>
        WeightOnlyPlanning.Plan(graph, options, NodePrecision.Int4, "int4",
            (model, s) => model.Int4(s),
            c => WeightQuantizer.Int4Blockwise(graph.Constant(c.Weight!)!, c.ChannelAxis, options.Int4BlockSize),
            nameof(QuantizeMode.Int4));
}
