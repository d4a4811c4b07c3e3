using System.Collections.Immutable;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Lowering;

/// <summary>
/// Builds small canonical graphs by hand (shapes filled in, as shape inference would) for lowering tests.
/// </summary>
internal sealed class TestGraph
{
    readonly List<ValueInfo> _inputs = [];
    readonly List<string> _outputs = [];
    readonly List<Node> _nodes = [];
    readonly Dictionary<string, Tensor> _initializers = [];
    readonly Dictionary<string, ValueInfo> _values = [];
    readonly long _opset;

    public TestGraph(long opset = 13) => _opset = opset;

    public TestGraph Input(string name, params long[] dims) => Input(name, Shape.Of(dims));

    /// <summary>An input whose dim 0 is the symbolic batch "N".</summary>
    public TestGraph BatchInput(string name, params long[] dimsAfterBatch) =>
        Input(name, new Shape([Dim.Symbolic("N"), .. dimsAfterBatch.Select(Dim.Known)]));

    public TestGraph Input(string name, Shape shape, DataType type = DataType.Float)
    {
        var v = new ValueInfo(name, type, shape);
        _inputs.Add(v);
        _values[name] = v;
        return this;
    }

    public TestGraph Const(string name, float[] data, params long[] dims)
    {
        _initializers[name] = Tensor.FromFloats(name, data, dims);
        return this;
    }

    public TestGraph ConstInt64(string name, long[] data, params long[] dims)
    {
        _initializers[name] = Tensor.FromInt64s(name, data, dims);
        return this;
    }

    /// <summary>A node with one output of the given shape; the node is named "/&lt;output&gt;/&lt;op&gt;".</summary>
    public TestGraph Node(string op, string[] inputs, string output, long[] shape, params (string Name, AttributeValue Value)[] attributes) =>
        Node(op, inputs, output, Shape.Of(shape), attributes);

    public TestGraph Node(string op, string[] inputs, string output, Shape shape, params (string Name, AttributeValue Value)[] attributes)
    {
        _nodes.Add(global::Compress.Tasks.Graph.Node.Create($"/{output}/{op}", op, inputs, [output],
            attributes.Select(a => KeyValuePair.Create(a.Name, a.Value))));
        _values[output] = new ValueInfo(output, DataType.Float, shape);
        return this;
    }

    /// <summary>Adds a raw node (several outputs, other domains…); output shapes must be added with <see cref="Value"/>.</summary>
    public TestGraph Raw(Node node)
    {
        _nodes.Add(node);
        return this;
    }

    public TestGraph Value(string name, DataType type, params long[] dims)
    {
        _values[name] = new ValueInfo(name, type, Shape.Of(dims));
        return this;
    }

    public TestGraph Output(params string[] names)
    {
        _outputs.AddRange(names);
        return this;
    }

    public global::Compress.Tasks.Graph.Graph Build() => new("test",
        new ModelInfo(8, ImmutableDictionary<string, long>.Empty.Add("", _opset), "test", "1.0", ImmutableDictionary<string, string>.Empty),
        _inputs.ToImmutableArray(),
        _outputs.Select(o => _values.TryGetValue(o, out var v) ? v
            : _inputs.FirstOrDefault(i => i.Name == o)
              ?? new ValueInfo(o, DataType.Float, _initializers[o].Shape)).ToImmutableArray(),
        _nodes.ToImmutableArray(),
        _initializers.ToImmutableDictionary(),
        _values.ToImmutableDictionary());

    public static (string, AttributeValue) Attr(string name, long value) => (name, AttributeValue.Of(value));

    public static (string, AttributeValue) Attr(string name, float value) => (name, AttributeValue.Of(value));

    public static (string, AttributeValue) Attr(string name, string value) => (name, AttributeValue.Of(value));

    public static (string, AttributeValue) Ints(string name, params long[] values) => (name, AttributeValue.Of(values));

    /// <summary>The three attributes the canonical pipeline sets on a producer that absorbed an activation.</summary>
    public static (string, AttributeValue)[] Fused(string op, float alpha = 0, float beta = 0) =>
    [
        ("compress.activation", AttributeValue.Of(op)),
        ("compress.activation_alpha", AttributeValue.Of(alpha)),
        ("compress.activation_beta", AttributeValue.Of(beta)),
    ];
}

