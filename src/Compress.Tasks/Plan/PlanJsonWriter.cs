using System.Globalization;
using System.Text;

namespace Compress.Tasks.Plan;

/// <summary>
/// Writes a <see cref="ModelPlan"/> as the plan JSON of docs/plan-format.md, deterministically: fixed key order,
/// invariant culture, floats as round-trip strings (<c>"Infinity"</c>, <c>"-Infinity"</c>, <c>"NaN"</c> for the
/// specials), <c>\n</c> line ends, 2-space indent, one argument per line. The same plan always gives the same bytes.
/// </summary>
public static class PlanJsonWriter
{
    /// <summary>The plan as JSON text (ends with a newline).</summary>
    public static string Write(ModelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var w = new JsonText();
        w.Line(0, "{");
        w.Line(1, $"\"format\": {Str(ModelPlan.FormatName)},");
        w.Line(1, $"\"version\": {Int(plan.Version)},");
        w.Line(1, $"\"producer\": {Str(plan.Producer)},");
        var s = plan.Source;
        w.Line(1, $"\"source\": {{ \"file\": {Str(s.File)}, \"sha256\": {Str(s.Sha256)}, \"producer\": {Str(s.Producer)}, " +
                  $"\"irVersion\": {s.IrVersion.ToString(CultureInfo.InvariantCulture)}, \"opsets\": {Str(s.Opsets)} }},");
        w.Line(1, $"\"class\": {{ \"namespace\": {Str(plan.Namespace)}, \"name\": {Str(plan.ClassName)} }},");
        w.Line(1, $"\"summary\": {Str(plan.Summary)},");
        // Only a non-default backend is written, so a kernels plan reads exactly as before backends existed.
        if (plan.Backend == PlanBackend.OnnxRuntime)
            w.Line(1, $"\"backend\": \"onnxruntime\", \"onnxRuntimeVersion\": {Str(plan.OnnxRuntimeVersion ?? "")},");
        w.Line(1, $"\"weights\": {{ \"resource\": {Str(plan.Weights.Resource)}, \"bytes\": {Int(plan.Weights.Bytes)}, \"sha256\": {Str(plan.Weights.Sha256)} }},");
        w.Line(1, $"\"arena\": {{ \"floats\": {Int(plan.ArenaFloats)} }},");
        w.Line(1, $"\"batch\": {{ \"dynamic\": {Bool(plan.BatchDynamic)} }},");
        if (plan.Stats is { } st)
            w.Line(1, $"\"stats\": {{ \"macs\": {Long(st.Macs)}, \"denseMacs\": {Long(st.DenseMacs)}, \"parameters\": {Long(st.Parameters)}, \"nonZeroParameters\": {Long(st.NonZeroParameters)} }},");
        WriteList(w, "inputs", plan.Inputs, Tensor, last: false);
        WriteList(w, "outputs", plan.Outputs, Tensor, last: false);
        if (plan.Steps.Count == 0) w.Line(1, "\"steps\": []");
        else
        {
            w.Line(1, "\"steps\": [");
            for (int i = 0; i < plan.Steps.Count; i++)
            {
                var step = plan.Steps[i];
                w.Line(2, "{");
                w.Line(3, $"\"node\": {Str(step.Node)},");
                w.Line(3, $"\"op\": {Str(step.Op)},");
                w.Line(3, $"\"comment\": {Str(step.Comment)},");
                w.Line(3, $"\"call\": {Str(step.Call)},");
                if (step.Args.Count == 0) w.Line(3, "\"args\": []");
                else
                {
                    w.Line(3, "\"args\": [");
                    for (int a = 0; a < step.Args.Count; a++)
                        w.Line(4, Arg(step.Args[a]) + (a + 1 < step.Args.Count ? "," : ""));
                    w.Line(3, "]");
                }
                w.Line(2, i + 1 < plan.Steps.Count ? "}," : "}");
            }
            w.Line(1, "]");
        }
        w.Line(0, "}");
        return w.ToString();
    }

