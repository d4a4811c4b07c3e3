using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering;

/// <summary>
/// An argument of a kernel call as an op lowerer emits it, before memory planning: a finished
/// <see cref="PlanArg"/> (ints, floats, enums, structs, weights spans), a slice of a graph value whose storage is not
/// yet placed, or a scratch buffer. <see cref="ModelLowering"/> resolves them to plan spans after arena planning.
/// </summary>
public abstract record LoweredArg
{
    private protected LoweredArg() { }

    public static implicit operator LoweredArg(PlanArg arg) => new Fixed(arg);

    /// <summary>A finished plan argument.</summary>
    internal sealed record Fixed(PlanArg Arg) : LoweredArg;

    /// <summary>Elements [<paramref name="Offset"/>, +<paramref name="Length"/>) of the storage of value <paramref name="Name"/>.</summary>
    /// <param name="Write">True when the kernel writes it (an output span).</param>
    internal sealed record Value(string Name, int Offset, int Length, bool Write) : LoweredArg;

    /// <summary>
    /// Kernel scratch: <paramref name="Length"/> arena elements of <paramref name="ElementType"/> (null: floats; <c>"u8"</c>:
    /// bytes) live from the first to the last step that names <paramref name="Id"/>.
    /// </summary>
    internal sealed record Scratch(int Id, int Length, string? ElementType = null) : LoweredArg
    {
        /// <summary>Live over the whole plan (its contents persist between runs), not just between the steps naming it.</summary>
        public bool Persistent { get; init; }
    }
}
