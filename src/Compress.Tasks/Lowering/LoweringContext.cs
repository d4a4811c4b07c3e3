using System.Globalization;
using Compress.Runtime;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering;

/// <summary>
/// What an <see cref="IOpLowerer"/> works with: shapes (batch dim as 1), constants, and the emitters for kernel
/// calls, weights, scratch and aliases. It also owns value storage: every value belongs to a storage group (values
/// that share memory: aliases such as Reshape outputs, and activations computed in place); a group lives in a
/// graph input, a graph output, the weights, or the arena, where <see cref="ModelLowering"/> places it afterwards
/// from the steps' reads and writes. A value may also have a u8 (quantised) representation in its own group
/// (LoweringContext.Quantized.cs); an arena group holds floats unless it says otherwise.
/// </summary>
public sealed partial class LoweringContext
{
    enum Pin { Arena, Input, Output, Weights }

    sealed class Group(int id, int length)
    {
        public int Id { get; } = id;
        public int Length { get; } = length;
        public Pin Pin { get; set; }
        /// <summary>Input/output position, or element offset in the weights.</summary>
        public int PinIndex { get; set; }
        public List<string> Members { get; } = [];
        /// <summary>The plan element type of the storage: null for floats, <c>"u8"</c> for a quantised representation.</summary>
        public string? ElementType { get; init; }
        /// <summary>True once a step writes the group (aliases and in-place results share the flag).</summary>
        public bool Written { get; set; }
        /// <summary>Holds its value: written, or a graph input or constant.</summary>
        public bool Available => Written || Pin is Pin.Input or Pin.Weights;
    }

    internal sealed record Draft(string Node, string Op, string Comment, string Call, LoweredArg[] Args);

    readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> _lastRead;
    readonly List<(int Output, string Source, string Target)> _outputCopies = [];
    readonly List<Draft> _steps = [];
    readonly Dictionary<string, int> _readyAfterStep = new(StringComparer.Ordinal);
    readonly WeightsBuilder _weights = new();
    int _nextGroupId;
    int _nextScratchId;
    int _nodeIndex = -1;
    Node? _node;
    LoweredArg? _fusedArg;
    FusedActivation? _fused;
    bool _fusedConsumed;

    internal LoweringContext(Graph.Graph graph, IReadOnlyList<Node> liveNodes)
    {
        Graph = graph;
        Opset = graph.Info.DefaultOpset;
        _lastRead = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < liveNodes.Count; i++)
            foreach (string input in liveNodes[i].Inputs)
                if (input.Length > 0) _lastRead[input] = i;

