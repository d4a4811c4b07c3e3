namespace Compress.Generator.Model;

/// <summary>One argument of a kernel call; the derived records are the forms of docs/plan-format.md's argument table.</summary>
internal abstract record ArgumentSpec;

/// <summary>Which buffer a <see cref="SpanArgument"/> slices.</summary>
internal enum SpanSource
{
    Input,
    Output,
    Arena,
    Weights,
}

/// <summary>
/// The element type of a weights or arena view (<c>"type"</c>): selects <c>ModelWeights.F32/I8/U8/U16/I32</c> for weights,
/// and a <c>MemoryMarshal</c> view of the float arena (<c>arenaU8</c>, <c>arenaI8</c>, <c>arenaU16</c>, <c>arenaI32</c>) for the arena.
/// </summary>
internal enum ElementType
{
    None,
    F32,
    I8,
    U8,
    I32,
    U16,
}

/// <summary><c>{ "span": …, "index"?, "type"?, "offset", "length" }</c> → <c>buffer.Slice(offset, length)</c>.</summary>
internal sealed record SpanArgument : ArgumentSpec
{
    public required SpanSource Source { get; init; }

    /// <summary>The input or output index; 0 for the arena and weights.</summary>
    public required int Index { get; init; }

    /// <summary>
    /// The element type: always set for weights; for the arena <see cref="ElementType.None"/> means floats (a plan's
    /// <c>"f32"</c> reads as None too), otherwise a typed view; None for inputs and outputs.
    /// </summary>
    public required ElementType Type { get; init; }

    public required int Offset { get; init; }

    public required int Length { get; init; }
}

/// <summary><c>{ "span": "empty" }</c> → <c>default</c>.</summary>
internal sealed record EmptySpanArgument : ArgumentSpec;

/// <summary><c>{ "int": n }</c>.</summary>
internal sealed record IntArgument : ArgumentSpec
{
    public required int Value { get; init; }
}

/// <summary><c>{ "float": "text" }</c>: <see cref="Text"/> is the validated round-trip text or Infinity/-Infinity/NaN.</summary>
internal sealed record FloatArgument : ArgumentSpec
{
    public required string Text { get; init; }
}

/// <summary><c>{ "bool": b }</c>.</summary>
internal sealed record BoolArgument : ArgumentSpec
{
    public required bool Value { get; init; }
}

/// <summary><c>{ "enum": "Type.Member" }</c>, relative to <c>Compress.Runtime</c>.</summary>
internal sealed record EnumArgument : ArgumentSpec
{
    public required string Name { get; init; }
}

/// <summary><c>{ "new": "Type", "args": [ … ] }</c>: a struct from <c>Compress.Runtime</c> built from nested arguments.</summary>
internal sealed record NewArgument : ArgumentSpec
{
    public required string Type { get; init; }

    public required EquatableArray<ArgumentSpec> Arguments { get; init; }
}
