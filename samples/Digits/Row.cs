using System.Text.Json.Serialization;

namespace Digits;

/// <summary>
/// One result row. The JSON keys are a contract (CI and the issues read them): add keys, never rename.
/// accuracy and agreement (top-1 agreement with the model's fp32 variant) are in percent of the 500 test digits;
/// latencies are median microseconds per batch-1 call; ort_int8_latency_us is ONNX Runtime on the build's QDQ export
/// (static int8 rows only, null elsewhere); sparsity is the fraction (0–1) of zero weights in the Conv/Gemm/MatMul
/// layers and macs their multiply-accumulates per sample counting only non-zero weights.
/// </summary>
public sealed record Row(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("weights_bytes")] long WeightsBytes,
    [property: JsonPropertyName("latency_us")] double LatencyUs,
    [property: JsonPropertyName("ort_fp32_latency_us")] double OrtFp32LatencyUs,
    [property: JsonPropertyName("alloc_bytes_per_run")] long AllocBytesPerRun,
    [property: JsonPropertyName("ort_int8_latency_us")] double? OrtInt8LatencyUs,
    [property: JsonPropertyName("agreement")] double Agreement,
    [property: JsonPropertyName("sparsity")] double Sparsity,
    [property: JsonPropertyName("macs")] long Macs);

[JsonSerializable(typeof(Row))]
internal sealed partial class RowJson : JsonSerializerContext;
