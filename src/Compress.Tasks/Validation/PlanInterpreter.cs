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
/// The arena is allocated once and reused across runs, like a generated instance's (so an instance is not
/// thread-safe). Unlike the generated code, the interpreter fills the arena (once) and every output (per run) with NaN
/// first, so a plan or kernel that reads memory nobody wrote shows up as NaN in validation instead of passing by luck
/// on zeros.
/// </remarks>
public sealed partial class PlanInterpreter
{
    readonly ModelWeights _weights;
    readonly Arena _arena;
    readonly PlanFrame.Step[] _steps;
    readonly PlanFrame _frame;
    readonly Frame _view;

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
        _frame = new PlanFrame(_arena, _weights);
        _view = new Frame(_frame);
        _steps = new PlanFrame.Step[plan.Steps.Count];
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            var step = plan.Steps[s];
            if (!Table.TryGetValue(step.Call, out var overloads))
                throw new InvalidOperationException(
                    $"Step {s} ('{step.Node}') calls '{step.Call}', which the plan interpreter does not know. Known calls: {string.Join(", ", SupportedCalls)}.");
            // Overloads differ in their argument count, as C# overload resolution in the generated code sees them.
            var entry = overloads.FirstOrDefault(o => o.Arity == step.Args.Count) ?? overloads[0];
            _steps[s] = PlanFrame.Decode(plan, s, entry.Signature, entry.Run, _weights.ByteLength);
        }
    }

    /// <summary>The plan being run.</summary>
    public ModelPlan Plan { get; }

    /// <summary>Every <c>call</c> name the interpreter can run.</summary>
    public static IReadOnlyCollection<string> SupportedCalls => Table.Keys;

    /// <summary>
    /// The argument positions <paramref name="call"/> writes (outputs and scratch: its <c>w…</c> signature tokens) for a
    /// step with <paramref name="arity"/> arguments, or null when the call is unknown.
    /// </summary>
    public static IReadOnlyList<int>? WrittenArguments(string call, int arity) =>
        Table.TryGetValue(call, out var entries) && entries.FirstOrDefault(e => e.Arity == arity) is { } entry
            ? entry.Signature.Split(' ').Select((t, i) => (t, i)).Where(p => p.t.StartsWith('w')).Select(p => p.i).ToArray()
            : null;

    /// <summary>Runs one sample (batch 1): one array per plan input in order; returns one array per plan output.</summary>
    /// <exception cref="ArgumentException">Wrong number of inputs or wrong input lengths.</exception>
    public float[][] Run(float[][] inputs) => Run(inputs, null);

    /// <summary>
    /// <see cref="Run(float[][])"/>, calling <paramref name="observer"/> with −1 before the first step and with each
    /// step's index after it runs; the <see cref="Frame"/> it gets reads any value's current contents.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of inputs or wrong input lengths.</exception>
    public float[][] Run(float[][] inputs, Action<int, Frame>? observer)
    {
        CheckInputs(inputs);
        var outputs = new float[Plan.Outputs.Count][];
        for (int o = 0; o < outputs.Length; o++) outputs[o] = new float[Plan.Outputs[o].Length];
        RunInto(inputs, outputs, observer);
        return outputs;
    }

    /// <summary>
    /// Runs one sample into caller-owned <paramref name="outputs"/> (one array per plan output, filled with NaN first)
    /// without allocating, calling <paramref name="observer"/> with −1 before the first step (inputs bound, nothing
    /// computed) and with each step's index after it runs. The observer reads values through the <see cref="Frame"/>,
    /// which is valid only during the call; exceptions it throws propagate unchanged.
    /// </summary>
    /// <remarks>
    /// A value's contents are in its location (<see cref="Lowering.LoweredModel.ValueLocations"/>) from the step
    /// <see cref="Lowering.LoweredModel.ValueReadyAfterStep"/> names until a later step reuses the memory, so read it
    /// at that step. Repeated runs allocate nothing (the observer's own allocations aside), so calibration over any
    /// number of samples runs in flat memory.
    /// </remarks>
    /// <exception cref="ArgumentException">Wrong number or lengths of inputs or outputs.</exception>
    public void RunInto(float[][] inputs, float[][] outputs, Action<int, Frame>? observer = null)
    {
        CheckInputs(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Length != Plan.Outputs.Count)
            throw new ArgumentException($"The plan has {Plan.Outputs.Count} outputs but {outputs.Length} arrays were given.", nameof(outputs));
        for (int o = 0; o < outputs.Length; o++)
        {
            if (outputs[o] is null || outputs[o].Length != Plan.Outputs[o].Length)
                throw new ArgumentException($"Output {o} ('{Plan.Outputs[o].Name}') must have {Plan.Outputs[o].Length} values, it has {outputs[o]?.Length}.", nameof(outputs));
            outputs[o].AsSpan().Fill(float.NaN);
        }

        _frame.Inputs = inputs;
        _frame.Outputs = outputs;
        try
        {
            observer?.Invoke(-1, _view);
            for (int s = 0; s < _steps.Length; s++)
            {
                _frame.Current = _steps[s];
                try
                {
                    _steps[s].Run(_frame);
                }
                catch (Exception e)
                {
                    var step = Plan.Steps[s];
                    throw new InvalidOperationException($"Step {s} ('{step.Node}', {step.Call}) failed: {e.Message}", e);
                }
                observer?.Invoke(s, _view);
            }
        }
        finally
        {
            // Do not keep the caller's arrays alive through the reused frame.
            _frame.Inputs = [];
            _frame.Outputs = [];
        }
    }

    void CheckInputs(float[][] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != Plan.Inputs.Count)
            throw new ArgumentException($"The plan has {Plan.Inputs.Count} inputs but {inputs.Length} were given.", nameof(inputs));
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null || inputs[i].Length != Plan.Inputs[i].Length)
                throw new ArgumentException($"Input {i} ('{Plan.Inputs[i].Name}') must have {Plan.Inputs[i].Length} values, it has {inputs[i]?.Length}.", nameof(inputs));
    }

    /// <summary>
    /// An observer's view of a run in progress (<see cref="RunInto"/>): reads the current contents of any span of the
    /// plan — typically a value's location from <see cref="Lowering.LoweredModel.ValueLocations"/>. One instance per
    /// interpreter, reused across steps and runs; valid only while the observer is being called.
    /// </summary>
    public sealed class Frame
    {
        readonly PlanFrame _frame;

        internal Frame(PlanFrame frame) => _frame = frame;

        /// <summary>The current contents of <paramref name="location"/> (input, output, arena, or f32 weights), without copying.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The span lies outside its buffer.</exception>
        /// <exception cref="ArgumentException">The span is not float32 data (a u8 arena span, int weights).</exception>
        public ReadOnlySpan<float> Read(SpanArg location)
        {
            ArgumentNullException.ThrowIfNull(location);
            if (!location.IsFloat) throw new ArgumentException($"{location} is not float32 data.", nameof(location));
            return _frame.Read(location);
        }

        /// <summary>The current contents of a <c>u8</c> span (a quantised value in the arena, or u8 weights), without copying.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The span lies outside its buffer.</exception>
        /// <exception cref="ArgumentException">The span is not u8 data.</exception>
        public ReadOnlySpan<byte> ReadU8(SpanArg location)
        {
            ArgumentNullException.ThrowIfNull(location);
            if (location.ElementType != SpanArg.U8 || location.Source is not (SpanSource.Arena or SpanSource.Weights))
                throw new ArgumentException($"{location} is not u8 data.", nameof(location));
            return _frame.ReadU8(location);
        }
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
        [PlanCalls.SparseGemv] = [new("r r ru16 ri32 r w int int FusedActivation",
            f => SparseGemmF32.Gemv(f.R(0), f.R(1), f.RU16(2), f.RI32(3), f.R(4), f.W(5), f.Int(6), f.Int(7), f.Value<FusedActivation>(8)))],
        [PlanCalls.SparseGemm] = [new("r r ru16 ri32 r w int int int FusedActivation",
            f => SparseGemmF32.Gemm(f.R(0), f.R(1), f.RU16(2), f.RI32(3), f.R(4), f.W(5), f.Int(6), f.Int(7), f.Int(8), f.Value<FusedActivation>(9)))],
        [PlanCalls.NmGemv] = [new("r r ru16 r w int int int int FusedActivation",
            f => NmGemmF32.Gemv(f.R(0), f.R(1), f.RU16(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Int(7), f.Int(8), f.Value<FusedActivation>(9)))],
        [PlanCalls.NmGemm] = [new("r r ru16 r w int int int int int FusedActivation",
            f => NmGemmF32.Gemm(f.R(0), f.R(1), f.RU16(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Int(7), f.Int(8), f.Int(9), f.Value<FusedActivation>(10)))],
        [PlanCalls.BlockSparseGemv] = [new("r r ru16 ri32 r w int int int int FusedActivation",
            f => BlockSparseGemmF32.Gemv(f.R(0), f.R(1), f.RU16(2), f.RI32(3), f.R(4), f.W(5), f.Int(6), f.Int(7), f.Int(8), f.Int(9), f.Value<FusedActivation>(10)))],
        [PlanCalls.BlockSparseGemm] = [new("r r ru16 ri32 r w int int int int int FusedActivation",
            f => BlockSparseGemmF32.Gemm(f.R(0), f.R(1), f.RU16(2), f.RI32(3), f.R(4), f.W(5), f.Int(6), f.Int(7), f.Int(8), f.Int(9), f.Int(10), f.Value<FusedActivation>(11)))],
        [PlanCalls.WinogradConv2d] = [new("r r r w w Conv2dShape FusedActivation",
            f => WinogradConv2dF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.W(4), f.Value<Conv2dShape>(5), f.Value<FusedActivation>(6)))],
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
        [PlanCalls.Unary] = [new("UnaryOp r w",
            f => UnaryF32.Run(f.Value<UnaryOp>(0), f.R(1), f.W(2)))],
        [PlanCalls.Where] = [new("ru8 r r w Broadcast4",
            f => WhereF32.Run(f.RU8(0), f.R(1), f.R(2), f.W(3), f.Value<Broadcast4>(4)))],
        [PlanCalls.Reduce] = [new("ReduceOp r w int int int",
            f => ReduceF32.Run(f.Value<ReduceOp>(0), f.R(1), f.W(2), f.Int(3), f.Int(4), f.Int(5)))],
        [PlanCalls.GatherAxis] = [new("r ri32 w int int int float",
            f => GatherF32.Axis(f.R(0), f.RI32(1), f.W(2), f.Int(3), f.Int(4), f.Int(5), f.Float(6)))],
        [PlanCalls.ConvTranspose2d] = [new("r r r w w Conv2dShape",
            f => ConvTranspose2dF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.W(4), f.Value<Conv2dShape>(5)))],
        [PlanCalls.ResizeLinear] = [new("r ri32 ri32 r w int int int",
            f => ResizeF32.LinearAxis(f.R(0), f.RI32(1), f.RI32(2), f.R(3), f.W(4), f.Int(5), f.Int(6), f.Int(7)))],
        [PlanCalls.LayerNorm] = [new("r r r w int int float",
            f => LayerNormF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.Int(4), f.Int(5), f.Float(6))),
            new("r r r w w w int int float",
            f => LayerNormF32.Run(f.R(0), f.R(1), f.R(2), f.W(3), f.W(4), f.W(5), f.Int(6), f.Int(7), f.Float(8)))],
        [PlanCalls.BatchedMatMul] = [new("r r w w int int int int int int",
            f => BatchedMatMulF32.Run(f.R(0), f.R(1), f.W(2), f.W(3), f.Int(4), f.Int(5), f.Int(6), f.Int(7), f.Int(8), f.Int(9)))],
    }.Concat(QuantizedEntries).Concat(LowBitEntries).ToFrozenDictionary(StringComparer.Ordinal);
}
