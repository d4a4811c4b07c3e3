using System.Reflection;
using System.Runtime.InteropServices;
using Compress.Runtime;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Validation;

/// <summary>
/// The interpreter's view of one run: the input, output, arena and weights buffers, and the decoded arguments of the
/// step being executed. Non-span arguments are decoded once (ints, floats, enums by name, structs through their
/// positional constructors, exactly as the generator emits <c>new global::Compress.Runtime.T(…)</c>); spans are
/// sliced on each call.
/// </summary>
internal sealed class PlanFrame(Arena arena, ModelWeights weights)
{
    internal sealed record Step(int Index, SpanArg?[] Spans, object?[] Values, Action<PlanFrame> Run);

    /// <summary>The run's inputs, one array per plan input; set per run (the frame itself is reused).</summary>
    public float[][] Inputs { get; set; } = [];

    /// <summary>The run's outputs, one array per plan output; set per run.</summary>
    public float[][] Outputs { get; set; } = [];

    public Step Current { get; set; } = null!;

    /// <summary>The memory a (checked) span names, read-only: an input, output, the arena or the f32 weights.</summary>
    public ReadOnlySpan<float> Read(SpanArg s) => s.Source switch
    {
        SpanSource.Input => Inputs[s.Index].AsSpan(s.Offset, s.Length),
        SpanSource.Output => Outputs[s.Index].AsSpan(s.Offset, s.Length),
        SpanSource.Arena => arena.Span.Slice(s.Offset, s.Length),
        _ => weights.F32.Slice(s.Offset, s.Length),
    };

    public ReadOnlySpan<float> R(int i)
    {
        var s = Current.Spans[i];
        return s is null ? default : Read(s);
    }

    public Span<float> W(int i)
    {
        var s = Current.Spans[i];
        if (s is null) return default;
        return s.Source switch
        {
            SpanSource.Output => Outputs[s.Index].AsSpan(s.Offset, s.Length),
            SpanSource.Arena => arena.Span.Slice(s.Offset, s.Length),
            _ => throw new InvalidOperationException($"Argument {i} is written but points at the read-only {s.Source}."),
        };
    }

    // Typed views (int8 plans): an arena span with "type" views the same float memory as bytes or ints
    // (MemoryMarshal, as the generated code does); a weights span views the blob as its type.

    /// <summary>The bytes of a checked <c>u8</c> span (arena or weights).</summary>
    public ReadOnlySpan<byte> ReadU8(SpanArg s) => s.Source == SpanSource.Arena
        ? MemoryMarshal.AsBytes(arena.Span).Slice(s.Offset, s.Length)
        : weights.U8.Slice(s.Offset, s.Length);

    public ReadOnlySpan<byte> RU8(int i) => Current.Spans[i] is { } s ? ReadU8(s) : default;

    public Span<byte> WU8(int i)
    {
        var s = Current.Spans[i];
        if (s is null) return default;
        return s.Source == SpanSource.Arena ? MemoryMarshal.AsBytes(arena.Span).Slice(s.Offset, s.Length)
            : throw new InvalidOperationException($"Argument {i} is written but points at the read-only {s.Source}.");
    }

    public ReadOnlySpan<sbyte> RI8(int i) => Current.Spans[i] is not { } s ? default
        : s.Source == SpanSource.Arena ? MemoryMarshal.Cast<float, sbyte>(arena.Span).Slice(s.Offset, s.Length)
        : weights.I8.Slice(s.Offset, s.Length);

    public ReadOnlySpan<ushort> RU16(int i) => Current.Spans[i] is not { } s ? default
        : s.Source == SpanSource.Arena ? MemoryMarshal.Cast<float, ushort>(arena.Span).Slice(s.Offset, s.Length)
        : weights.U16.Slice(s.Offset, s.Length);

    public ReadOnlySpan<int> RI32(int i) => Current.Spans[i] is not { } s ? default
        : s.Source == SpanSource.Arena ? MemoryMarshal.Cast<float, int>(arena.Span).Slice(s.Offset, s.Length)
        : weights.I32.Slice(s.Offset, s.Length);

    public int Int(int i) => (int)Current.Values[i]!;

    public bool Bool(int i) => (bool)Current.Values[i]!;

    public float Float(int i) => (float)Current.Values[i]!;

    public T Value<T>(int i) where T : struct => (T)Current.Values[i]!;

