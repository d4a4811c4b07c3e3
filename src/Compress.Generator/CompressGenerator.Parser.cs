using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using Compress.Generator.Json;
using Compress.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Compress.Generator;

public sealed partial class CompressGenerator
{
    /// <summary>The plan format versions this generator reads (docs/plan-format.md).</summary>
    internal static readonly int[] SupportedVersions = [1];

    /// <summary>The value of the plan's <c>format</c> member.</summary>
    internal const string PlanFormat = "compress-plan";

    /// <summary>
    /// Names the generated class declares or uses unqualified; a tensor identifier equal to one of them would shadow it
    /// inside <c>Run</c>, so the plan is rejected instead.
    /// </summary>
    internal static readonly string[] ReservedNames =
    [
        "Run", "RunCore", "ArenaLength", "WeightsBytes", "LoadWeights", "ThrowHelper",
        "_weights", "_arena", "s_sharedWeights", "s_sharedWeightsLock", "nameof",
    ];

    /// <summary>
    /// Stage 1: plan text → <see cref="PlanSpec"/>. Never throws except for cancellation: everything wrong with the
    /// plan becomes a diagnostic located at the offending JSON value.
    /// </summary>
    internal static PlanResult Parse(string path, SourceText? text, CancellationToken cancellationToken)
    {
        string fileName = Path.GetFileName(path);
        if (text is null)
        {
            return Failure(path, DiagnosticDescriptors.MalformedPlan, default, default, fileName, "the file could not be read");
        }

        try
        {
            string content = text.ToString();
            JsonValue root;
            try
            {
                root = JsonReader.Parse(content);
            }
            catch (JsonReaderException e)
            {
                var span = new TextSpan(e.Start, e.Length);
                LinePosition at = text.Lines.GetLinePosition(e.Start);
                string where = "line " + (at.Line + 1).ToString(CultureInfo.InvariantCulture) + ", column " + (at.Character + 1).ToString(CultureInfo.InvariantCulture);
                return Failure(path, DiagnosticDescriptors.MalformedPlan, span, text.Lines.GetLinePositionSpan(span), fileName, "invalid JSON at " + where + ": " + e.Message);
            }

            var reader = new PlanReader(fileName, cancellationToken);
            try
            {
                PlanSpec plan = reader.ReadPlan(root);
                TextSpan classNameSpan = Clamp(reader.ClassNameSpan, content.Length);
                return new PlanResult
                {
                    FilePath = path,
                    Plan = plan,
                    Diagnostics = EquatableArray<DiagnosticInfo>.Empty,
                    ClassNameSpan = classNameSpan,
                    ClassNameLineSpan = text.Lines.GetLinePositionSpan(classNameSpan),
                };
            }
            catch (PlanException e)
            {
                TextSpan span = Clamp(new TextSpan(e.Start, e.Length), content.Length);
                return Failure(path, e.Descriptor, span, text.Lines.GetLinePositionSpan(span), e.Arguments);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failure(path, DiagnosticDescriptors.InternalError, default, default, fileName, e.GetType().Name + ": " + e.Message);
        }
    }

    private static TextSpan Clamp(TextSpan span, int length)
    {
        int start = Math.Min(span.Start, length);
        return new TextSpan(start, Math.Min(span.Length, length - start));
    }

    private static PlanResult Failure(string path, DiagnosticDescriptor descriptor, TextSpan span, LinePositionSpan lineSpan, params string[] arguments) => new()
    {
        FilePath = path,
        Plan = null,
        Diagnostics = new EquatableArray<DiagnosticInfo>([CreateDiagnosticInfo(path, descriptor, span, lineSpan, arguments)]),
    };

    private static DiagnosticInfo CreateDiagnosticInfo(string path, DiagnosticDescriptor descriptor, TextSpan span, LinePositionSpan lineSpan, params string[] arguments) => new()
    {
        Descriptor = descriptor,
        FilePath = path,
        Span = span,
        LineSpan = lineSpan,
        MessageArguments = new EquatableArray<string>(arguments),
    };

    /// <summary>What is wrong with a plan, where (a span of the JSON text), and which diagnostic reports it.</summary>
    private sealed class PlanException : Exception
    {
        public PlanException(DiagnosticDescriptor descriptor, int start, int length, params string[] arguments)
            : base(arguments.Length > 1 ? arguments[1] : descriptor.Id)
        {
            Descriptor = descriptor;
            Start = start;
            Length = length;
            Arguments = arguments;
        }

        public DiagnosticDescriptor Descriptor { get; }

        public int Start { get; }

        public int Length { get; }

        public string[] Arguments { get; }
    }

    /// <summary>
    /// Reads the JSON tree of one plan into the model, checking every rule of docs/plan-format.md that the emitted
    /// code relies on: names are C# names, numbers are in range, every slice lies inside its buffer.
    /// Members not in the format are ignored (so additive changes stay compatible), except inside <c>args</c>,
    /// where every member changes the emitted call and an unknown one is an error.
    /// </summary>
    private sealed class PlanReader
    {
        private readonly string _fileName;
        private readonly CancellationToken _cancellationToken;

        public PlanReader(string fileName, CancellationToken cancellationToken)
        {
            _fileName = fileName;
            _cancellationToken = cancellationToken;
        }

        /// <summary>Where <c>class.name</c>'s value is, once <see cref="ReadPlan"/> has read it.</summary>
        public TextSpan ClassNameSpan { get; private set; }

        public PlanSpec ReadPlan(JsonValue root)
        {
            RequireKind(root, JsonKind.Object, "the document");

            JsonValue format = Member(root, "format");
            string formatText = ReadString(format, "format");
            if (formatText != PlanFormat)
            {
                throw Malformed(format, "\"format\" is \"" + Printable(formatText) + "\", expected \"" + PlanFormat + "\"");
            }

            JsonValue versionValue = Member(root, "version");
            long version = ReadInteger(versionValue, "version", long.MinValue, long.MaxValue);
            if (version < int.MinValue || version > int.MaxValue || Array.IndexOf(SupportedVersions, (int)version) < 0)
            {
                throw new PlanException(
                    DiagnosticDescriptors.UnsupportedVersion,
                    versionValue.Start,
                    versionValue.Length,
                    _fileName,
                    version.ToString(CultureInfo.InvariantCulture),
                    GeneratorVersion,
                    string.Join(", ", Array.ConvertAll(SupportedVersions, v => v.ToString(CultureInfo.InvariantCulture))));
            }

            string producer = ReadString(Member(root, "producer"), "producer");

            JsonValue source = Member(root, "source");
            RequireKind(source, JsonKind.Object, "source");
            var sourceSpec = new SourceSpec
            {
                File = ReadString(Member(source, "file"), "source.file"),
                Sha256 = ReadString(Member(source, "sha256"), "source.sha256"),
                Producer = ReadString(Member(source, "producer"), "source.producer"),
                IrVersion = ReadInteger(Member(source, "irVersion"), "source.irVersion", 0, long.MaxValue),
                Opsets = ReadString(Member(source, "opsets"), "source.opsets"),
            };

            JsonValue @class = Member(root, "class");
            RequireKind(@class, JsonKind.Object, "class");
            JsonValue namespaceValue = Member(@class, "namespace");
            string @namespace = ReadString(namespaceValue, "class.namespace");
            if (@namespace.Length > 0)
            {
                CheckName(namespaceValue, "class.namespace", CSharpNames.ValidateDottedName(@namespace, allowVerbatim: true));
            }

            JsonValue nameValue = Member(@class, "name");
            string className = ReadString(nameValue, "class.name");
            CheckName(nameValue, "class.name", CSharpNames.ValidateIdentifier(className));
            if (Array.IndexOf(ReservedNames, CSharpNames.Unescape(className)) >= 0)
            {
                throw Malformed(nameValue, "\"class.name\": '" + CSharpNames.Unescape(className) + "' is a name the generated class uses");
            }

            ClassNameSpan = new TextSpan(nameValue.Start, nameValue.Length);

            string summary = ReadString(Member(root, "summary"), "summary");

            JsonValue weights = Member(root, "weights");
            RequireKind(weights, JsonKind.Object, "weights");
            var weightsSpec = new WeightsSpec
            {
                Resource = ReadString(Member(weights, "resource"), "weights.resource"),
                Bytes = (int)ReadInteger(Member(weights, "bytes"), "weights.bytes", 0, int.MaxValue),
                Sha256 = ReadString(Member(weights, "sha256"), "weights.sha256"),
            };
            if (weightsSpec.Bytes > 0 && weightsSpec.Resource.Length == 0)
            {
                throw Malformed(Member(weights, "resource"), "\"weights.resource\" is empty but \"weights.bytes\" is not 0");
            }

            JsonValue arena = Member(root, "arena");
            RequireKind(arena, JsonKind.Object, "arena");
            int arenaFloats = (int)ReadInteger(Member(arena, "floats"), "arena.floats", 0, int.MaxValue);

            JsonValue batch = Member(root, "batch");
            RequireKind(batch, JsonKind.Object, "batch");
            bool dynamicBatch = ReadBool(Member(batch, "dynamic"), "batch.dynamic");

            var identifierValues = new List<JsonValue>();
            EquatableArray<TensorSpec> inputs = ReadTensors(Member(root, "inputs"), "inputs", dynamicBatch, identifierValues);
            JsonValue outputsValue = Member(root, "outputs");
            EquatableArray<TensorSpec> outputs = ReadTensors(outputsValue, "outputs", dynamicBatch, identifierValues);
            if (outputs.Count == 0)
            {
                throw Malformed(outputsValue, "\"outputs\" is empty; a model has at least one output");
            }

            CheckNames(identifierValues, className, inputs, outputs);

            StatsSpec? stats = null;
            if (root.Find("stats") is { } statsProperty)
            {
                JsonValue st = statsProperty.Value;
                RequireKind(st, JsonKind.Object, "stats");
                stats = new StatsSpec(
                    ReadInteger(Member(st, "macs"), "stats.macs", 0, long.MaxValue),
                    ReadInteger(Member(st, "denseMacs"), "stats.denseMacs", 0, long.MaxValue),
                    ReadInteger(Member(st, "parameters"), "stats.parameters", 0, long.MaxValue),
                    ReadInteger(Member(st, "nonZeroParameters"), "stats.nonZeroParameters", 0, long.MaxValue));
            }

            string? onnxRuntimeVersion = null;
            if (root.Find("backend") is { } backendProperty)
            {
                string backend = ReadString(backendProperty.Value, "backend");
                if (backend == "onnxruntime")
                {
                    onnxRuntimeVersion = ReadString(Member(root, "onnxRuntimeVersion"), "onnxRuntimeVersion");
                    if (weightsSpec.Bytes == 0)
                    {
                        throw Malformed(Member(weights, "bytes"), "\"backend\" is \"onnxruntime\" but \"weights.bytes\" is 0; the weights resource holds the model");
                    }
                }
                else if (backend != "kernels")
                {
                    throw Malformed(backendProperty.Value, "\"backend\" is \"" + Printable(backend) + "\", expected \"kernels\" or \"onnxruntime\"");
                }
            }

            var context = new StepContext(inputs, outputs, arenaFloats, weightsSpec.Bytes);
            JsonValue stepsValue = Member(root, "steps");
            RequireKind(stepsValue, JsonKind.Array, "steps");
            var steps = new List<StepSpec>(stepsValue.Items.Count);
            for (int i = 0; i < stepsValue.Items.Count; i++)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                steps.Add(ReadStep(stepsValue.Items[i], "steps[" + i.ToString(CultureInfo.InvariantCulture) + "]", context));
            }

            if (onnxRuntimeVersion is not null && steps.Count > 0)
            {
                throw Malformed(stepsValue, "\"backend\" is \"onnxruntime\" but \"steps\" is not empty");
            }

            return new PlanSpec
            {
                PlanFileName = _fileName,
                Producer = producer,
                Source = sourceSpec,
                Namespace = @namespace,
                ClassName = className,
                Summary = summary,
                Weights = weightsSpec,
                ArenaFloats = arenaFloats,
                DynamicBatch = dynamicBatch,
                Inputs = inputs,
                Outputs = outputs,
                Steps = new EquatableArray<StepSpec>(steps.ToArray()),
                Stats = stats,
                OnnxRuntimeVersion = onnxRuntimeVersion,
            };
        }

        private EquatableArray<TensorSpec> ReadTensors(JsonValue array, string what, bool dynamicBatch, List<JsonValue> identifierValues)
        {
            RequireKind(array, JsonKind.Array, what);
            var tensors = new TensorSpec[array.Items.Count];
            for (int i = 0; i < tensors.Length; i++)
            {
                JsonValue item = array.Items[i];
                string path = what + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";
                RequireKind(item, JsonKind.Object, path);
                string name = ReadString(Member(item, "name"), path + ".name");
                JsonValue identifierValue = Member(item, "identifier");
                string identifier = ReadString(identifierValue, path + ".identifier");
                CheckName(identifierValue, path + ".identifier", CSharpNames.ValidateIdentifier(identifier));
                identifierValues.Add(identifierValue);

                JsonValue shapeValue = Member(item, "shape");
                RequireKind(shapeValue, JsonKind.Array, path + ".shape");
                var shape = new int[shapeValue.Items.Count];
                long product = 1;
                for (int d = 0; d < shape.Length; d++)
                {
                    shape[d] = (int)ReadInteger(shapeValue.Items[d], path + ".shape[" + d.ToString(CultureInfo.InvariantCulture) + "]", 0, int.MaxValue);
                    product = Math.Min(product * shape[d], (long)int.MaxValue + 1);
                }

                JsonValue lengthValue = Member(item, "length");
                int length = (int)ReadInteger(lengthValue, path + ".length", 0, int.MaxValue);
                if (product != length)
                {
                    throw Malformed(lengthValue, "\"" + path + ".length\" is " + length.ToString(CultureInfo.InvariantCulture) + " but the shape holds " + product.ToString(CultureInfo.InvariantCulture) + " elements");
                }

                if (dynamicBatch && (shape.Length == 0 || shape[0] != 1))
                {
                    throw Malformed(shapeValue, "\"" + path + ".shape\" must start with 1 (one sample) when \"batch.dynamic\" is true");
                }

                tensors[i] = new TensorSpec
                {
                    Name = name,
                    Identifier = identifier,
                    MemberStem = CSharpNames.MemberStem(identifier),
                    Shape = new EquatableArray<int>(shape),
                    Length = length,
                };
            }

            return new EquatableArray<TensorSpec>(tensors);
        }

        /// <summary>
        /// Identifiers become parameters and member names of one class; none may clash with another, with the class, or
        /// with a name the generated code uses.
        /// </summary>
        private void CheckNames(List<JsonValue> identifierValues, string className, EquatableArray<TensorSpec> inputs, EquatableArray<TensorSpec> outputs)
        {
            string classBody = CSharpNames.Unescape(className);
            var members = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string reserved in ReservedNames)
            {
                members[reserved] = "a member of the generated class";
            }

            members[classBody] = "the class name";
            var parameters = new HashSet<string>(StringComparer.Ordinal);
            int position = 0;
            foreach (TensorSpec tensor in Concat(inputs, outputs))
            {
                JsonValue at = identifierValues[position++];
                string body = CSharpNames.Unescape(tensor.Identifier);
                if (!parameters.Add(body))
                {
                    throw Malformed(at, "the identifier '" + body + "' is used by two inputs/outputs");
                }

                foreach (string member in new[] { tensor.MemberStem + "Length", tensor.MemberStem + "Shape" })
                {
                    if (members.TryGetValue(member, out string? owner))
                    {
                        throw Malformed(at, "the identifier '" + body + "' would generate the member '" + member + "', which clashes with " + owner);
                    }

                    members[member] = "the member generated for '" + body + "'";
                }
            }

            position = 0;
            foreach (TensorSpec tensor in Concat(inputs, outputs))
            {
                JsonValue at = identifierValues[position++];
                string body = CSharpNames.Unescape(tensor.Identifier);
                if (members.TryGetValue(body, out string? owner))
                {
                    throw Malformed(at, "the identifier '" + body + "' clashes with " + owner);
                }
            }
        }

