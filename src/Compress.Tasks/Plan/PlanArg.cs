using System.Globalization;

namespace Compress.Tasks.Plan;

/// <summary>Where a span argument points.</summary>
public enum SpanSource
{
    /// <summary>The i-th model input (a <c>ReadOnlySpan&lt;float&gt;</c>).</summary>
    Input,
    /// <summary>The i-th model output (a <c>Span&lt;float&gt;</c>).</summary>
    Output,
    /// <summary>The instance's activation/scratch arena: floats, or elements of the span's element type over the same memory.</summary>
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

    /// <summary>
    /// An arena span. Floats by default; with <paramref name="elementType"/> <c>u8</c>, <c>i8</c> or <c>i32</c> the offset
    /// and length count elements of that type over the same memory (a u8 offset is 4 × a float offset). <c>f32</c> is
    /// stored as null, the form the plan JSON reads back.
    /// </summary>
    public static SpanArg Arena(int offset, int length, string? elementType = null) =>
        new(SpanSource.Arena, 0, offset, length, elementType is SpanArg.F32 ? null : elementType);

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
/// <param name="ElementType">
/// Weights: the element type (<c>"f32"</c>, <c>"i8"</c>, <c>"u8"</c>, <c>"u16"</c>, <c>"i32"</c>), always set. Arena: null for floats,
/// or <c>"u8"</c>, <c>"i8"</c>, <c>"u16"</c>, <c>"i32"</c> for a typed view of the same memory. Inputs and outputs: null (always floats).
/// </param>
public sealed record SpanArg(SpanSource Source, int Index, int Offset, int Length, string? ElementType) : PlanArg
{
    public const string F32 = "f32";
    public const string I8 = "i8";
    public const string U8 = "u8";
    public const string I32 = "i32";
    public const string U16 = "u16";

    /// <summary>The element types a weights or arena span may name.</summary>
    public static IReadOnlyList<string> ElementTypes { get; } = [F32, I8, U8, I32, U16];

    /// <summary>Bytes per element of <paramref name="elementType"/> (null is float).</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="ElementTypes"/>.</exception>
    public static int ElementSize(string? elementType) => elementType switch
    {
        null or F32 or I32 => 4,
        I8 or U8 => 1,
        U16 => 2,
        _ => throw new ArgumentException($"'{elementType}' is not a plan element type ({string.Join(", ", ElementTypes)}).", nameof(elementType)),
    };

    /// <summary>True when the span holds float32 elements (inputs, outputs, untyped arena, f32 weights).</summary>
    public bool IsFloat => ElementType is null or F32;

    /// <summary>Bytes per element of this span.</summary>
    public int ElementBytes => ElementSize(ElementType);

    public override string ToString() => Source switch
    {
        SpanSource.Input or SpanSource.Output => $"{Source.ToString().ToLowerInvariant()}[{Index}][{Offset}..+{Length}]",
        SpanSource.Weights => $"weights.{ElementType}[{Offset}..+{Length}]",
        _ => IsFloat ? $"arena[{Offset}..+{Length}]" : $"arena.{ElementType}[{Offset}..+{Length}]",
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