    /// <summary>
    /// Checks a step's arguments against the kernel's signature and decodes them. Span tokens: <c>r</c>/<c>w</c> a float
    /// span read/written; <c>ru8</c>/<c>wu8</c>, <c>ri8</c>, <c>ri32</c>, <c>ru16</c> a span of that element type (typed arena or weights).
    /// </summary>
    public static Step Decode(ModelPlan plan, int index, string signature, Action<PlanFrame> run, int weightsBytes)
    {
        var step = plan.Steps[index];
        string[] tokens = signature.Split(' ');
        string where = $"Step {index} ('{step.Node}', {step.Call})";
        if (step.Args.Count != tokens.Length)
            throw new InvalidOperationException($"{where} has {step.Args.Count} arguments; the kernel takes {tokens.Length} ({signature}).");
        var spans = new SpanArg?[tokens.Length];
        var values = new object?[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            var arg = step.Args[i];
            string t = tokens[i];
            string at = $"{where} argument {i}";
            switch (t)
            {
                case "r" or "w" or "ru8" or "wu8" or "ri8" or "ri32" or "ru16":
                    if (arg is EmptyArg) break;
                    if (arg is not SpanArg s) throw new InvalidOperationException($"{at} must be a span, it is {arg}.");
                    if (t[0] == 'w' && s.Source is SpanSource.Input or SpanSource.Weights)
                        throw new InvalidOperationException($"{at} is written by the kernel but points at the read-only {s.Source}.");
                    string? want = t.Length == 1 ? null : t[1..];
                    bool fits = want is null ? s.IsFloat : s.ElementType == want && s.Source is SpanSource.Arena or SpanSource.Weights;
                    if (!fits)
                        throw new InvalidOperationException($"{at} ({s}) holds {(s.IsFloat ? "f32" : s.ElementType)} elements; the kernel takes {want ?? "f32"}.");
                    long limit = s.Source switch
                    {
                        SpanSource.Input => s.Index < plan.Inputs.Count ? plan.Inputs[s.Index].Length : throw new InvalidOperationException($"{at}: there is no input {s.Index}."),
                        SpanSource.Output => s.Index < plan.Outputs.Count ? plan.Outputs[s.Index].Length : throw new InvalidOperationException($"{at}: there is no output {s.Index}."),
                        // Typed views of the float arena and of the blob: limits in elements of the span's type.
                        SpanSource.Arena => (long)plan.ArenaFloats * sizeof(float) / s.ElementBytes,
                        _ => weightsBytes / s.ElementBytes,
                    };
                    if (s.Offset < 0 || s.Length < 0 || s.Offset + (long)s.Length > limit)
                        throw new InvalidOperationException($"{at} ({s}) lies outside its buffer of {limit} elements.");
                    spans[i] = s;
                    break;
                case "int":
                    values[i] = arg is IntArg n ? n.Value : throw new InvalidOperationException($"{at} must be an int, it is {arg}.");
                    break;
                case "float":
                    values[i] = arg is FloatArg f ? f.Value : throw new InvalidOperationException($"{at} must be a float, it is {arg}.");
                    break;
                case "bool":
                    values[i] = arg is BoolArg b ? b.Value : throw new InvalidOperationException($"{at} must be a bool, it is {arg}.");
                    break;
                default:
                    var type = RuntimeType(t) ?? throw new InvalidOperationException($"Unknown signature type '{t}'.");
                    values[i] = Convert(arg, type, at);
                    break;
            }
        }
        return new Step(index, spans, values, run);
    }

    static Type? RuntimeType(string name) => typeof(ActivationKind).Assembly.GetType("Compress.Runtime." + name);

    /// <summary>A non-span argument as a value of <paramref name="type"/>: what the generated C# would pass.</summary>
    static object Convert(PlanArg arg, Type type, string at)
    {
        switch (arg)
        {
            case IntArg i when type == typeof(int): return i.Value;
            case FloatArg f when type == typeof(float): return f.Value;
            case BoolArg b when type == typeof(bool): return b.Value;
            case EnumArg e when type.IsEnum:
                string prefix = type.Name + ".";
                if (e.Value.StartsWith(prefix, StringComparison.Ordinal) && Enum.TryParse(type, e.Value[prefix.Length..], ignoreCase: false, out var member)
                    && Enum.IsDefined(type, member!))
                    return member!;
                throw new InvalidOperationException($"{at}: '{e.Value}' is not a member of {type.Name}.");
            case NewArg n when n.Type == type.Name && type.IsValueType:
                var ctor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).SingleOrDefault(c => c.GetParameters().Length == n.Args.Count)
                    ?? throw new InvalidOperationException($"{at}: {type.Name} has no constructor taking {n.Args.Count} arguments.");
                var ps = ctor.GetParameters();
                var values = new object[ps.Length];
                for (int k = 0; k < ps.Length; k++) values[k] = Convert(n.Args[k], ps[k].ParameterType, $"{at}.{ps[k].Name}");
                return ctor.Invoke(values);
            default:
                throw new InvalidOperationException($"{at} must be a {type.Name}, it is {arg}.");
        }
    }
}