        private static IEnumerable<TensorSpec> Concat(EquatableArray<TensorSpec> first, EquatableArray<TensorSpec> second)
        {
            foreach (TensorSpec tensor in first)
            {
                yield return tensor;
            }

            foreach (TensorSpec tensor in second)
            {
                yield return tensor;
            }
        }

        private StepSpec ReadStep(JsonValue step, string path, StepContext context)
        {
            RequireKind(step, JsonKind.Object, path);
            string node = ReadString(Member(step, "node"), path + ".node");
            string op = ReadString(Member(step, "op"), path + ".op");
            JsonProperty? commentProperty = step.Find("comment");
            string comment = commentProperty is null ? "" : ReadString(commentProperty.Value, path + ".comment");
            JsonValue callValue = Member(step, "call");
            string call = ReadString(callValue, path + ".call");
            CheckName(callValue, path + ".call", CSharpNames.ValidateDottedName(call, allowVerbatim: false));
            if (call.IndexOf('.') < 0)
            {
                throw Malformed(callValue, "\"" + path + ".call\" must name a type and a method, e.g. \"Kernels.GemmF32.Gemv\"");
            }

            return new StepSpec
            {
                Node = node,
                Op = op,
                Comment = comment,
                Call = call,
                Arguments = ReadArguments(Member(step, "args"), path + ".args", context),
            };
        }

