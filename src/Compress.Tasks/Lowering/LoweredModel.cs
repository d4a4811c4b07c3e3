using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering;

/// <summary>The lowering's result: the plan and the weights blob its <c>weights</c> spans point into.</summary>
/// <param name="Plan">The plan (write it with <see cref="PlanJsonWriter"/>).</param>
/// <param name="Weights">Little-endian constants, every tensor at a 64-byte-aligned offset; embed as <c>Plan.Weights.Resource</c>.</param>
public sealed record LoweredModel(ModelPlan Plan, byte[] Weights);
