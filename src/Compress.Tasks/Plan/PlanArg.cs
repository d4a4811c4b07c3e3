using System.Globalization;

namespace Compress.Tasks.Plan;

/// <summary>Where a span argument points.</summary>
public enum SpanSource
{
    /// <summary>The i-th model input (a <c>ReadOnlySpan&lt;float&gt;</c>).</summary>
    Input,
    /// <summary>The i-th model output (a <c>Span&lt;float&gt;</c>).</summary>
    Output,
    /// <summary>The instance's activation/scratch arena, in floats.</summary>
    Arena,
    /// <summary>The weights blob, in elements of the span's element type.</summary>
    Weights,
}

/// <summary>
/// One argument of a <see cref="PlanStep"/>, in the forms of docs/plan-format.md: a span (<see cref="SpanArg"/>),
/// an omitted optional tensor (<see cref="EmptyArg"/>), an int, float, bool, enum member, or a struct built from
/// nested arguments (<see cref="NewArg"/>).
/// </summary>
public abstract record PlanArg
{
    private protected PlanArg() { }

    public static SpanArg Input(int index, int offset, int length) => new(SpanSource.Input, index, offset, length, null);

    public static SpanArg Output(int index, int offset, int length) => new(SpanSource.Output, index, offset, length, null);

    public static SpanArg Arena(int offset, int length) => new(SpanSource.Arena, 0, offset, length, null);

    /// <summary>A weights span; <paramref name="offset"/> and <paramref name="length"/> count elements of <paramref name="elementType"/>.</summary>
    public static SpanArg Weights(int offset, int length, string elementType = SpanArg.F32) => new(SpanSource.Weights, 0, offset, length, elementType);

    public static EmptyArg Empty => EmptyArg.Instance;

    public static IntArg Int(int value) => new(value);

    public static FloatArg Float(float value) => new(value);

    public static BoolArg Bool(bool value) => new(value);

    /// <summary>An enum member named relative to <c>Compress.Runtime</c>, e.g. <c>"ActivationKind.Relu"</c>.</summary>
    public static EnumArg Enum(string value) => new(value);

    /// <summary>An enum member of a <c>Compress.Runtime</c> enum.</summary>
    public static EnumArg Enum<TEnum>(TEnum value) where TEnum : struct, System.Enum => new($"{typeof(TEnum).Name}.{value}");

    /// <summary>A struct of <c>Compress.Runtime</c> built by its positional constructor.</summary>
    public static NewArg New(string type, params PlanArg[] args) => new(type, args);
}

/// <summary><c>{ "span": …, "index": i, "offset": o, "length": n }</c>: a slice of an input, output, the arena or the weights.</summary>
/// <param name="Index">Input/output position; 0 for the arena and weights.</param>
/// <param name="ElementType">Weights element type (<c>"f32"</c>); null for the other sources.</param>
public sealed record SpanArg(SpanSource Source, int Index, int Offset, int Length, string? ElementType) : PlanArg
{
    public const string F32 = "f32";

    public override string ToString() => Source switch
    {
        SpanSource.Input or SpanSource.Output => $"{Source.ToString().ToLowerInvariant()}[{Index}][{Offset}..+{Length}]",
        SpanSource.Weights => $"weights.{ElementType}[{Offset}..+{Length}]",
        _ => $"arena[{Offset}..+{Length}]",
    };
}

/// <summary><c>{ "span": "empty" }</c>: an omitted optional tensor (no bias, no scratch).</summary>
public sealed record EmptyArg : PlanArg
{
    internal static readonly EmptyArg Instance = new();

    private EmptyArg() { }

    public override string ToString() => "empty";
}

/// <summary><c>{ "int": v }</c>.</summary>
public sealed record IntArg(int Value) : PlanArg
{
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary><c>{ "float": "text" }</c>, written as round-trip text.</summary>
public sealed record FloatArg(float Value) : PlanArg
{
    public override string ToString() => PlanJsonWriter.FormatFloat(Value);
}

/// <summary><c>{ "bool": v }</c>.</summary>
public sealed record BoolArg(bool Value) : PlanArg
{
    public override string ToString() => Value ? "true" : "false";
}

/// <summary><c>{ "enum": "Type.Member" }</c>, named relative to <c>Compress.Runtime</c>.</summary>
public sealed record EnumArg(string Value) : PlanArg
{
    public override string ToString() => Value;
}

/// <summary><c>{ "new": "Type", "args": [ … ] }</c>: a <c>Compress.Runtime</c> struct built by its positional constructor.</summary>
public sealed record NewArg(string Type, EquatableArray<PlanArg> Args) : PlanArg
{
    public override string ToString() => $"new {Type}({string.Join(", ", Args)})";
}