        private EquatableArray<ArgumentSpec> ReadArguments(JsonValue array, string path, StepContext context)
        {
            RequireKind(array, JsonKind.Array, path);
            var arguments = new ArgumentSpec[array.Items.Count];
            for (int i = 0; i < arguments.Length; i++)
            {
                arguments[i] = ReadArgument(array.Items[i], path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", context);
            }

            return new EquatableArray<ArgumentSpec>(arguments);
        }

        private static readonly string[] ArgumentForms = ["span", "int", "float", "bool", "enum", "new"];

        private ArgumentSpec ReadArgument(JsonValue value, string path, StepContext context)
        {
            RequireKind(value, JsonKind.Object, path);
            string? form = null;
            foreach (JsonProperty property in value.Properties)
            {
                if (Array.IndexOf(ArgumentForms, property.Name) >= 0)
                {
                    if (form is not null)
                    {
                        throw Malformed(value, "\"" + path + "\" has both \"" + form + "\" and \"" + property.Name + "\"; an argument has exactly one form");
                    }

                    form = property.Name;
                }
            }

            switch (form)
            {
                case "span":
                    return ReadSpan(value, path, context);
                case "int":
                    AllowOnly(value, path, "int");
                    return new IntArgument { Value = (int)ReadInteger(Member(value, "int"), path + ".int", int.MinValue, int.MaxValue) };
                case "float":
                    AllowOnly(value, path, "float");
                    return new FloatArgument { Text = ReadFloatText(Member(value, "float"), path + ".float") };
                case "bool":
                    AllowOnly(value, path, "bool");
                    return new BoolArgument { Value = ReadBool(Member(value, "bool"), path + ".bool") };
                case "enum":
                    AllowOnly(value, path, "enum");
                    JsonValue enumValue = Member(value, "enum");
                    string enumName = ReadString(enumValue, path + ".enum");
                    CheckName(enumValue, path + ".enum", CSharpNames.ValidateDottedName(enumName, allowVerbatim: false));
                    if (enumName.IndexOf('.') < 0)
                    {
                        throw Malformed(enumValue, "\"" + path + ".enum\" must name a type and a member, e.g. \"ActivationKind.Relu\"");
                    }

                    return new EnumArgument { Name = enumName };
                case "new":
                    AllowOnly(value, path, "new", "args");
                    JsonValue typeValue = Member(value, "new");
                    string type = ReadString(typeValue, path + ".new");
                    CheckName(typeValue, path + ".new", CSharpNames.ValidateDottedName(type, allowVerbatim: false));
                    return new NewArgument { Type = type, Arguments = ReadArguments(Member(value, "args"), path + ".args", context) };
                default:
                    throw Malformed(value, "\"" + path + "\" is not an argument: expected one of \"span\", \"int\", \"float\", \"bool\", \"enum\", \"new\"");
            }
        }

        private ArgumentSpec ReadSpan(JsonValue value, string path, StepContext context)
        {
            JsonValue kindValue = Member(value, "span");
            string kind = ReadString(kindValue, path + ".span");
            SpanSource source;
            int index = 0;
            ElementType type = ElementType.None;
            long extent;
            string buffer;
            switch (kind)
            {
                case "empty":
                    AllowOnly(value, path, "span");
                    return new EmptySpanArgument();
                case "input":
                case "output":
                    AllowOnly(value, path, "span", "index", "offset", "length");
                    source = kind == "input" ? SpanSource.Input : SpanSource.Output;
                    EquatableArray<TensorSpec> tensors = source == SpanSource.Input ? context.Inputs : context.Outputs;
                    JsonValue indexValue = Member(value, "index");
                    index = (int)ReadInteger(indexValue, path + ".index", 0, int.MaxValue);
                    if (index >= tensors.Count)
                    {
                        throw Malformed(indexValue, "\"" + path + ".index\" is " + index.ToString(CultureInfo.InvariantCulture) + " but the plan has " + tensors.Count.ToString(CultureInfo.InvariantCulture) + " " + kind + "s");
                    }

                    extent = tensors[index].Length;
                    buffer = kind + " '" + CSharpNames.Unescape(tensors[index].Identifier) + "'";
                    break;
                case "arena":
                    AllowOnly(value, path, "span", "type", "offset", "length");
                    source = SpanSource.Arena;
                    if (value.Find("type") is { } arenaType)
                    {
                        // A typed view of the same float memory: offset and length count elements of the type.
                        int arenaElementSize;
                        (type, arenaElementSize, string arenaTypeName) = ReadElementType(arenaType.Value, path);
                        if (type == ElementType.F32)
                        {
                            type = ElementType.None;
                        }

                        extent = (long)context.ArenaFloats * 4 / arenaElementSize;
                        buffer = type == ElementType.None ? "the arena" : "the arena (" + extent.ToString(CultureInfo.InvariantCulture) + " " + arenaTypeName + " elements)";
                    }
                    else
                    {
                        extent = context.ArenaFloats;
                        buffer = "the arena";
                    }

                    break;
                case "weights":
                    AllowOnly(value, path, "span", "type", "offset", "length");
                    source = SpanSource.Weights;
                    int elementSize;
                    string typeName;
                    (type, elementSize, typeName) = ReadElementType(Member(value, "type"), path);
                    extent = context.WeightsBytes / elementSize;
                    buffer = "the weights (" + extent.ToString(CultureInfo.InvariantCulture) + " " + typeName + " elements)";
                    break;
                default:
                    throw Malformed(kindValue, "\"" + path + ".span\" is \"" + Printable(kind) + "\"; expected \"input\", \"output\", \"arena\", \"weights\" or \"empty\"");
            }

            int offset = (int)ReadInteger(Member(value, "offset"), path + ".offset", 0, int.MaxValue);
            int length = (int)ReadInteger(Member(value, "length"), path + ".length", 0, int.MaxValue);
            if ((long)offset + length > extent)
            {
                throw Malformed(value, "\"" + path + "\" slices [" + offset.ToString(CultureInfo.InvariantCulture) + ", " + ((long)offset + length).ToString(CultureInfo.InvariantCulture) + ") but " + buffer + " holds " + extent.ToString(CultureInfo.InvariantCulture));
            }

            return new SpanArgument { Source = source, Index = index, Type = type, Offset = offset, Length = length };
        }

        /// <summary>A span's <c>"type"</c>: the element type, its size in bytes, and its name.</summary>
        private (ElementType Type, int Size, string Name) ReadElementType(JsonValue typeValue, string path)
        {
            string typeName = ReadString(typeValue, path + ".type");
            return typeName switch
            {
                "f32" => (ElementType.F32, 4, typeName),
                "i8" => (ElementType.I8, 1, typeName),
                "u8" => (ElementType.U8, 1, typeName),
                "i32" => (ElementType.I32, 4, typeName),
                "u16" => (ElementType.U16, 2, typeName),
                _ => throw Malformed(typeValue, "\"" + path + ".type\" is \"" + Printable(typeName) + "\"; expected \"f32\", \"i8\", \"u8\", \"u16\" or \"i32\""),
            };
        }

        private string ReadFloatText(JsonValue value, string path)
        {
            string text = ReadString(value, path);
            if (text is "Infinity" or "-Infinity" or "NaN")
            {
                return text;
            }

            if (!IsRealLiteral(text))
            {
                throw Malformed(value, "\"" + path + "\" is \"" + Printable(text) + "\"; expected a number such as \"1E-05\" or \"Infinity\", \"-Infinity\", \"NaN\"");
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)
                || double.IsInfinity(parsed)
                || float.IsInfinity((float)parsed))
            {
                throw Malformed(value, "\"" + path + "\" is \"" + text + "\", outside the range of float");
            }

            return text;
        }

