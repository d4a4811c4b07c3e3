using System.Collections.Frozen;
using Compress.Runtime;
using Compress.Runtime.Kernels;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

/// <summary>
/// Runs a <see cref="ModelPlan"/> the way the generated class does — the same <c>Compress.Runtime</c> kernels, called
/// in the same order with the same arguments, over a <see cref="ModelWeights"/> blob and an <see cref="Arena"/> — so
/// what validation measures is what the user's program computes. Each <c>call</c> name maps to an entry of a
/// dispatch table that decodes the arguments and calls the kernel.
/// </summary>
/// <remarks>
/// The arena is allocated once and reused across <see cref="Run"/> calls, like a generated instance's. Unlike the
/// generated code, the interpreter fills the arena (once) and every output (per run) with NaN first, so a plan or
/// kernel that reads memory nobody wrote shows up as NaN in validation instead of passing by luck on zeros.
/// </remarks>
public sealed class PlanInterpreter
{
    readonly ModelWeights _weights;
    readonly Arena _arena;
    readonly PlanFrame.Step[] _steps;

    /// <exception cref="InvalidOperationException">
    /// A step calls a kernel the interpreter does not know, or its arguments do not fit the kernel's signature,
    /// or a span lies outside its buffer.
    /// </exception>
    public PlanInterpreter(ModelPlan plan, byte[] weights) : this(plan, (ReadOnlySpan<byte>)weights) { }

