using Compress.Runtime;
using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>ONNX Gelu (opset 20): approximate="none" (erf form) or "tanh", on <c>UnaryF32.Run</c>.</summary>
internal sealed class GeluLowerer : IOpLowerer
{
    public string OpType => "Gelu";

    public IReadOnlyList<string> Calls => [PlanCalls.Unary];

    public string Notes => "opset 20; approximate \"none\" (erf) or \"tanh\"; in place when possible";

    public void Lower(Node node, LoweringContext ctx)
    {
        string approximate = node.GetString("approximate", "none");
        var op = approximate switch
        {
            "none" => UnaryOp.Gelu,
            "tanh" => UnaryOp.GeluTanh,
            _ => throw ctx.Unsupported(node, $"approximate=\"{approximate}\"; ONNX defines \"none\" and \"tanh\""),
        };
        UnaryLowerer.Emit(node, ctx, op, $"Gelu approximate={approximate}");
    }
}
