using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering;

/// <summary>
/// Where a value's u8 (quantised) representation lives in a quantised plan, what it means, and from when it holds the
/// value: real = <see cref="QuantParams.Scale"/> · (q − <see cref="QuantParams.ZeroPoint"/>).
/// </summary>
/// <param name="Location">An <c>arena</c> span of element type <c>u8</c>, the whole value.</param>
/// <param name="Parameters">The scale and zero point the kernel wrote it with.</param>
/// <param name="ReadyAfterStep">
/// The plan step after which the span holds the value: the step that wrote it (the producing int8 kernel, or the
/// <c>QuantizeF32</c> placed before its first int8 reader); for an alias (Flatten, Reshape… on u8) its input's.
/// </param>
public sealed record U8ValueLocation(SpanArg Location, QuantParams Parameters, int ReadyAfterStep);