    /// <summary>The plan as UTF-8 bytes without a byte-order mark.</summary>
    public static byte[] WriteUtf8(ModelPlan plan) => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Write(plan));

    /// <summary>A float as the plan writes it: shortest round-trip text, or <c>Infinity</c>/<c>-Infinity</c>/<c>NaN</c>.</summary>
    public static string FormatFloat(float value) =>
        float.IsNaN(value) ? "NaN"
        : float.IsPositiveInfinity(value) ? "Infinity"
        : float.IsNegativeInfinity(value) ? "-Infinity"
        : value.ToString("R", CultureInfo.InvariantCulture);

    static void WriteList<T>(JsonText w, string key, EquatableArray<T> items, Func<T, string> format, bool last)
    {
        string end = last ? "" : ",";
        if (items.Count == 0) { w.Line(1, $"\"{key}\": []{end}"); return; }
        w.Line(1, $"\"{key}\": [");
        for (int i = 0; i < items.Count; i++) w.Line(2, format(items[i]) + (i + 1 < items.Count ? "," : ""));
        w.Line(1, "]" + end);
    }

    static string Tensor(PlanTensor t) =>
        $"{{ \"name\": {Str(t.Name)}, \"identifier\": {Str(t.Identifier)}, \"shape\": [{string.Join(", ", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}], \"length\": {Int(t.Length)} }}";

    static string Arg(PlanArg arg) => arg switch
    {
        SpanArg { Source: SpanSource.Input or SpanSource.Output } s =>
            $"{{ \"span\": {Str(s.Source == SpanSource.Input ? "input" : "output")}, \"index\": {Int(s.Index)}, \"offset\": {Int(s.Offset)}, \"length\": {Int(s.Length)} }}",
        // "type" only for a typed view, so float arena spans (every fp32 plan) are written as before it existed.
        SpanArg { Source: SpanSource.Arena, IsFloat: true } s => $"{{ \"span\": \"arena\", \"offset\": {Int(s.Offset)}, \"length\": {Int(s.Length)} }}",
        SpanArg { Source: SpanSource.Arena } s =>
            $"{{ \"span\": \"arena\", \"type\": {Str(s.ElementType!)}, \"offset\": {Int(s.Offset)}, \"length\": {Int(s.Length)} }}",
        SpanArg { Source: SpanSource.Weights } s =>
            $"{{ \"span\": \"weights\", \"type\": {Str(s.ElementType ?? SpanArg.F32)}, \"offset\": {Int(s.Offset)}, \"length\": {Int(s.Length)} }}",
        EmptyArg => "{ \"span\": \"empty\" }",
        IntArg i => $"{{ \"int\": {Int(i.Value)} }}",
        FloatArg f => $"{{ \"float\": {Str(FormatFloat(f.Value))} }}",
        BoolArg b => $"{{ \"bool\": {Bool(b.Value)} }}",
        EnumArg e => $"{{ \"enum\": {Str(e.Value)} }}",
        NewArg n => $"{{ \"new\": {Str(n.Type)}, \"args\": [{(n.Args.Count == 0 ? "" : " " + string.Join(", ", n.Args.Select(Arg)) + " ")}] }}",
        _ => throw new ArgumentException($"Unknown plan argument {arg.GetType().Name}."),
    };

    static string Long(long v) => v.ToString(CultureInfo.InvariantCulture);

    static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    static string Bool(bool v) => v ? "true" : "false";

    /// <summary>A JSON string literal: quotes, backslashes and control characters escaped; everything else as is (UTF-8).</summary>
    internal static string Str(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[++i]);
                    }
                    else if (c < 0x20 || c == '\u2028' || c == '\u2029' || char.IsSurrogate(c))
                    {
                        // Other control characters, the JavaScript line separators and lone surrogates are escaped,
                        // so the file is always valid UTF-8 and valid JSON.
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    sealed class JsonText
    {
        readonly StringBuilder _sb = new();

        public void Line(int indent, string text) => _sb.Append(' ', indent * 2).Append(text).Append('\n');

        public override string ToString() => _sb.ToString();
    }
}
