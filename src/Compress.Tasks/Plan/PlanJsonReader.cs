using System.Globalization;
using System.Text.Json;

namespace Compress.Tasks.Plan;

/// <summary>
/// Reads plan JSON (docs/plan-format.md) back into a <see cref="ModelPlan"/>; the inverse of
/// <see cref="PlanJsonWriter"/>. Unknown keys are ignored; a wrong <c>format</c>, an unsupported <c>version</c> or a
/// malformed argument throws <see cref="InvalidDataException"/> naming the JSON path.
/// </summary>
public static class PlanJsonReader
{
    public static ModelPlan Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = Parse(() => JsonDocument.Parse(json));
        return ReadPlan(doc.RootElement);
    }

    public static ModelPlan Read(ReadOnlyMemory<byte> utf8)
    {
        using var doc = Parse(() => JsonDocument.Parse(utf8));
        return ReadPlan(doc.RootElement);
    }

    static JsonDocument Parse(Func<JsonDocument> parse)
    {
        try { return parse(); }
        catch (JsonException e) { throw new InvalidDataException($"The plan is not valid JSON: {e.Message}", e); }
    }

    static ModelPlan ReadPlan(JsonElement root)
    {
        string format = Str(root, "format", "$");
        if (format != ModelPlan.FormatName)
            throw new InvalidDataException($"$.format is '{format}', expected '{ModelPlan.FormatName}'.");
        int version = Int(root, "version", "$");
        if (version != ModelPlan.CurrentVersion)
            throw new InvalidDataException($"Plan version {version} is not supported; this reader understands version {ModelPlan.CurrentVersion}.");
        var source = Obj(root, "source", "$");
        var cls = Obj(root, "class", "$");
        var weights = Obj(root, "weights", "$");
        return new ModelPlan
        {
            Version = version,
            Producer = Str(root, "producer", "$"),
            Source = new PlanSource(Str(source, "file", "$.source"), Str(source, "sha256", "$.source"), Str(source, "producer", "$.source"),
                Long(source, "irVersion", "$.source"), Str(source, "opsets", "$.source")),
            Namespace = Str(cls, "namespace", "$.class"),
            ClassName = Str(cls, "name", "$.class"),
            Summary = Str(root, "summary", "$"),
            Weights = new PlanWeights(Str(weights, "resource", "$.weights"), Int(weights, "bytes", "$.weights"), Str(weights, "sha256", "$.weights")),
            ArenaFloats = Int(Obj(root, "arena", "$"), "floats", "$.arena"),
            BatchDynamic = Bool(Obj(root, "batch", "$"), "dynamic", "$.batch"),
            Inputs = Arr(root, "inputs", "$").Select((t, i) => ReadTensor(t, $"$.inputs[{i}]")).ToArray(),
            Outputs = Arr(root, "outputs", "$").Select((t, i) => ReadTensor(t, $"$.outputs[{i}]")).ToArray(),
            Steps = Arr(root, "steps", "$").Select((s, i) => ReadStep(s, $"$.steps[{i}]")).ToArray(),
            Stats = root.TryGetProperty("stats", out var stats)
                ? new PlanStats(Long(stats, "macs", "$.stats"), Long(stats, "denseMacs", "$.stats"), Long(stats, "parameters", "$.stats"), Long(stats, "nonZeroParameters", "$.stats"))
                : null,
            Backend = !root.TryGetProperty("backend", out var backend) ? PlanBackend.Kernels
                : backend.ValueKind == JsonValueKind.String && backend.GetString() == "kernels" ? PlanBackend.Kernels
                : backend.ValueKind == JsonValueKind.String && backend.GetString() == "onnxruntime" ? PlanBackend.OnnxRuntime
                : throw new InvalidDataException("$.backend is neither 'kernels' nor 'onnxruntime'."),
            OnnxRuntimeVersion = root.TryGetProperty("onnxRuntimeVersion", out _) ? Str(root, "onnxRuntimeVersion", "$") : null,
        };
    }

    static PlanTensor ReadTensor(JsonElement e, string path) =>
        new(Str(e, "name", path), Str(e, "identifier", path),
            Arr(e, "shape", path).Select((d, i) => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out long v) ? v
                : throw new InvalidDataException($"{path}.shape[{i}] is not an integer.")).ToArray(),
            Int(e, "length", path));

    static PlanStep ReadStep(JsonElement e, string path) =>
        new(Str(e, "node", path), Str(e, "op", path), Str(e, "comment", path), Str(e, "call", path),
            Arr(e, "args", path).Select((a, i) => ReadArg(a, $"{path}.args[{i}]")).ToArray());

    static PlanArg ReadArg(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path} is not an object.");
        if (e.TryGetProperty("span", out _))
        {
            string span = Str(e, "span", path);
            return span switch
            {
                "input" => PlanArg.Input(Int(e, "index", path), Int(e, "offset", path), Int(e, "length", path)),
                "output" => PlanArg.Output(Int(e, "index", path), Int(e, "offset", path), Int(e, "length", path)),
                "arena" => PlanArg.Arena(Int(e, "offset", path), Int(e, "length", path),
                    e.TryGetProperty("type", out _) ? ElementType(e, path) : null),
                "weights" => PlanArg.Weights(Int(e, "offset", path), Int(e, "length", path), ElementType(e, path)),
                "empty" => PlanArg.Empty,
                _ => throw new InvalidDataException($"{path}.span is '{span}', expected input, output, arena, weights or empty."),
            };
        }
        if (e.TryGetProperty("int", out _)) return PlanArg.Int(Int(e, "int", path));
        if (e.TryGetProperty("float", out _)) return PlanArg.Float(ParseFloat(Str(e, "float", path), path));
        if (e.TryGetProperty("bool", out _)) return PlanArg.Bool(Bool(e, "bool", path));
        if (e.TryGetProperty("enum", out _)) return PlanArg.Enum(Str(e, "enum", path));
        if (e.TryGetProperty("new", out _))
            return new NewArg(Str(e, "new", path), Arr(e, "args", path).Select((a, i) => ReadArg(a, $"{path}.args[{i}]")).ToArray());
        throw new InvalidDataException($"{path} has none of the keys span, int, float, bool, enum, new.");
    }

    static string ElementType(JsonElement e, string path)
    {
        string type = Str(e, "type", path);
        return SpanArg.ElementTypes.Contains(type) ? type
            : throw new InvalidDataException($"{path}.type is '{type}', expected one of {string.Join(", ", SpanArg.ElementTypes)}.");
    }

    /// <summary>Parses a float written by <see cref="PlanJsonWriter.FormatFloat"/>.</summary>
    public static float ParseFloat(string text, string path = "float") => text switch
    {
        "NaN" => float.NaN,
        "Infinity" => float.PositiveInfinity,
        "-Infinity" => float.NegativeInfinity,
        _ => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
            : throw new InvalidDataException($"{path} '{text}' is not a float."),
    };

    static JsonElement Get(JsonElement e, string key, string path) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) ? v : throw new InvalidDataException($"{path}.{key} is missing.");

    static string Str(JsonElement e, string key, string path)
    {
        var v = Get(e, key, path);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new InvalidDataException($"{path}.{key} is not a string.");
    }

    static long Long(JsonElement e, string key, string path)
    {
        var v = Get(e, key, path);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l) ? l : throw new InvalidDataException($"{path}.{key} is not an integer.");
    }

    static int Int(JsonElement e, string key, string path)
    {
        var v = Get(e, key, path);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new InvalidDataException($"{path}.{key} is not a 32-bit integer.");
    }

    static bool Bool(JsonElement e, string key, string path)
    {
        var v = Get(e, key, path);
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}.{key} is not a boolean."),
        };
    }

    static JsonElement Obj(JsonElement e, string key, string path)
    {
        var v = Get(e, key, path);
        return v.ValueKind == JsonValueKind.Object ? v : throw new InvalidDataException($"{path}.{key} is not an object.");
    }

    static IEnumerable<JsonElement> Arr(JsonElement e, string key, string path)
    {
        var v = Get(e, key, path);
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToArray() : throw new InvalidDataException($"{path}.{key} is not an array.");
    }
}
