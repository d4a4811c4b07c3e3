using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// The element-wise binary ops (Add, Sub, Mul, Div, Max, Min) with numpy broadcasting, collapsed at build time to
/// the kernel's <see cref="Broadcast4"/>. A constant operand is read from the weights. One class serves the six ops,
/// which differ only in the <see cref="BinaryOp"/> they pass; each is registered under its own op type.
/// </summary>
internal sealed class BinaryLowerer(string opType, BinaryOp op) : IOpLowerer
{
    public string OpType => opType;

    public IReadOnlyList<string> Calls => [PlanCalls.Binary];

    public string Notes => op is BinaryOp.Max or BinaryOp.Min
        ? "any number of inputs (a left fold of binary steps); numpy broadcasting (at most 4 dims after collapsing)"
        : "numpy broadcasting (at most 4 dims after collapsing); constant operands from the weights";

    public void Lower(Node node, LoweringContext ctx)
    {
        var inputs = node.Inputs.Where(i => i.Length > 0).ToArray();
        string y = node.Output0;
        if (inputs.Length == 1 && op is BinaryOp.Max or BinaryOp.Min)
        {
            AliasLowerer.AliasWithActivation(node, ctx, y, inputs[0]);
            return;
        }
        if (inputs.Length > 2 && op is BinaryOp.Max or BinaryOp.Min)
        {
            // Variadic Max/Min: a left fold, op(op(x0, x1), x2) …, each partial result at its own broadcast shape in scratch.
            var partial = ctx.Read(inputs[0]);
            long[] partialDims = ctx.Dims(inputs[0]);
            for (int i = 1; i < inputs.Length; i++)
            {
                long[] next = ctx.Dims(inputs[i]);
                bool last = i == inputs.Length - 1;
                long[] outDims = last ? ctx.Dims(y) : BroadcastShape(node, ctx, partialDims, next);
                var target = last ? ctx.Write(y) : ctx.Scratch(LoweringContext.ToInt(outDims.Aggregate(1L, (p, d) => p * d)));
                ctx.Emit(node, PlanCalls.Binary, $"{opType} input {i} of {inputs.Length}, {LoweringContext.Format(outDims)}",
                    PlanArg.Enum(op), partial, ctx.Read(inputs[i]), target, StructArgs.Broadcast(Create(node, ctx, outDims, partialDims, next)),
                    last ? ctx.FusedActivation(node) : LoweringContext.Activation(FusedActivation.None));
                partial = target;
                partialDims = outDims;
            }
            return;
        }
        if (inputs.Length != 2) throw ctx.Unsupported(node, $"{inputs.Length} inputs; only two are supported");
        string a = inputs[0], b = inputs[1];
        long[] aDims = ctx.Dims(a), bDims = ctx.Dims(b), yDims = ctx.Dims(y);
        Broadcast4 b4;
        try
        {
            b4 = Broadcast4.Create(yDims, aDims, bDims);
        }
        catch (ArgumentException e)
        {
            throw ctx.Unsupported(node, $"the broadcast {LoweringContext.Format(aDims)} {opType} {LoweringContext.Format(bDims)} → {LoweringContext.Format(yDims)} cannot run: {e.Message}");
        }
        string Operand(string v, long[] d) => (ctx.IsConstant(v) ? "const " : "") + LoweringContext.Format(d);
        ctx.Emit(node, PlanCalls.Binary, $"{opType} {Operand(a, aDims)}, {Operand(b, bDims)}",
            PlanArg.Enum(op), ctx.Read(a), ctx.Read(b), ctx.Write(y), StructArgs.Broadcast(b4), ctx.FusedActivation(node));
    }

    Broadcast4 Create(Node node, LoweringContext ctx, long[] yDims, long[] aDims, long[] bDims)
    {
        try
        {
            return Broadcast4.Create(yDims, aDims, bDims);
        }
        catch (ArgumentException e)
        {
            throw ctx.Unsupported(node, $"the broadcast {LoweringContext.Format(aDims)} {opType} {LoweringContext.Format(bDims)} → {LoweringContext.Format(yDims)} cannot run: {e.Message}");
        }
    }

    /// <summary>numpy broadcasting of two shapes (right-aligned; a 1 stretches).</summary>
    static long[] BroadcastShape(Node node, LoweringContext ctx, long[] a, long[] b)
    {
        var y = new long[Math.Max(a.Length, b.Length)];
        for (int i = 1; i <= y.Length; i++)
        {
            long da = i <= a.Length ? a[^i] : 1, db = i <= b.Length ? b[^i] : 1;
            if (da != db && da != 1 && db != 1)
                throw ctx.Unsupported(node, $"shapes {LoweringContext.Format(a)} and {LoweringContext.Format(b)} do not broadcast");
            y[^i] = da == 1 ? db : da;
        }
        return y;
    }
}
