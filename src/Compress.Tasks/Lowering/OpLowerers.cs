using System.Collections.Immutable;
using Compress.Runtime;
using Compress.Tasks.Lowering.Ops;

namespace Compress.Tasks.Lowering;

/// <summary>
/// The op table: one <see cref="IOpLowerer"/> per supported ONNX op. <see cref="SupportedOps"/> (and the README's
/// supported-ops table, via <see cref="MarkdownTable"/>) is derived from it; there is no other list.
/// </summary>
public static class OpLowerers
{
    /// <summary>Every lowerer, sorted by op type.</summary>
    public static ImmutableArray<IOpLowerer> All { get; } = new IOpLowerer[]
    {
        new GemmLowerer(),
        new MatMulLowerer(),
        new ConvLowerer(),
        new BatchNormalizationLowerer(),
        new MaxPoolLowerer(),
        new AveragePoolLowerer(),
        new GlobalAveragePoolLowerer(),
        new GlobalMaxPoolLowerer(),
        new BinaryLowerer("Add", BinaryOp.Add),
        new BinaryLowerer("Sub", BinaryOp.Sub),
        new BinaryLowerer("Mul", BinaryOp.Mul),
        new BinaryLowerer("Div", BinaryOp.Div),
        new BinaryLowerer("Max", BinaryOp.Max),
        new BinaryLowerer("Min", BinaryOp.Min),
        new ActivationLowerer("Relu"),
        new ActivationLowerer("LeakyRelu"),
        new ActivationLowerer("Clip"),
        new ActivationLowerer("Sigmoid"),
        new ActivationLowerer("HardSigmoid"),
        new ActivationLowerer("HardSwish"),
        new ActivationLowerer("Tanh"),
        new SoftmaxLowerer(),
        new AliasLowerer("Flatten"),
        new AliasLowerer("Reshape"),
        new AliasLowerer("Squeeze"),
        new AliasLowerer("Unsqueeze"),
        new AliasLowerer("Identity"),
        new AliasLowerer("Dropout"),
        new TransposeLowerer(),
        new ConcatLowerer(),
        new UnaryLowerer("Abs", UnaryOp.Abs),
        new UnaryLowerer("Neg", UnaryOp.Neg),
        new UnaryLowerer("Reciprocal", UnaryOp.Reciprocal),
        new UnaryLowerer("Floor", UnaryOp.Floor),
        new UnaryLowerer("Ceil", UnaryOp.Ceil),
        new UnaryLowerer("Sqrt", UnaryOp.Sqrt),
        new UnaryLowerer("Exp", UnaryOp.Exp),
        new UnaryLowerer("Log", UnaryOp.Log),
        new UnaryLowerer("Erf", UnaryOp.Erf),
        new GeluLowerer(),
        new PowLowerer(),
        new WhereLowerer(),
        new CastLowerer(),
        new ReduceLowerer("ReduceSum", ReduceOp.Sum),
        new ReduceLowerer("ReduceMean", ReduceOp.Mean),
        new ReduceLowerer("ReduceMax", ReduceOp.Max),
        new ReduceLowerer("ReduceMin", ReduceOp.Min),
        new ReduceLowerer("ReduceProd", ReduceOp.Prod),
        new SliceLowerer(),
        new PadLowerer(),
        new GatherLowerer(),
        new SplitLowerer(),
        new ExpandLowerer(),
        new ResizeLowerer(),
        new ConvTransposeLowerer(),
        new LayerNormalizationLowerer(),
    }.OrderBy(l => l.OpType, StringComparer.Ordinal).ToImmutableArray();

    static readonly Dictionary<string, IOpLowerer> ByOp = All.ToDictionary(l => l.OpType, StringComparer.Ordinal);

    /// <summary>Supported op types, sorted.</summary>
    public static ImmutableArray<string> SupportedOps { get; } = All.Select(l => l.OpType).ToImmutableArray();

    /// <summary>The lowerer for an op type of the default domain, or null.</summary>
    public static IOpLowerer? Find(string opType) => ByOp.GetValueOrDefault(opType);

    /// <summary>
    /// The supported-ops table: op | kernels | constant inputs | notes, and with <paramref name="conformance"/> a last
    /// column filled per op type (the ONNX node-test counts, docs/conformance.md).
    /// </summary>
    public static string MarkdownTable(Func<string, string>? conformance = null)
    {
        var sb = new System.Text.StringBuilder("| op | kernel calls | constant inputs | notes |");
        sb.Append(conformance is null ? "\n|---|---|---|---|\n" : " node tests passed / run (excluded) |\n|---|---|---|---|---:|\n");
        foreach (var l in All)
        {
            string constants = l.ConstantInputs.Count == 0 ? "—" : string.Join(", ", l.ConstantInputs.Select(i => i.Name));
            sb.Append($"| {l.OpType} | {(l.Calls.Count == 0 ? "— (alias)" : string.Join(", ", l.Calls.Select(c => $"`{c}`")))} | {constants} | {l.Notes} |");
            sb.Append(conformance is null ? "\n" : $" {conformance(l.OpType)} |\n");
        }
        return sb.ToString();
    }
}