        // -?digits(.digits)?([eE][+-]?digits)?  — a C# real literal once "f" is appended (a leading '-' becomes unary minus).
        private static bool IsRealLiteral(string text)
        {
            int i = 0;
            if (i < text.Length && text[i] == '-')
            {
                i++;
            }

            int digits = SkipDigits(text, ref i);
            if (digits == 0)
            {
                return false;
            }

            if (i < text.Length && text[i] == '.')
            {
                i++;
                if (SkipDigits(text, ref i) == 0)
                {
                    return false;
                }
            }

            if (i < text.Length && text[i] is 'e' or 'E')
            {
                i++;
                if (i < text.Length && text[i] is '+' or '-')
                {
                    i++;
                }

                if (SkipDigits(text, ref i) == 0)
                {
                    return false;
                }
            }

            return i == text.Length;
        }

        private static int SkipDigits(string text, ref int i)
        {
            int start = i;
            while (i < text.Length && text[i] >= '0' && text[i] <= '9')
            {
                i++;
            }

            return i - start;
        }

        private void AllowOnly(JsonValue value, string path, params string[] names)
        {
            foreach (JsonProperty property in value.Properties)
            {
                if (Array.IndexOf(names, property.Name) < 0)
                {
                    throw new PlanException(
                        DiagnosticDescriptors.MalformedPlan,
                        property.NameStart,
                        property.NameLength,
                        _fileName,
                        "\"" + path + "\" has the unexpected member \"" + Printable(property.Name) + "\"");
                }
            }
        }

