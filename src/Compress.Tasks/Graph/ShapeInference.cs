using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Graph;

/// <summary>
/// Element type and shape of every value, from the graph inputs through each node in order, following the shape
/// rules of the ONNX operator specification (https://onnx.ai/onnx/operators/). One rule per op type, registered in
/// <see cref="Rules"/>; an op without a rule is unsupported (CMP004).
/// <para>
/// Only dimension 0 of a graph input may be unknown or symbolic (the batch, e.g. <c>"N"</c>); it is carried through
/// as that symbol, and every other dimension of every value must come out as a number (else CMP005). The lowering
/// treats the symbolic batch as 1.
/// </para>
/// </summary>
public static partial class ShapeInference
{
    /// <summary>A shape rule: reads the node's inputs from the context and declares its outputs.</summary>
    internal delegate void Rule(ShapeContext context);

    /// <summary>The rule of each supported op type (default ONNX domain). This table is the list of supported ops.</summary>
    static readonly ImmutableSortedDictionary<string, Rule> Rules = new Dictionary<string, Rule>
    {
        // Element-wise, one input: the output has the input's type and shape.
        ["Relu"] = SameAsInput,
        ["LeakyRelu"] = SameAsInput,
        ["Sigmoid"] = SameAsInput,
        ["HardSigmoid"] = SameAsInput,
        ["HardSwish"] = SameAsInput,
        ["Tanh"] = SameAsInput,
        ["Clip"] = SameAsInput,
        ["Softmax"] = Softmax,
        ["Identity"] = Identity,
        ["Dropout"] = Dropout,
        ["Cast"] = Cast,
        ["BatchNormalization"] = BatchNormalization,

        // Element-wise with numpy broadcasting.
        ["Add"] = Broadcasting,
        ["Sub"] = Broadcasting,
        ["Mul"] = Broadcasting,
        ["Div"] = Broadcasting,
        ["Max"] = Broadcasting,
        ["Min"] = Broadcasting,
        ["Pow"] = Pow,
        ["Where"] = Where,

        // Element-wise math, one input (ShapeInference.Math.cs).
        ["Abs"] = SameAsInput,
        ["Neg"] = SameAsInput,
        ["Reciprocal"] = SameAsInput,
        ["Floor"] = SameAsInput,
        ["Ceil"] = SameAsInput,
        ["Sqrt"] = SameAsInput,
        ["Exp"] = SameAsInput,
        ["Log"] = SameAsInput,
        ["Erf"] = SameAsInput,
        ["Gelu"] = SameAsInput,

        // Linear algebra.
        ["Gemm"] = Gemm,
        ["MatMul"] = MatMul,

        // Convolution and pooling.
        ["Conv"] = Conv,
        ["ConvTranspose"] = ConvTranspose,
        ["MaxPool"] = Pool,
        ["AveragePool"] = Pool,
        ["GlobalAveragePool"] = GlobalPool,
        ["GlobalMaxPool"] = GlobalPool,

        // Shape manipulation and shape arithmetic.
        ["Flatten"] = Flatten,
        ["Reshape"] = Reshape,
        ["Transpose"] = Transpose,
        ["Concat"] = Concat,
        ["Squeeze"] = Squeeze,
        ["Unsqueeze"] = Unsqueeze,
        ["Shape"] = ShapeOp,
        ["Gather"] = Gather,
        ["Constant"] = ConstantOp,
        ["Slice"] = Slice,
        ["Split"] = Split,
        ["Pad"] = Pad,
        ["Expand"] = Expand,
        ["Resize"] = Resize,

        // Reductions and normalisation.
        ["ReduceSum"] = Reduce,
        ["ReduceMean"] = Reduce,
        ["ReduceMax"] = Reduce,
        ["ReduceMin"] = Reduce,
        ["ReduceProd"] = Reduce,
        ["LayerNormalization"] = LayerNormalization,
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>The op types shape inference (and therefore Compress) accepts, sorted.</summary>
    public static ImmutableArray<string> SupportedOps { get; } = Rules.Keys.ToImmutableArray();

    /// <summary>Whether <paramref name="opType"/> (default domain) has a shape rule.</summary>
    public static bool Supports(string opType) => Rules.ContainsKey(opType);

    /// <summary>
    /// The graph with <see cref="Graph.Values"/> holding the type and shape of every graph input, initializer and node
    /// output, and <see cref="Graph.Outputs"/> updated to the inferred shapes.
    /// </summary>
    /// <exception cref="CompressException">CMP004 for an unsupported op; CMP005 when a shape cannot be inferred.</exception>
    public static Graph Run(Graph graph) => Run(graph, partial: false);

    /// <summary>
    /// <see cref="Run"/> that skips what it cannot infer (unsupported ops, failing rules, and everything downstream of
    /// them) instead of failing: the values it could infer, for passes that run before the graph is fully supported
    /// (<c>FuseLayerNorm</c> reading the rank of a value). Graph outputs are left as declared.
    /// </summary>
    public static Graph RunPartial(Graph graph) => Run(graph, partial: true);

    static Graph Run(Graph graph, bool partial)
    {
        var values = new Dictionary<string, ValueInfo>(StringComparer.Ordinal);
        var constants = new Dictionary<string, Tensor>(graph.Initializers, StringComparer.Ordinal);
        var known = new Dictionary<string, ImmutableArray<Dim>>(StringComparer.Ordinal);

        var inputs = graph.Inputs.Select(NameUnknownDims).ToImmutableArray();
        foreach (var input in inputs)
        {
            if (!partial) CheckGraphInput(input);
            values[input.Name] = input;
        }
        foreach (var (name, tensor) in graph.Initializers)
            values[name] = new ValueInfo(name, tensor.Type, tensor.Shape);

        long opset = graph.Info.DefaultOpset;
        foreach (var node in graph.Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx") || !Rules.TryGetValue(node.OpType, out var rule))
            {
                if (partial) continue;
                throw UnsupportedOp(node);
            }

            var context = new ShapeContext(node, opset, values, constants, known);
            if (partial && node.Inputs.Any(i => i.Length > 0 && !values.ContainsKey(i))) continue;
            for (int i = 0; i < node.Inputs.Length; i++)
                if (node.Inputs[i].Length > 0 && !values.ContainsKey(node.Inputs[i]))
                    throw context.Fail($"its input '{node.Inputs[i]}' is produced by no node, graph input or initializer before it");

            try
            {
                rule(context);
            }
            catch (CompressException) when (partial)
            {
                continue;
            }

            for (int i = 0; i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i].Length == 0) continue;
                var info = context.OutputInfo(i);
                if (info is null && partial) continue;
                if (info is null) throw context.Fail($"its output {i} ('{node.Outputs[i]}') is not supported (only the inference outputs are)");
                if (!partial) CheckOnlyBatchSymbolic(context, info);
                values[info.Name] = info;
                if (context.OutputKnownValue(i) is { } kv) known[info.Name] = kv;
                if (context.OutputConstantValue(i) is { } t) constants[info.Name] = t;
            }
        }