/// <summary>Lowers a graph, checks the plan's invariants, and runs it with the plan interpreter.</summary>
internal static class Harness
{
    public static LoweringOptions Options => new() { ClassName = "Model", Namespace = "Tests", SourceFile = "test.onnx", SourceSha256 = "00" };

    public static LoweredModel Lower(global::Compress.Tasks.Graph.Graph g)
    {
        var lowered = ModelLowering.Lower(g, Options);
        PlanInvariants.Check(lowered);
        return lowered;
    }

    public static float[][] Run(global::Compress.Tasks.Graph.Graph g, params float[][] inputs) => Run(Lower(g), inputs);

    public static float[][] Run(LoweredModel lowered, params float[][] inputs)
    {
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        var first = interpreter.Run(inputs);
        // A second run on the same instance (reused arena) must give the same result.
        var second = interpreter.Run(inputs);
        for (int o = 0; o < first.Length; o++) Assert.Equal(first[o], second[o]);
        return first;
    }

    public static float[] Random(int length, int seed = 1, float scale = 1f)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static void Close(float[] expected, float[] actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = tolerance * Math.Max(1f, Math.Abs(expected[i]));
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"Element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tol}).");
        }
    }

    public static IEnumerable<PlanStep> StepsCalling(LoweredModel m, string call) => m.Plan.Steps.Where(s => s.Call == call);
}

/// <summary>Invariants every lowered plan must satisfy, checked on every plan the tests produce.</summary>
internal static class PlanInvariants
{
    public static void Check(LoweredModel m)
    {
        var plan = m.Plan;
        Assert.Equal(m.Weights.Length, plan.Weights.Bytes);
        Assert.Equal(0, plan.ArenaFloats % 16);
        foreach (var step in plan.Steps)
        {
            Assert.Contains(step.Call, PlanInterpreter.SupportedCalls);
            var spans = step.Args.OfType<SpanArg>().ToList();
            foreach (var s in spans)
            {
                if (s.Source == SpanSource.Weights) Assert.Equal(0, s.Offset * sizeof(float) % 64);
                if (s.Source == SpanSource.Arena) Assert.True(s.Offset + s.Length <= plan.ArenaFloats);
            }
            // A kernel's output never overlaps its inputs, except ActivationF32.Apply exactly in place.
            var written = WrittenSpans(step);
            foreach (var w in written)
                foreach (var r in spans.Where(s => !written.Contains(s)))
                {
                    if (!SameBuffer(w, r) || !Overlap(w, r)) continue;
                    bool exactInPlace = step.Call == PlanCalls.Activation && w.Offset == r.Offset && w.Length == r.Length;
                    Assert.True(exactInPlace, $"Step '{step.Node}' ({step.Call}) writes {w} overlapping its input {r}.");
                }
            // Arena spans start on 64-byte boundaries unless they are a slice into a value (Concat's parts).
            foreach (var s in spans.Where(s => s.Source == SpanSource.Arena && !IsSubSlice(step)))
                Assert.Equal(0, s.Offset % 16);
        }
        // Round trip through JSON is exact.
        Assert.Equal(plan, PlanJsonReader.Read(PlanJsonWriter.Write(plan)));
    }

    /// <summary>Steps whose spans may legitimately point inside a value: Concat writes parts of its output, Split reads parts of its input.</summary>
    static bool IsSubSlice(PlanStep step) => step.Op is "Concat" or "Split";

    /// <summary>The spans a step writes (outputs and scratch): the <c>w…</c> tokens of the interpreter's signature for its call.</summary>
    public static List<SpanArg> WrittenSpans(PlanStep step)
    {
        var positions = PlanInterpreter.WrittenArguments(step.Call, step.Args.Count)
            ?? throw new InvalidOperationException($"Unknown call {step.Call} with {step.Args.Count} arguments.");
        return positions.Select(p => step.Args[p]).OfType<SpanArg>().ToList();
    }

    public static bool SameBuffer(SpanArg a, SpanArg b) => a.Source == b.Source && a.Index == b.Index;

    public static bool Overlap(SpanArg a, SpanArg b) =>
        a.Length > 0 && b.Length > 0 && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length;
}
