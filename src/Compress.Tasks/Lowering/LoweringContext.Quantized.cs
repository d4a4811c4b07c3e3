using System.Globalization;
using Compress.Runtime;
using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;

namespace Compress.Tasks.Lowering;

/// <summary>
/// Quantised storage (Jacob et al., CVPR 2018: real = scale · (q − zeroPoint), u8 activations per tensor). Besides its
/// float storage a value may have a u8 representation: a group of its own (key <c>"\0u8:" + value</c>) with the
/// <see cref="QuantParams"/> it was written with. An int8 kernel writes the u8 representation; conversions are made
/// lazily, once, where the other representation is first read: <c>QuantizeF32</c> where an fp32 value enters an int8
/// node (calibrated parameters from <see cref="QuantizationResult.Activations"/>), <c>DequantizeU8</c> where a u8 value
/// feeds an fp32 node, and — at the end of its producer — where it is a graph output (outputs stay float32, so the
/// generated API is the same as fp32). Aliases (Reshape, Flatten…) share the u8 representation too.
/// </summary>
public sealed partial class LoweringContext
{
    /// <summary>Values with a u8 representation → its parameters. Empty for every fp32 plan.</summary>
    readonly Dictionary<string, QuantParams> _u8 = new(StringComparer.Ordinal);

    /// <summary>Appended to the comment of every step of the current node (e.g. why it fell back to fp32).</summary>
    string? _nodeNote;

    /// <summary>The quantisation passes' result (parameters, quantised weights, decisions); null for an fp32 model.</summary>
    internal QuantizationResult? Quantization { get; init; }

    /// <summary>Values some node will read as u8 (<see cref="QuantizedLowering.U8Demand"/>); empty for fp32.</summary>
    internal IReadOnlySet<string> U8Demand { get; init; } = new HashSet<string>();

    static string U8Key(string value) => "\0u8:" + value;

    /// <summary>True when <paramref name="value"/> has a u8 representation (written by an int8 kernel, quantised, or aliased).</summary>
    public bool HasU8(string value) => _u8.ContainsKey(value);

    /// <summary>True when <paramref name="value"/>'s float storage holds it (a graph input, a constant, or written).</summary>
    public bool HasF32(string value) => _groups.TryGetValue(value, out var g) ? g.Available : Graph.IsConstant(value);

    /// <summary>The calibrated u8 parameters of <paramref name="value"/>, or null (not calibrated, or an fp32 model).</summary>
    public QuantParams? ActivationParams(string value) => Quantization?.Activations.GetValueOrDefault(value);

    /// <summary>A u8 representation of <paramref name="value"/> exists or can be made (it has calibrated parameters).</summary>
    public bool CanReadU8(string value) => HasU8(value) || (!Graph.IsConstant(value) && ActivationParams(value) is not null);

    /// <summary>
    /// The producer of <paramref name="value"/> should write u8: some node reads it as u8 and it is not a graph output
    /// (those are float32; an int8 producer that can write floats directly does so).
    /// </summary>
    public bool PrefersU8Output(string value) => U8Demand.Contains(value) && !IsGraphOutput(value) && ActivationParams(value) is not null;

    /// <summary>True when <paramref name="value"/> is a graph output.</summary>
    public bool IsGraphOutput(string value) => Graph.Outputs.Any(o => o.Name == value);

    /// <summary>
    /// The u8 representation of <paramref name="value"/>, read by the kernel, and its parameters. The first read of a
    /// value that has only floats emits a <c>QuantizeF32.Run</c> with its calibrated parameters.
    /// </summary>
    /// <exception cref="CompressException">The value has no u8 representation and no calibrated parameters (CMP099: the quantisation result is incomplete).</exception>
    public LoweredArg ReadU8(string value, out QuantParams parameters)
    {
        if (!_u8.TryGetValue(value, out var p))
        {
            p = ActivationParams(value) ?? throw new CompressException(ErrorCodes.Internal,
                $"Value '{value}'{Where()} is read by an int8 kernel but the quantisation result has no parameters for it. Please report it with the model.");
            var node = _node ?? throw new InvalidOperationException("ReadU8 is for the node being lowered.");
            Emit(node, PlanCalls.Quantize, $"Quantize '{value}' f32 → u8 ({Describe(p)}) for int8 {node.OpType}",
                Read(value), WriteU8(value, p), PlanArg.Float(p.Scale), PlanArg.Int(p.ZeroPoint));
        }
        parameters = p;
        return new LoweredArg.Value(U8Key(value), 0, Length(value), Write: false);
    }

    /// <summary>The u8 representation of <paramref name="value"/>, written by the kernel with <paramref name="parameters"/>.</summary>
    public LoweredArg WriteU8(string value, QuantParams parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string key = U8Key(value);
        if (!_groups.TryGetValue(key, out var g))
        {
            g = new Group(_nextGroupId++, Length(value)) { ElementType = SpanArg.U8 };
            g.Members.Add(key);
            _groups[key] = g;
            _u8[value] = parameters;
        }
        else if (_u8[value] != parameters)
            throw new CompressException(ErrorCodes.Internal, $"Value '{value}'{Where()} is written as u8 with two different parameter sets.");
        g.Written = true;
        return new LoweredArg.Value(key, 0, g.Length, Write: true);
    }

    /// <summary>Arena scratch of <paramref name="bytes"/> bytes (a <c>u8</c> span; empty for 0), alive for the steps that pass it.</summary>
    public LoweredArg ScratchBytes(int bytes) => bytes <= 0 ? PlanArg.Empty : new LoweredArg.Scratch(_nextScratchId++, bytes, SpanArg.U8);

