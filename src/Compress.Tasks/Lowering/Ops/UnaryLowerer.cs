using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// The element-wise unary math ops (Abs, Neg, Reciprocal, Floor, Ceil, Sqrt, Exp, Log, Erf) on <c>UnaryF32.Run</c>;
/// in place when the input dies here. One class serves them all, registered once per op type with its <see cref="UnaryOp"/>.
/// </summary>
internal sealed class UnaryLowerer(string opType, UnaryOp op) : IOpLowerer
{
    public string OpType => opType;

    public IReadOnlyList<string> Calls => [PlanCalls.Unary];

    public string Notes => op == UnaryOp.Erf
        ? "vectorised rational approximation, |error| ≤ 1e-6; in place when possible"
        : "TensorPrimitives; in place when possible";

    public void Lower(Node node, LoweringContext ctx) => Emit(node, ctx, op, opType);

    /// <summary>y = op(x) for the node's first input and output, in place when the input dies here.</summary>
    internal static void Emit(Node node, LoweringContext ctx, UnaryOp op, string comment)
    {
        ctx.RequireOnlyFirstOutput(node);
        string x = node.Input(0), y = node.Output0;
        bool inPlace = ctx.TryInPlace(x, y);
        ctx.Emit(node, PlanCalls.Unary, comment + (inPlace ? " (in place)" : ""), PlanArg.Enum(op), ctx.Read(x), ctx.Write(y));
    }
}