        private JsonValue Member(JsonValue obj, string name)
        {
            JsonProperty? property = obj.Find(name);
            if (property is null)
            {
                throw new PlanException(DiagnosticDescriptors.MalformedPlan, obj.Start, 1, _fileName, "the member \"" + name + "\" is missing");
            }

            return property.Value;
        }

        private void RequireKind(JsonValue value, JsonKind kind, string path)
        {
            if (value.Kind != kind)
            {
                string expected = kind switch
                {
                    JsonKind.Object => "an object",
                    JsonKind.Array => "an array",
                    JsonKind.String => "a string",
                    _ => kind.ToString(),
                };
                throw Malformed(value, "\"" + path + "\" is " + value.Describe() + ", expected " + expected);
            }
        }

        private string ReadString(JsonValue value, string path)
        {
            RequireKind(value, JsonKind.String, path);
            return value.Text;
        }

        private bool ReadBool(JsonValue value, string path)
        {
            if (value.Kind is not (JsonKind.True or JsonKind.False))
            {
                throw Malformed(value, "\"" + path + "\" is " + value.Describe() + ", expected true or false");
            }

            return value.Kind == JsonKind.True;
        }

        private long ReadInteger(JsonValue value, string path, long min, long max)
        {
            if (value.Kind != JsonKind.Number
                || value.Text.IndexOfAny(['.', 'e', 'E']) >= 0
                || !long.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long result))
            {
                throw Malformed(value, "\"" + path + "\" is " + (value.Kind == JsonKind.Number ? value.Text : value.Describe()) + ", expected an integer");
            }

