using System.Text.Json.Serialization;

namespace Digits;

/// <summary>
/// One result row. The JSON keys are a contract (CI and the issues read them): add keys, never rename.
/// accuracy is in percent of the 500 test digits; latencies are median microseconds per batch-1 call.
/// </summary>
public sealed record Row(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("weights_bytes")] long WeightsBytes,
    [property: JsonPropertyName("latency_us")] double LatencyUs,
    [property: JsonPropertyName("ort_fp32_latency_us")] double OrtFp32LatencyUs,
    [property: JsonPropertyName("alloc_bytes_per_run")] long AllocBytesPerRun);

[JsonSerializable(typeof(Row))]
internal sealed partial class RowJson : JsonSerializerContext;