        var inputs = ModelLowering.RuntimeInputs(graph);
        for (int i = 0; i < inputs.Count; i++)
        {
            var g = NewGroup(inputs[i].Name, Length(inputs[i].Name));
            g.Pin = Pin.Input;
            g.PinIndex = i;
        }
        for (int j = 0; j < graph.Outputs.Length; j++)
        {
            string name = graph.Outputs[j].Name;
            _lastRead[name] = int.MaxValue;
            if (_groups.TryGetValue(name, out var existing) || graph.IsConstant(name))
            {
                // The output is a graph input, a constant, or an earlier output: it gets its own copy.
                string target = $"\0output{j}";
                var t = NewGroup(target, Length(name));
                t.Pin = Pin.Output;
                t.PinIndex = j;
                _outputCopies.Add((j, name, target));
                continue;
            }
            var g = NewGroup(name, Length(name));
            g.Pin = Pin.Output;
            g.PinIndex = j;
        }
    }

    /// <summary>The graph being lowered.</summary>
    public Graph.Graph Graph { get; }

    /// <summary>The default-domain opset (0 when the model does not say; treat as the newest).</summary>
    public long Opset { get; }

    internal IReadOnlyList<Draft> Steps => _steps;

    internal WeightsBuilder WeightsBlob => _weights;

    // ───────────────────────────── shapes and constants ─────────────────────────────

    /// <summary>The dims of a value or constant, a symbolic dim 0 (the batch) as 1.</summary>
    /// <exception cref="CompressException">A dim other than the batch is unknown, or nothing is known of the value (CMP005).</exception>
    public long[] Dims(string value)
    {
        Shape? shape = Graph.Constant(value)?.Shape ?? Graph.Value(value)?.Shape
            ?? Graph.Inputs.Concat(Graph.Outputs).FirstOrDefault(v => v.Name == value)?.Shape;
        if (shape is null)
            throw new CompressException(ErrorCodes.ShapeInference,
                $"The shape of value '{value}'{Where()} is not known, so it cannot be given memory. " +
                "Give the model's inputs fixed shapes (only the batch dimension may be symbolic) and re-export it.");
        var dims = new long[shape.Rank];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = shape.Dims[i];
            if (d.IsKnown) dims[i] = d.Value;
            else if (i == 0) dims[i] = 1;
            else
                throw new CompressException(ErrorCodes.ShapeInference,
                    $"Value '{value}'{Where()} has shape {shape}: dimension {i} is not known at build time. Only dimension 0 " +
                    "(the batch) may be symbolic; fix the other dimensions when exporting the model.");
        }
        return dims;
    }

    /// <summary>Element count of a value (batch dim as 1).</summary>
    public int Length(string value)
    {
        long n = 1;
        foreach (long d in Dims(value)) n *= d;
        if (n > int.MaxValue)
            throw new CompressException(ErrorCodes.UnsupportedOp, $"Value '{value}'{Where()} has {n} elements; at most {int.MaxValue} are supported.");
        return (int)n;
    }

    public bool IsConstant(string value) => Graph.IsConstant(value);

    public Tensor? Constant(string value) => Graph.Constant(value);

    /// <summary>The float data of constant input <paramref name="input"/> of <paramref name="node"/>.</summary>
    /// <exception cref="CompressException">The input is computed at run time, or not float32 (CMP004).</exception>
    public float[] ConstantFloats(Node node, int input, string role)
    {
        string name = node.Input(input);
        var t = Graph.Constant(name) ?? throw Unsupported(node,
            $"its {role} ('{name}') is computed at run time; only a constant (an initializer) is supported there");
        if (t.Type != DataType.Float)
            throw Unsupported(node, $"its {role} ('{name}') is {t.Type}; only float32 is supported");
        return t.Floats;
    }

    /// <summary>An integer attribute as int, checked.</summary>
    public static int ToInt(long value) => checked((int)value);

    // ───────────────────────────── arguments ─────────────────────────────

    /// <summary>The whole of a value (or constant), read by the kernel.</summary>
    public LoweredArg Read(string value) => Read(value, 0, Length(value));

    /// <summary>Elements [offset, +length) of a value (or constant), read by the kernel.</summary>
    public LoweredArg Read(string value, int offset, int length)
    {
        RequireFloat(value);
        EnsureF32(value);
        return new LoweredArg.Value(value, offset, length, Write: false);
    }

    /// <summary>The whole of a value, written by the kernel.</summary>
    public LoweredArg Write(string value) => Write(value, 0, Length(value));

    /// <summary>Elements [offset, +length) of a value, written by the kernel.</summary>
    public LoweredArg Write(string value, int offset, int length)
    {
        RequireFloat(value);
        var g = GroupOf(value);
        if (g.Pin is Pin.Input or Pin.Weights)
            throw new CompressException(ErrorCodes.Internal, $"Value '{value}'{Where()} lives in a read-only {g.Pin.ToString().ToLowerInvariant()} span but is written.");
        g.Written = true;
        return new LoweredArg.Value(value, offset, length, Write: true);
    }

    /// <summary>Build-time constants (e.g. packed weights) added to the weights blob; identical data is stored once.</summary>
    public LoweredArg Weights(ReadOnlySpan<float> data) =>
        data.Length == 0 ? PlanArg.Empty : PlanArg.Weights(_weights.AddF32(data), data.Length);

    /// <summary>
    /// Arena scratch of <paramref name="floats"/> floats (an empty span for 0), alive from the first to the last step
    /// that passes the returned argument.
    /// </summary>
    public LoweredArg Scratch(int floats) => floats <= 0 ? PlanArg.Empty : new LoweredArg.Scratch(_nextScratchId++, floats);

    /// <summary>
    /// The activation fused into the current node (or <c>FusedActivation.None</c>) as a kernel argument. Calling this
    /// tells the context the kernel applies it; otherwise an in-place <c>ActivationF32.Apply</c> follows the node.
    /// </summary>
    public LoweredArg FusedActivation(Node node)
    {
        if (!ReferenceEquals(node, _node)) throw new InvalidOperationException("FusedActivation is for the node being lowered.");
        _fusedConsumed = true;
        return _fusedArg ??= StructArgs.Activation(_fused ?? Runtime.FusedActivation.None);
    }

    /// <summary>An activation as a kernel argument (for standalone activation ops).</summary>
    public static LoweredArg Activation(FusedActivation activation) => StructArgs.Activation(activation);

    // ───────────────────────────── emitting ─────────────────────────────

    /// <summary>Appends one kernel call for <paramref name="node"/>. The comment gets " + Relu" when the call applies the node's fused activation.</summary>
    public void Emit(Node node, string call, string comment, params LoweredArg[] args)
    {
        if (_fusedArg is not null && args.Any(a => ReferenceEquals(a, _fusedArg)) && _fused is { Kind: not ActivationKind.None } f)
            comment += " + " + Activations.Describe(f);
        if (_nodeNote is not null && ReferenceEquals(node, _node)) comment += _nodeNote;
        _steps.Add(new Draft(node.Label, node.OpType, comment, call, args));
    }

    /// <summary>
    /// Makes <paramref name="output"/> share <paramref name="input"/>'s storage (Reshape, Flatten, Squeeze…: no
    /// kernel), unless that would put a graph output into a graph input, the weights, or another output; then a
    /// <c>CopyF32.Rows</c> copies it.
    /// </summary>
    public void AliasOrCopy(Node node, string output, string input)
    {
        RequireFloat(input);
        // A u8 representation travels with the alias for free; without an f32 one, none is made here (a reader or,
        // for a graph output, EndNode dequantises).
        if (AliasU8(node, output, input) && !GroupOf(input).Available) return;
        var from = GroupOf(input);
        var to = GroupOf(output);
        if (from.Length != to.Length)
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Node '{node.Label}' ({node.OpType}) maps {from.Length} elements of '{input}' to {to.Length} elements of '{output}'; the inferred shapes disagree.");
        if (from == to) return;
        if (from.Pin == Pin.Arena || to.Pin == Pin.Arena)
        {
            Merge(from, to);
            return;
        }
        int n = from.Length;
        string why = to.Pin == Pin.Output ? $"graph output '{output}' cannot share {Describe(from)}" : "storage cannot be shared";
        Emit(node, PlanCalls.CopyRows, $"{node.OpType}: copy {n} (the {why})",
            Read(input), Write(output), PlanArg.Int(1), PlanArg.Int(n), PlanArg.Int(n), PlanArg.Int(n));
    }

    /// <summary>
    /// Lets <paramref name="output"/> reuse <paramref name="input"/>'s memory when the kernel supports in-place
    /// operation: only when the input lives in the arena and no later node reads it (or anything sharing its storage).
    /// </summary>
    public bool TryInPlace(string input, string output)
    {
        var from = GroupOf(input);
        var to = GroupOf(output);
        if (from == to) return true;
        if (from.Pin != Pin.Arena || from.Length != to.Length || to.Members.Count != 1) return false;
        if (from.Members.Any(m => _lastRead.GetValueOrDefault(m, -1) > _nodeIndex)) return false;
        Merge(from, to);
        return true;
    }

    /// <summary>A CMP004 error naming the node and op: "Node 'x' (Gemm): &lt;reason&gt;."</summary>
    public CompressException Unsupported(Node node, string reason) =>
        new(ErrorCodes.UnsupportedOp, $"Node '{node.Label}' ({node.OpType}): {reason}. " +
            "Change the model so the node uses a supported form, or open an issue with the model attached.");

    /// <summary>Whether <paramref name="value"/> (an op output; "" when omitted) is read by a later node or is a graph output.</summary>
    public bool IsUsed(string value) => value.Length > 0 && _lastRead.ContainsKey(value);

    /// <summary>Refuses extra outputs (MaxPool Indices, Dropout mask, BatchNormalization statistics) that anything uses.</summary>
    public void RequireOnlyFirstOutput(Node node)
    {
        for (int i = 1; i < node.Outputs.Length; i++)
        {
            string o = node.Outputs[i];
            if (IsUsed(o))
                throw Unsupported(node, $"its output {i} ('{o}') is used, but only the first output is supported");
        }
    }

    // ───────────────────────────── driver hooks ─────────────────────────────

    internal void BeginNode(Node node, int index)
    {
        _node = node;
        _nodeIndex = index;
        _fused = Activations.ReadFused(node);
        _fusedArg = null;
        _fusedConsumed = false;
        _nodeNote = null;
    }

    /// <summary>Applies a fused activation the lowerer did not pass to a kernel, in place on the node's output.</summary>
    internal void EndNode()
    {
        var node = _node!;
        if (_fused is { Kind: not ActivationKind.None } f && !_fusedConsumed)
        {
            string y = node.Output0;
            Emit(node, PlanCalls.Activation, $"{Activations.Describe(f)} (fused into {node.OpType}, in place)",
                Read(y), Write(y), Activation(f));
        }
        DequantizeGraphOutputs(node);
        // The node's outputs hold their final contents once its last step has run (or, for an alias, already did).
        foreach (string o in node.Outputs)
            if (o.Length > 0) _readyAfterStep[o] = _steps.Count - 1;
        _node = null;
    }

    /// <summary>Copies into graph outputs that are inputs, constants or repeats of an earlier output.</summary>
    internal void EmitOutputCopies()
    {
        foreach (var (j, source, target) in _outputCopies)
        {
            int n = Length(source);
            _steps.Add(new Draft(Graph.Outputs[j].Name, "Identity", $"copy '{source}' to output {j}", PlanCalls.CopyRows,
                [Read(source), new LoweredArg.Value(target, 0, n, true), PlanArg.Int(1), PlanArg.Int(n), PlanArg.Int(n), PlanArg.Int(n)]));
        }
    }

    /// <summary>
    /// Places every arena group and scratch buffer, then resolves the steps to plan steps and says where each graph
    /// value lives (see <see cref="LoweredModel.ValueLocations"/>).
    /// </summary>
    internal (List<PlanStep> Steps, int ArenaFloats, Dictionary<string, SpanArg> Locations, Dictionary<string, int> ReadyAfterStep,
        Dictionary<string, U8ValueLocation> U8Locations) Resolve()
    {
        var buffers = new List<ArenaPlanner.Buffer>();
        var groupBuffer = new Dictionary<Group, int>();
        var scratchBuffer = new Dictionary<int, int>();
        var written = new HashSet<Group>();
        for (int s = 0; s < _steps.Count; s++)
        {
            foreach (var arg in _steps[s].Args)
            {
                switch (arg)
                {
                    case LoweredArg.Value v when _groups[v.Name] is { Pin: Pin.Arena } g:
                        if (v.Write) written.Add(g);
                        else if (!written.Contains(g))
                            throw new CompressException(ErrorCodes.Internal,
                                $"Step {s} ({_steps[s].Node}) reads '{v.Name}' before any step writes it.");
                        Touch(groupBuffer, g, Bytes(g.Length, g.ElementType), s);
                        break;
                    case LoweredArg.Scratch { Persistent: true } sc when !scratchBuffer.ContainsKey(sc.Id):
                        scratchBuffer[sc.Id] = buffers.Count;
                        buffers.Add(new ArenaPlanner.Buffer(Bytes(sc.Length, sc.ElementType), 0, _steps.Count - 1));
                        break;
                    case LoweredArg.Scratch { Persistent: true }:
                        break;
                    case LoweredArg.Scratch sc:
                        Touch(scratchBuffer, sc.Id, Bytes(sc.Length, sc.ElementType), s);
                        break;
                }
            }
        }

        void Touch<TKey>(Dictionary<TKey, int> index, TKey key, int length, int step) where TKey : notnull
        {
            if (index.TryGetValue(key, out int b)) buffers[b] = buffers[b] with { Last = step };
            else { index[key] = buffers.Count; buffers.Add(new ArenaPlanner.Buffer(length, step, step)); }
        }

        // Planned in bytes (values of mixed element sizes); every offset is 64-byte aligned, so a float offset is bytes / 4.
        var placement = ArenaPlanner.PlanBytes(buffers);
        var steps = new List<PlanStep>(_steps.Count);
        foreach (var d in _steps)
        {
            var args = d.Args.Select(a => a switch
            {
                LoweredArg.Fixed f => f.Arg,
                LoweredArg.Scratch sc => PlanArg.Arena(placement.ByteOffsets[scratchBuffer[sc.Id]] / PlanElementSize(sc.ElementType), sc.Length, sc.ElementType),
                LoweredArg.Value v => ResolveValue(v, groupBuffer, placement),
                _ => throw new InvalidOperationException(),
            }).ToArray();
            steps.Add(new PlanStep(d.Node, d.Op, d.Comment, d.Call, args));
        }
        var (locations, ready, u8) = ValueLocations(groupBuffer, placement);
        return (steps, placement.TotalBytes / sizeof(float), locations, ready, u8);
    }

    /// <summary>
    /// The whole storage span of every graph input and node output that has storage (aliases and in-place results
    /// share their group's span), and the step after which it holds the value. Constants and the internal output-copy
    /// targets are left out, as are values no step touches (unused extra outputs). Third: the u8 representations
    /// (<see cref="LoweredModel.U8ValueLocations"/>).
    /// </summary>
    (Dictionary<string, SpanArg>, Dictionary<string, int>, Dictionary<string, U8ValueLocation>) ValueLocations(
        Dictionary<Group, int> groupBuffer, ArenaPlanner.BytePlacement placement)
    {
        // A value's float storage may also be written after its producer ends (a lazy DequantizeU8 in a quantised
        // plan): then it is ready after that write.
        var lastWrite = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < _steps.Count; s++)
            foreach (var arg in _steps[s].Args)
                if (arg is LoweredArg.Value { Write: true } w) lastWrite[w.Name] = s;
        var locations = new Dictionary<string, SpanArg>(StringComparer.Ordinal);
        var ready = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, g) in _groups)
        {
            if (name.StartsWith('\0') || Graph.IsConstant(name)) continue;
            if (g.Pin == Pin.Arena && !groupBuffer.ContainsKey(g)) continue;
            // Graph inputs are there before the first step (−1).
            int after = Math.Max(_readyAfterStep.GetValueOrDefault(name, -1), lastWrite.GetValueOrDefault(name, -1));
            locations[name] = (SpanArg)ResolveValue(new LoweredArg.Value(name, 0, g.Length, Write: false), groupBuffer, placement);
            ready[name] = after;
        }
        // A u8 group is written once (by its producer or a QuantizeF32); its aliases share the group and that write.
        var u8 = new Dictionary<string, U8ValueLocation>(StringComparer.Ordinal);
        foreach (var (value, parameters) in _u8)
        {
            string key = U8Key(value);
            var g = _groups[key];
            if (!groupBuffer.ContainsKey(g)) continue;
            int after = g.Members.Max(m => lastWrite.GetValueOrDefault(m, -1));
            u8[value] = new U8ValueLocation((SpanArg)ResolveValue(new LoweredArg.Value(key, 0, g.Length, Write: false), groupBuffer, placement), parameters, after);
        }
        return (locations, ready, u8);
    }

    PlanArg ResolveValue(LoweredArg.Value v, Dictionary<Group, int> groupBuffer, ArenaPlanner.BytePlacement placement)
    {
        var g = _groups[v.Name];
        if (v.Offset < 0 || v.Length < 0 || v.Offset + (long)v.Length > g.Length)
            throw new CompressException(ErrorCodes.Internal, $"Slice [{v.Offset}, +{v.Length}) is outside '{v.Name}' ({g.Length} elements).");
        return g.Pin switch
        {
            Pin.Input => PlanArg.Input(g.PinIndex, v.Offset, v.Length),
            Pin.Output => PlanArg.Output(g.PinIndex, v.Offset, v.Length),
            Pin.Weights => PlanArg.Weights(g.PinIndex + v.Offset, v.Length),
            _ => PlanArg.Arena(placement.ByteOffsets[groupBuffer[g]] / PlanElementSize(g.ElementType) + v.Offset, v.Length, g.ElementType),
        };
    }

    static int PlanElementSize(string? elementType) => SpanArg.ElementSize(elementType);

    static int Bytes(int length, string? elementType) =>
        (long)length * PlanElementSize(elementType) is var b && b <= int.MaxValue ? (int)b
            : throw new CompressException(ErrorCodes.UnsupportedOp, $"A buffer of {length} {elementType ?? "f32"} elements exceeds {int.MaxValue} bytes.");

    // ───────────────────────────── storage groups ─────────────────────────────

    Group NewGroup(string value, int length)
    {
        var g = new Group(_nextGroupId++, length);
        g.Members.Add(value);
        _groups[value] = g;
        return g;
    }

    Group GroupOf(string value)
    {
        if (_groups.TryGetValue(value, out var g)) return g;
        if (Graph.Constant(value) is { } t)
        {
            if (t.Type != DataType.Float)
                throw new CompressException(ErrorCodes.UnsupportedOp, $"Constant '{value}'{Where()} is {t.Type}; only float32 constants can be kernel inputs.");
            g = NewGroup(value, checked((int)t.ElementCount));
            g.Pin = Pin.Weights;
            g.PinIndex = _weights.AddF32(t.Floats);
            return g;
        }
        return NewGroup(value, Length(value));
    }

    /// <summary>Moves <paramref name="drop"/>'s values into <paramref name="keep"/>; a pinned group gives its pin to the result.</summary>
    void Merge(Group keep, Group drop)
    {
        if (keep.Pin != Pin.Arena && drop.Pin != Pin.Arena)
            throw new InvalidOperationException("Two pinned storage groups cannot merge.");
        if (keep.ElementType != drop.ElementType)
            throw new InvalidOperationException($"Storage of element type {keep.ElementType ?? "f32"} cannot merge with {drop.ElementType ?? "f32"}.");
        if (drop.Pin != Pin.Arena) { keep.Pin = drop.Pin; keep.PinIndex = drop.PinIndex; }
        keep.Written |= drop.Written;
        foreach (string m in drop.Members)
        {
            keep.Members.Add(m);
            _groups[m] = keep;
        }
    }

    void RequireFloat(string value)
    {
        if (value.Length == 0) throw new CompressException(ErrorCodes.Internal, $"An omitted optional input{Where()} is used as a tensor.");
        var type = Graph.Constant(value)?.Type ?? Graph.Value(value)?.Type
            ?? Graph.Inputs.Concat(Graph.Outputs).FirstOrDefault(v => v.Name == value)?.Type ?? DataType.Undefined;
        if (type is not (DataType.Float or DataType.Undefined))
            throw new CompressException(ErrorCodes.UnsupportedOp,
                $"Value '{value}'{Where()} is {type}; the kernels compute in float32 only.");
    }

    static string Describe(Group g) => g.Pin switch
    {
        Pin.Input => $"graph input {g.PinIndex}",
        Pin.Output => $"graph output {g.PinIndex}",
        Pin.Weights => "a constant",
        _ => "an activation",
    };

    string Where() => _node is null ? "" : $" (node '{_node.Label}', {_node.OpType})";

    internal static string Format(IEnumerable<long> dims) => "[" + string.Join(",", dims.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