            if (result < min || result > max)
            {
                throw Malformed(value, "\"" + path + "\" is " + value.Text + ", outside [" + min.ToString(CultureInfo.InvariantCulture) + ", " + max.ToString(CultureInfo.InvariantCulture) + "]");
            }

            return result;
        }

        private void CheckName(JsonValue value, string path, string? problem)
        {
            if (problem is not null)
            {
                throw Malformed(value, "\"" + path + "\": " + problem);
            }
        }

        private PlanException Malformed(JsonValue at, string message) =>
            new(DiagnosticDescriptors.MalformedPlan, at.Start, at.Length, _fileName, message);

        private static string Printable(string text) => CSharpNames.Printable(text);
    }

    /// <summary>The buffers a step's slices must fit in.</summary>
    private sealed class StepContext
    {
        public StepContext(EquatableArray<TensorSpec> inputs, EquatableArray<TensorSpec> outputs, int arenaFloats, int weightsBytes)
        {
            Inputs = inputs;
            Outputs = outputs;
            ArenaFloats = arenaFloats;
            WeightsBytes = weightsBytes;
        }

        public EquatableArray<TensorSpec> Inputs { get; }

        public EquatableArray<TensorSpec> Outputs { get; }

        public int ArenaFloats { get; }

        public int WeightsBytes { get; }
    }
}
