using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Graph;

/// <summary>
/// What one shape rule sees of the graph while <see cref="ShapeInference"/> visits its node: the types and shapes
/// of its inputs, the constant ones, and the known values of small integer tensors (shape arithmetic such as
/// <c>Shape → Gather → Concat → Reshape</c>, whose entries may be the symbolic batch). A rule reports its outputs
/// through <see cref="Output"/> and its failures through <see cref="Fail"/>.
/// </summary>
internal sealed class ShapeContext(
    Node node,
    long opset,
    IReadOnlyDictionary<string, ValueInfo> values,
    IReadOnlyDictionary<string, Tensor> constants,
    IReadOnlyDictionary<string, ImmutableArray<Dim>> knownValues)
{
    /// <summary>Integer tensors up to this many elements have their values tracked through shape arithmetic.</summary>
    const int MaxTrackedElements = 64;

    readonly ValueInfo?[] _outputs = new ValueInfo?[node.Outputs.Length];
    readonly ImmutableArray<Dim>?[] _outputValues = new ImmutableArray<Dim>?[node.Outputs.Length];
    readonly Tensor?[] _outputConstants = new Tensor?[node.Outputs.Length];

    public Node Node => node;

    /// <summary>The opset version of the default domain; attribute forms depend on it.</summary>
    public long Opset => opset;

    public int InputCount => node.Inputs.Length;

    public bool HasInput(int i) => node.HasInput(i);

    public ValueInfo Input(int i) =>
        !node.HasInput(i) ? throw Fail($"input {i} is required but missing")
        : values.TryGetValue(node.Inputs[i], out var v) ? v
        : throw Fail($"nothing is known about its input '{node.Inputs[i]}'");

    public Shape InputShape(int i) => Input(i).Shape ?? throw Fail($"the shape of its input '{node.Inputs[i]}' is not known");

    public DataType InputType(int i) => Input(i).Type;

    /// <summary>The constant tensor feeding input <paramref name="i"/> (initializer or folded Constant), or null.</summary>
    public Tensor? Constant(int i) => node.HasInput(i) && constants.TryGetValue(node.Inputs[i], out var t) ? t : null;

    /// <summary>
    /// The value of input <paramref name="i"/> when it is a small integer tensor (rank 0 or 1) whose entries are
    /// numbers (<see cref="Dim.Symbol"/> null, any sign) or the symbolic batch; null otherwise.
    /// </summary>
    public ImmutableArray<Dim>? KnownValue(int i)
    {
        if (!node.HasInput(i)) return null;
        if (knownValues.TryGetValue(node.Inputs[i], out var v)) return v;
        if (Constant(i) is { } t && TensorData.IsInteger(t.Type) && t.Dims.Length <= 1 && t.ElementCount <= MaxTrackedElements)
            return TensorData.ToInt64s(t).Select(Dim.Known).ToImmutableArray();
        return null;
    }

    /// <summary>The integer values of input <paramref name="i"/>, which must be constant (or fully known shape arithmetic).</summary>
    public long[] ConstantInts(int i, string what)
    {
        if (Constant(i) is { } t && TensorData.IsInteger(t.Type)) return TensorData.ToInt64s(t);
        var known = KnownValue(i) ?? throw Fail($"its {what} (input {i}, '{node.Input(i)}') must be a constant; it is computed at run time");
        if (known.Any(d => !ShapeInference.IsNumber(d)))
            throw Fail($"its {what} (input {i}, '{node.Input(i)}') depends on the symbolic dimension: [{string.Join(",", known)}]");
        return known.Select(d => d.Value).ToArray();
    }

    /// <summary>Declares output <paramref name="i"/>; <paramref name="knownValue"/> tracks the value of a small integer result.</summary>
    public void Output(int i, DataType type, Shape shape, ImmutableArray<Dim>? knownValue = null)
    {
        if (i >= node.Outputs.Length) return;
        _outputs[i] = new ValueInfo(node.Outputs[i], type, shape);
        if (knownValue is { } kv && kv.Length <= MaxTrackedElements) _outputValues[i] = kv;
    }

    /// <summary>Declares output <paramref name="i"/> as a constant (Constant nodes).</summary>
    public void OutputConstant(int i, Tensor tensor)
    {
        if (i >= node.Outputs.Length) return;
        _outputConstants[i] = tensor with { Name = node.Outputs[i] };
        Output(i, tensor.Type, tensor.Shape);
    }

    /// <summary>Whether output <paramref name="i"/> is wanted (present and named).</summary>
    public bool WantsOutput(int i) => i < node.Outputs.Length && node.Outputs[i].Length > 0;

    public ValueInfo? OutputInfo(int i) => _outputs[i];

    public ImmutableArray<Dim>? OutputKnownValue(int i) => _outputValues[i];

    public Tensor? OutputConstantValue(int i) => _outputConstants[i];

    /// <summary>An axis attribute made non-negative; fails when outside [-rank, rank).</summary>
    public int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Fail($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>A failure naming this node and its op (CMP005).</summary>
    public CompressException Fail(string message) =>
        new(ErrorCodes.ShapeInference, $"Shape inference failed at node '{node.Label}' ({node.OpType}): {message}.");

    /// <summary>A failure for an op form (attribute value) Compress does not support (CMP004).</summary>
    public CompressException Unsupported(string message) =>
        new(ErrorCodes.UnsupportedOp, $"Node '{node.Label}' ({node.OpType}) uses a form Compress does not support: {message}.");
}