        if (partial) return graph with { Values = values.ToImmutableDictionary(StringComparer.Ordinal) };
        var outputs = graph.Outputs.Select(declared => MergeOutput(declared, values)).ToImmutableArray();
        foreach (var o in outputs) values[o.Name] = o;
        return graph with { Inputs = inputs, Outputs = outputs, Values = values.ToImmutableDictionary(StringComparer.Ordinal) };
    }

    /// <summary>An unknown dimension without a name becomes the symbol "?", so shape arithmetic can follow it like "N".</summary>
    static ValueInfo NameUnknownDims(ValueInfo input) =>
        input.Shape is { } s && s.Dims.Any(d => !d.IsKnown && d.Symbol is null)
            ? input with { Shape = new Shape(s.Dims.Select(d => !d.IsKnown && d.Symbol is null ? Dim.Symbolic("?") : d).ToImmutableArray()) }
            : input;

    /// <summary>The graph itself when every node output already has a <see cref="Graph.Values"/> entry, else <see cref="Run"/>.</summary>
    public static Graph EnsureInferred(Graph graph) =>
        graph.Nodes.All(n => n.Outputs.All(o => o.Length == 0 || graph.Values.ContainsKey(o))) ? graph : Run(graph);

    static void CheckGraphInput(ValueInfo input)
    {
        if (input.Type == DataType.Undefined)
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Graph input '{input.Name}' has no element type. Re-export the model with typed inputs.");
        if (input.Shape is null)
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Graph input '{input.Name}' has no shape. Re-export the model with a fixed input shape (only dimension 0, the batch, may be symbolic).");
        for (int d = 1; d < input.Shape.Rank; d++)
            if (!input.Shape.Dims[d].IsKnown)
                throw new CompressException(ErrorCodes.ShapeInference,
                    $"Graph input '{input.Name}' has shape {input.Shape}: dimension {d} is '{input.Shape.Dims[d]}', but only dimension 0 " +
                    "(the batch) may be symbolic. Re-export the model with fixed sizes for the other dimensions (e.g. torch.onnx.export " +
                    "dynamic_axes only for axis 0).");
    }

    static void CheckOnlyBatchSymbolic(ShapeContext context, ValueInfo info)
    {
        var shape = info.Shape!;
        for (int d = 1; d < shape.Rank; d++)
            if (!shape.Dims[d].IsKnown)
                throw context.Fail($"its output '{info.Name}' would have shape {shape}; only dimension 0 (the batch) may be symbolic");
    }

    static ValueInfo MergeOutput(ValueInfo declared, Dictionary<string, ValueInfo> values)
    {
        if (!values.TryGetValue(declared.Name, out var inferred))
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Graph output '{declared.Name}' is produced by no node, graph input or initializer.");
        if (declared.Shape is { } d && inferred.Shape is { } s)
        {
            bool conflict = d.Rank != s.Rank || d.Dims.Zip(s.Dims).Any(p => p.First.IsKnown && p.Second.IsKnown && p.First.Value != p.Second.Value);
            if (conflict)
                throw new CompressException(ErrorCodes.ShapeInference,
                    $"Graph output '{declared.Name}' is declared with shape {d}, but the graph computes {s}. The model is inconsistent; re-export it.");
        }
        if (declared.Type != DataType.Undefined && declared.Type != inferred.Type)
            throw new CompressException(ErrorCodes.ShapeInference,
                $"Graph output '{declared.Name}' is declared as {declared.Type}, but the graph computes {inferred.Type}. The model is inconsistent; re-export it.");
        return inferred;
    }

    static CompressException UnsupportedOp(Node node)
    {
        string op = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
        return new CompressException(ErrorCodes.UnsupportedOp,
            $"Node '{node.Label}' uses op '{op}', which Compress does not support. Supported ops (default ONNX domain): " +
            $"{string.Join(", ", SupportedOps)}. Re-export the model with supported ops, or open an issue asking for '{node.OpType}'.");
    }

    /// <summary>numpy broadcasting of two shapes (https://github.com/onnx/onnx/blob/main/docs/Broadcasting.md); false when incompatible.</summary>
    public static bool TryBroadcast(Shape a, Shape b, out Shape result)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            int ia = i - (rank - a.Rank), ib = i - (rank - b.Rank);
            Dim da = ia >= 0 ? a.Dims[ia] : Dim.Known(1), db = ib >= 0 ? b.Dims[ib] : Dim.Known(1);
            if (!TryBroadcast(da, db, out dims[i]))
            {
                result = Shape.Scalar;
                return false;
            }
        }
        result = new Shape(dims.ToImmutableArray());
        return true;
    }

    static bool TryBroadcast(Dim a, Dim b, out Dim result)
    {
        result = a;
        if (a == b) return true;
        if (a.IsKnown && a.Value == 1) { result = b; return true; }
        if (b.IsKnown && b.Value == 1) return true;
        if (a.IsKnown && b.IsKnown) return false;         // two different sizes, neither 1
        if (a.IsKnown) return true;                       // the symbol must equal the size (or be 1)
        if (b.IsKnown) { result = b; return true; }
        return false;                                     // two different symbols
    }

    /// <summary>The product of dimensions, or null when it is not a number or a lone symbol (e.g. N·3).</summary>
    internal static Dim? Product(IEnumerable<Dim> dims)
    {
        long known = 1;
        Dim? symbol = null;
        foreach (var d in dims)
        {
            if (d.IsKnown) known *= d.Value;
            else if (symbol is null) symbol = d;
            else return null;
        }
        if (symbol is null) return Dim.Known(known);
        return known == 1 ? symbol : known == 0 ? Dim.Known(0) : null;
    }
}
