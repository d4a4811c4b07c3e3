namespace Compress.Tasks.Quantization;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>
/// Dynamic int8 (Jacob et al., CVPR 2018, with the activation parameters chosen per call instead of calibrated — the
/// ONNX DynamicQuantizeLinear / MatMulInteger scheme): Gemm/MatMul weights s8 symmetric per output channel; each call
/// quantises its input to u8 over [min(x,0), max(x,0)], multiplies in s32 and scales back to f32. Activations stay f32
/// between nodes, so every node decides alone: int8 when the cost model's estimate (per-call quantisation included)
/// is below fp32.
/// </summary>
public static class DynamicInt8Planner
{
    public static QuantizationResult Plan(Graph graph, QuantizeOptions options) =>
        WeightOnlyPlanning.Plan(graph, options, NodePrecision.Int8Dynamic, "int8 (dynamic)",
            (model, s) => model.Int8Dynamic(s),
            c => WeightQuantizer.Int8PerChannel(graph.Constant(c.Weight!)!, c.ChannelAxis),
            nameof(QuantizeMode.Int8Dynamic));
}