    /// <inheritdoc cref="PlanInterpreter(ModelPlan, byte[])"/>
    public PlanInterpreter(ModelPlan plan, ReadOnlySpan<byte> weights)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Version != ModelPlan.CurrentVersion)
            throw new InvalidOperationException($"Plan version {plan.Version} is not supported (expected {ModelPlan.CurrentVersion}).");
        if (weights.Length != plan.Weights.Bytes)
            throw new InvalidOperationException($"The weights blob has {weights.Length} bytes but the plan expects {plan.Weights.Bytes}.");
        Plan = plan;
        _weights = ModelWeights.FromBytes(weights);
        _arena = new Arena(plan.ArenaFloats);
        _arena.Span.Fill(float.NaN);
        _steps = new PlanFrame.Step[plan.Steps.Count];
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            var step = plan.Steps[s];
            if (!Table.TryGetValue(step.Call, out var overloads))
                throw new InvalidOperationException(
                    $"Step {s} ('{step.Node}') calls '{step.Call}', which the plan interpreter does not know. Known calls: {string.Join(", ", SupportedCalls)}.");
            // Overloads differ in their argument count, as C# overload resolution in the generated code sees them.
            var entry = overloads.FirstOrDefault(o => o.Arity == step.Args.Count) ?? overloads[0];
            _steps[s] = PlanFrame.Decode(plan, s, entry.Signature, entry.Run, _weights.F32.Length);
        }
    }

    /// <summary>The plan being run.</summary>
    public ModelPlan Plan { get; }

    /// <summary>Every <c>call</c> name the interpreter can run.</summary>
    public static IReadOnlyCollection<string> SupportedCalls => Table.Keys;

    /// <summary>Runs one sample (batch 1): one array per plan input in order; returns one array per plan output.</summary>
    /// <exception cref="ArgumentException">Wrong number of inputs or wrong input lengths.</exception>
    public float[][] Run(float[][] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != Plan.Inputs.Count)
            throw new ArgumentException($"The plan has {Plan.Inputs.Count} inputs but {inputs.Length} were given.", nameof(inputs));
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null || inputs[i].Length != Plan.Inputs[i].Length)
                throw new ArgumentException($"Input {i} ('{Plan.Inputs[i].Name}') must have {Plan.Inputs[i].Length} values, it has {inputs[i]?.Length}.", nameof(inputs));

        var outputs = Plan.Outputs.Select(o => { var a = new float[o.Length]; a.AsSpan().Fill(float.NaN); return a; }).ToArray();
        var frame = new PlanFrame(inputs, outputs, _arena, _weights);
        for (int s = 0; s < _steps.Length; s++)
        {
            frame.Current = _steps[s];
            try
            {
                _steps[s].Run(frame);
            }
            catch (Exception e)
            {
                var step = Plan.Steps[s];
                throw new InvalidOperationException($"Step {s} ('{step.Node}', {step.Call}) failed: {e.Message}", e);
            }
        }
        return outputs;
    }

    sealed record Entry(string Signature, Action<PlanFrame> Run)
    {
        public int Arity { get; } = Signature.Split(' ').Length;
    }

    /// <summary>
    /// The dispatch table: call name → argument signature and invocation. Signature tokens, one per argument: <c>r</c> a
    /// span the kernel reads (input, output, arena, weights or empty), <c>w</c> a span it writes (output, arena or
    /// empty), <c>int</c>, <c>float</c>, <c>bool</c>, or the name of a <c>Compress.Runtime</c> enum or struct.
    /// </summary>
    static readonly FrozenDictionary<string, Entry[]> Table = new Dictionary<string, Entry[]>
    {
        [PlanCalls.Gemv] = [new("r r r w int int FusedActivation",
            f => GemmF32.Gemv(f.R(0), f.R(1), f.R(2), f.W(3), f.Int(4), f.Int(5), f.Value<FusedActivation>(6)))],
        [PlanCalls.Gemm] = [new("r r r w int int int FusedActivation",
            f => GemmF32.Gemm(f.R(0), f.R(1), f.R(2), f.W(3), f.Int(4), f.Int(5), f.Int(6), f.Value<FusedActivation>(7)))],
        [PlanCalls.Conv2d] = [new("r r r w w Conv2dShape FusedActivation",
            f => Conv2dF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.W(4), f.Value<Conv2dShape>(5), f.Value<FusedActivation>(6)))],
        [PlanCalls.DepthwiseConv2d] = [new("r r r w w Conv2dShape FusedActivation",
            f => DepthwiseConv2dF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.W(4), f.Value<Conv2dShape>(5), f.Value<FusedActivation>(6)))],
        [PlanCalls.MaxPool] = [new("r w Pool2dShape",
            f => PoolF32.Max(f.R(0), f.W(1), f.Value<Pool2dShape>(2)))],
        [PlanCalls.AveragePool] =
        [
            new("r w Pool2dShape bool", f => PoolF32.Average(f.R(0), f.W(1), f.Value<Pool2dShape>(2), f.Bool(3))),
            new("r w Pool2dShape bool int int", f => PoolF32.Average(f.R(0), f.W(1), f.Value<Pool2dShape>(2), f.Bool(3), f.Int(4), f.Int(5))),
        ],
        [PlanCalls.GlobalAveragePool] = [new("r w int int",
            f => PoolF32.GlobalAverage(f.R(0), f.W(1), f.Int(2), f.Int(3)))],
        [PlanCalls.Binary] = [new("BinaryOp r r w Broadcast4 FusedActivation",
            f => BinaryF32.Run(f.Value<BinaryOp>(0), f.R(1), f.R(2), f.W(3), f.Value<Broadcast4>(4), f.Value<FusedActivation>(5)))],
        [PlanCalls.Activation] = [new("r w FusedActivation",
            f => ActivationF32.Apply(f.R(0), f.W(1), f.Value<FusedActivation>(2)))],
        [PlanCalls.Softmax] = [new("r w int int int",
            f => SoftmaxF32.Run(f.R(0), f.W(1), f.Int(2), f.Int(3), f.Int(4)))],
        [PlanCalls.ChannelAffine] = [new("r r r w int int int FusedActivation",
            f => ChannelAffineF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.Int(4), f.Int(5), f.Int(6), f.Value<FusedActivation>(7)))],
        [PlanCalls.CopyRows] = [new("r w int int int int",
            f => CopyF32.Rows(f.R(0), f.W(1), f.Int(2), f.Int(3), f.Int(4), f.Int(5)))],
        [PlanCalls.Permute] = [new("r w Permute6",
            f => CopyF32.Permute(f.R(0), f.W(1), f.Value<Permute6>(2)))],
    }.ToFrozenDictionary(StringComparer.Ordinal);
}
