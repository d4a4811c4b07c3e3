using Compress.Tasks.Graph;

namespace Compress.Tasks.Lowering;

/// <summary>
/// Lowers one ONNX op (default domain) to <c>Compress.Runtime</c> kernel calls. One implementation per op (or per
/// family of ops that differ only in a constant, such as the element-wise binaries) in <c>Lowering/Ops/</c>,
/// registered in <see cref="OpLowerers.All"/>, which is the table of supported ops.
/// </summary>
/// <remarks>
/// Adding an op, step by step:
/// <code>
/// // 1. Lowering/Ops/MyOpLowerer.cs — name inputs and attributes as the ONNX spec does.
/// internal sealed class MyOpLowerer : IOpLowerer
/// {
///     public string OpType => "MyOp";
///     public IReadOnlyList&lt;string&gt; Calls => [PlanCalls.X];            // every call Lower can emit
///     public string Notes => "what is and is not supported";          // goes into the README table
///     public void Lower(Node node, LoweringContext ctx)
///     {
///         long[] x = ctx.Dims(node.Input(0));                         // shapes, batch dim as 1
///         ctx.Emit(node, PlanCalls.X, "MyOp 16 channels",            // one kernel call per Emit
///             ctx.Read(node.Input(0)), ctx.Weights(someConstants),     // value spans and constants
///             ctx.Write(node.Output0), PlanArg.Int(16), ctx.FusedActivation(node));
///     }
/// }
/// // 2. Register it in OpLowerers.All.
/// // 3. If it needs a new kernel, add the call to PlanCalls and an entry to PlanInterpreter's dispatch table.
/// // 4. Test it in tests/Compress.Tasks.Tests/Lowering against a naive reference.
/// </code>
/// Throw <see cref="LoweringContext.Unsupported"/> for forms the kernels cannot run, never lower them approximately.
/// </remarks>
public interface IOpLowerer
{
    /// <summary>The ONNX op type, as in the spec (<c>"Gemm"</c>).</summary>
    string OpType { get; }

    /// <summary>Every kernel call (<see cref="Plan.PlanCalls"/>) <see cref="Lower"/> may emit.</summary>
    IReadOnlyList<string> Calls { get; }

    /// <summary>One line on the supported forms and limits, for the README's supported-ops table.</summary>
    string Notes { get; }

    /// <summary>
    /// Inputs that must be constants (initializers) for this op to lower, by position and spec name — weights such as
    /// Conv's W, and shape operands such as Reshape's shape. The supported-ops table lists them, and the ONNX
    /// conformance harness folds a node test's graph input into an initializer only at these positions.
    /// </summary>
    IReadOnlyList<OpInput> ConstantInputs => [];

    /// <summary>Emits the kernel calls (or an alias) computing <paramref name="node"/>'s outputs.</summary>
    void Lower(Node node, LoweringContext context);
}

/// <summary>An op input by its position and its name in the ONNX spec (<c>new(1, "W")</c> for Conv's weight).</summary>
public sealed record OpInput(int Index, string Name);