    /// <summary>Bytes in the weights blob right after the previous tensor, unaligned (<see cref="WeightsBuilder.AddU8Unaligned"/>).</summary>
    public LoweredArg WeightsU8Unaligned(ReadOnlySpan<byte> data) =>
        data.Length == 0 ? PlanArg.Empty : PlanArg.Weights(_weights.AddU8Unaligned(data), data.Length, SpanArg.U8);

    /// <summary>
    /// Arena bytes that keep their contents from one run to the next: live over the whole plan, so no other buffer
    /// shares them (a shift layer's prepared weights, filled on the instance's first run).
    /// </summary>
    public LoweredArg PersistentBytes(int bytes) =>
        bytes <= 0 ? PlanArg.Empty : new LoweredArg.Scratch(_nextScratchId++, bytes, SpanArg.U8) { Persistent = true };

    /// <summary>Signed bytes (packed int8 weights) in the weights blob.</summary>
    public LoweredArg WeightsI8(ReadOnlySpan<sbyte> data) =>
        data.Length == 0 ? PlanArg.Empty : PlanArg.Weights(_weights.AddI8(data), data.Length, SpanArg.I8);

    /// <summary>Bytes (u8 constants, packed int4 nibbles) in the weights blob.</summary>
    public LoweredArg WeightsU8(ReadOnlySpan<byte> data) =>
        data.Length == 0 ? PlanArg.Empty : PlanArg.Weights(_weights.AddU8(data), data.Length, SpanArg.U8);

    /// <summary>Unsigned 16-bit integers (sparse weight indices) in the weights blob.</summary>
    public LoweredArg WeightsU16(ReadOnlySpan<ushort> data) =>
        data.Length == 0 ? PlanArg.Empty : PlanArg.Weights(_weights.AddU16(data), data.Length, SpanArg.U16);

    /// <summary>32-bit integers (int32 bias, requantisation multipliers and shifts) in the weights blob.</summary>
    public LoweredArg WeightsI32(ReadOnlySpan<int> data) =>
        data.Length == 0 ? PlanArg.Empty : PlanArg.Weights(_weights.AddI32(data), data.Length, SpanArg.I32);

    /// <summary>
    /// Records why the current node runs in fp32 although the quantisation chose otherwise; appended to the comment of
    /// each of its steps (" (fp32: no int8 kernel for transA)").
    /// </summary>
    public void NoteFallback(string reason) => _nodeNote = $" (fp32: {reason})";

    /// <summary>The activation fused into the node being lowered (null for none), without claiming it.</summary>
    internal FusedActivation? FusedActivationOf(Node node) =>
        ReferenceEquals(node, _node) ? _fused : throw new InvalidOperationException("FusedActivationOf is for the node being lowered.");

    /// <summary>
    /// Claims the node's fused activation for a quantised kernel that applies it without a <c>FusedActivation</c>
    /// argument (as the requantisation clamp), so no <c>ActivationF32.Apply</c> follows; returns it (null for none).
    /// </summary>
    internal FusedActivation? TakeFusedActivation(Node node)
    {
        var f = FusedActivationOf(node);
        _fusedConsumed = true;
        return f;
    }

    /// <summary>"scale 0.0123, zero point 7".</summary>
    internal static string Describe(QuantParams p) =>
        string.Create(CultureInfo.InvariantCulture, $"scale {p.Scale:G6}, zero point {p.ZeroPoint}");

    /// <summary>Makes <paramref name="output"/>'s u8 representation <paramref name="input"/>'s (same memory and parameters); false when the input has none.</summary>
    bool AliasU8(Node node, string output, string input)
    {
        if (!_u8.TryGetValue(input, out var p)) return false;
        var from = _groups[U8Key(input)];
        if (from.Length != Length(output))
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Node '{node.Label}' ({node.OpType}) maps {from.Length} elements of '{input}' to {Length(output)} elements of '{output}'; the inferred shapes disagree.");
        string key = U8Key(output);
        if (_groups.TryGetValue(key, out var existing))
        {
            if (existing != from) throw new InvalidOperationException($"'{output}' already has a u8 representation.");
            return true;
        }
        from.Members.Add(key);
        _groups[key] = from;
        _u8[output] = p;
        return true;
    }

    /// <summary>Before a float read: a value that so far exists only as u8 is dequantised (once) into its float storage.</summary>
    void EnsureF32(string value)
    {
        var g = GroupOf(value);
        if (g.Available || !_u8.TryGetValue(value, out var p)) return;
        var node = _node;
        string comment = $"Dequantize '{value}' u8 → f32 ({Describe(p)})" + (node is null ? "" : IsGraphOutput(value) && node.Outputs.Contains(value)
            ? " into the graph output" : $" for fp32 {node.OpType}");
        var args = new LoweredArg[]
        {
            new LoweredArg.Value(U8Key(value), 0, Length(value), Write: false), Write(value), PlanArg.Float(p.Scale), PlanArg.Int(p.ZeroPoint),
        };
        if (node is not null) Emit(node, PlanCalls.Dequantize, comment, args);
        else _steps.Add(new Draft(value, "DequantizeLinear", comment, PlanCalls.Dequantize, args));
        // The float storage (LoweredModel.ValueLocations) holds the value from this step on, not from its producer's.
        _readyAfterStep[value] = _steps.Count - 1;
    }

    /// <summary>At the end of a node: its outputs that are graph outputs but exist only as u8 are dequantised into the output span.</summary>
    void DequantizeGraphOutputs(Node node)
    {
        foreach (string o in node.Outputs)
            if (o.Length > 0 && _u8.ContainsKey(o) && IsGraphOutput(o) && !HasF32(o)) EnsureF32(o);
    }
}
