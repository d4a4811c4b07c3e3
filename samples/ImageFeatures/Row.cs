using System.Text.Json.Serialization;

namespace ImageFeatures;

/// <summary>
/// One result row, in samples/Digits' contract with <c>cosine</c> in place of <c>accuracy</c>. The JSON keys are a
/// contract: add keys, never rename. cosine is the mean cosine similarity of the row's 512 features to ONNX Runtime's
/// fp32 features of the original model over the evaluation images (cosine_min the least); agreement is the percentage
/// of images whose largest feature is the same channel as ONNX Runtime fp32's (there are no labels); ort_int8_cosine is
/// the same mean cosine for ONNX Runtime on the build's QDQ export (int8 rows only). Latencies are median microseconds
/// per batch-1 call on the clock named by clock (thread_cpu: the calling thread's CPU time, which a loaded
/// machine does not inflate; wall elsewhere); ort_int8_latency_us is ONNX Runtime on the build's QDQ export (int8 rows only, null elsewhere);
/// sparsity is the fraction (0–1) of zero Conv weights and macs the multiply-accumulates per image.
/// </summary>
public sealed record Row(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("cosine")] double Cosine,
    [property: JsonPropertyName("weights_bytes")] long WeightsBytes,
    [property: JsonPropertyName("latency_us")] double LatencyUs,
    [property: JsonPropertyName("ort_fp32_latency_us")] double OrtFp32LatencyUs,
    [property: JsonPropertyName("alloc_bytes_per_run")] long AllocBytesPerRun,
    [property: JsonPropertyName("ort_int8_latency_us")] double? OrtInt8LatencyUs,
    [property: JsonPropertyName("agreement")] double Agreement,
    [property: JsonPropertyName("sparsity")] double Sparsity,
    [property: JsonPropertyName("macs")] long Macs,
    [property: JsonPropertyName("cosine_min")] double CosineMin,
    [property: JsonPropertyName("ort_int8_cosine")] double? OrtInt8Cosine,
    [property: JsonPropertyName("clock")] string Clock);

[JsonSerializable(typeof(Row))]
internal sealed partial class RowJson : JsonSerializerContext;
