using System.Runtime.InteropServices;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Lowering;

/// <summary>
/// The trained Digits models (samples/Digits) through the whole build-time path — read, canonicalise, lower — run
/// by the plan interpreter against PyTorch's logits on the first test samples.
/// </summary>
public class SampleModelLoweringTests
{
    const int Samples = 50;

    static string Path(string folder, string file) => System.IO.Path.Combine(AppContext.BaseDirectory, folder, file);

    [Theory]
    [InlineData("digits_mlp", "digits_mlp")]
    [InlineData("digits_mlp_dyn", "digits_mlp")]
    [InlineData("digits_cnn", "digits_cnn")]
    [InlineData("digits_dwsep", "digits_dwsep")]
    [InlineData("wide_mlp", "wide_mlp")]
    public void Sample_model_matches_pytorch_logits(string model, string logits)
    {
        var loaded = OnnxModelReader.Load(Path("models", model + ".onnx"));
        var canonical = CanonicalPipeline.Run(loaded.Graph, new PassLog());
        var lowered = ModelLowering.Lower(canonical, Harness.Options);
        PlanInvariants.Check(lowered);
        Assert.Equal(model.EndsWith("_dyn"), lowered.Plan.BatchDynamic);

        float[] x = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path("data", "digits_test_x.f32"))).ToArray();
        float[] want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path("data", logits + "_test_logits.f32"))).ToArray();
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        Assert.Equal(64, lowered.Plan.Inputs[0].Length);
        for (int s = 0; s < Samples; s++)
        {
            var got = interpreter.Run([x.AsSpan(s * 64, 64).ToArray()])[0];
            Harness.Close(want.AsSpan(s * 10, 10).ToArray(), got, 1e-4f);
        }
    }
}
