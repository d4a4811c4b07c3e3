using Compress.Tasks.Graph;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Lowering.Ops;

/// <summary>
/// ONNX BatchNormalization (inference) left standing after the canonical pipeline folded the ones that follow a
/// Conv/Gemm: y = (x − mean)/√(var + ε)·scale + B becomes y = x·s + t per channel with s = scale/√(var + ε) and
/// t = B − mean·s, precomputed in double at build time.
/// </summary>
internal sealed class BatchNormalizationLowerer : IOpLowerer
{
    public string OpType => "BatchNormalization";

    public IReadOnlyList<string> Calls => [PlanCalls.ChannelAffine];

    public IReadOnlyList<OpInput> ConstantInputs => [new(1, "scale"), new(2, "B"), new(3, "input_mean"), new(4, "input_var")];

    public string Notes => "inference mode; scale, B, mean and var constant";

    public void Lower(Node node, LoweringContext ctx)
    {
        ctx.RequireOnlyFirstOutput(node);
        if (node.GetInt("training_mode", 0) != 0) throw ctx.Unsupported(node, "training_mode=1 is not supported");
        // Opsets 1–8: spatial=0 keeps statistics per activation ([C, H, W]), not per channel; is_test and
        // consumed_inputs (opsets 1–6) change nothing at inference.
        if (node.GetInt("spatial", 1) != 1) throw ctx.Unsupported(node, "spatial=0 (statistics per activation, opsets < 9) is not supported; re-export with opset ≥ 9");
        string x = node.Input(0), y = node.Output0;
        long[] dims = ctx.Dims(x);
        if (dims.Length < 2) throw ctx.Unsupported(node, $"X must have a channel dimension, it is {LoweringContext.Format(dims)}");
        int outer = LoweringContext.ToInt(dims[0]), channels = LoweringContext.ToInt(dims[1]);
        int inner = LoweringContext.ToInt(dims[2..].Aggregate(1L, (p, d) => p * d));
        float[] scale = ctx.ConstantFloats(node, 1, "scale"), bias = ctx.ConstantFloats(node, 2, "B"),
            mean = ctx.ConstantFloats(node, 3, "mean"), variance = ctx.ConstantFloats(node, 4, "var");
        if (new[] { scale, bias, mean, variance }.Any(p => p.Length != channels))
            throw ctx.Unsupported(node, $"scale, B, mean and var must each have {channels} values");
        double eps = node.GetFloat("epsilon", 1e-5f);
        var s = new float[channels];
        var t = new float[channels];
        for (int ch = 0; ch < channels; ch++)
        {
            double sc = scale[ch] / Math.Sqrt(variance[ch] + eps);
            s[ch] = (float)sc;
            t[ch] = (float)(bias[ch] - mean[ch] * sc);
        }
        ctx.Emit(node, PlanCalls.ChannelAffine, $"BatchNormalization {channels} channels",
            ctx.Read(x), ctx.Weights(s), ctx.Weights(t), ctx.Write(y),
            PlanArg.Int(outer), PlanArg.Int(channels), PlanArg.Int(inner), ctx.FusedActivation(node));
    }
}
