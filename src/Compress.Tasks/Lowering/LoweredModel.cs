using System.Collections.Frozen;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering;

/// <summary>The lowering's result: the plan and the weights blob its <c>weights</c> spans point into.</summary>
/// <param name="Plan">The plan (write it with <see cref="PlanJsonWriter"/>).</param>
/// <param name="Weights">Little-endian constants, every tensor at a 64-byte-aligned offset (shift records unaligned); embed as <c>Plan.Weights.Resource</c>.</param>
/// <remarks>
/// <see cref="ValueLocations"/>, <see cref="ValueReadyAfterStep"/> and <see cref="U8ValueLocations"/> are build-time facts for tools that watch the
/// plan run (calibration, per-layer error); they stay in memory and are never written into the plan JSON.
/// </remarks>
public sealed record LoweredModel(ModelPlan Plan, byte[] Weights)
{
    /// <summary>
    /// Where each graph value lives: graph input and node output name → the span of its whole storage (an
    /// <c>input</c>, <c>output</c> or <c>arena</c> span, rarely <c>weights</c> for an alias of a constant). Values
    /// that share storage (Reshape/Flatten aliases, activations computed in place) map to the same span. Constants,
    /// and node outputs no step touches (unused extra outputs), are absent.
    /// </summary>
    /// <remarks>
    /// The arena is reused, so the span holds the value only from the step <see cref="ValueReadyAfterStep"/> names
    /// until a later step overwrites it (another buffer placed there, or an in-place op on the same storage): read
    /// it right after that step (<see cref="Validation.PlanInterpreter.RunInto"/> with an observer).
    /// </remarks>
    public IReadOnlyDictionary<string, SpanArg> ValueLocations { get; init; } = FrozenDictionary<string, SpanArg>.Empty;

    /// <summary>
    /// For every key of <see cref="ValueLocations"/>: the index of the plan step after which its storage holds the
    /// value's final contents: the producing node's last step (its fused activation included), or for a node
    /// without steps (an alias) the last step before it; −1 for graph inputs (and aliases lowered before any step).
    /// </summary>
    public IReadOnlyDictionary<string, int> ValueReadyAfterStep { get; init; } = FrozenDictionary<string, int>.Empty;

    /// <summary>
    /// Quantised plans: every value with a u8 representation (written by an int8 kernel, quantised for an int8 reader,
    /// or aliased) → where it lives, its parameters and the step after which it is ready. A value produced in u8 and
    /// never dequantised has no <see cref="ValueLocations"/> entry, only this one. Empty for fp32 plans.
    /// </summary>
    public IReadOnlyDictionary<string, U8ValueLocation> U8ValueLocations { get; init; } = FrozenDictionary<string, U8ValueLocation>.Empty;
}
