using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Lowering.Int8;

/// <summary>
/// The trained Digits models lowered with a hand-made int8 quantisation (MinMax ranges over 128 calibration samples,
/// per-channel weights): the int8 plan agrees with the fp32 plan on the test set and keeps its accuracy.
/// </summary>
public class Int8SampleModelTests
{
    [Theory]
    [InlineData("digits_mlp", 0.98, 0.01)]
    [InlineData("digits_cnn", 0.98, 0.01)]
    [InlineData("digits_dwsep", 0.97, 0.015)]
    public void Int8_plan_keeps_the_fp32_plans_predictions(string model, double minAgreement, double maxAccuracyLoss)
    {
        var canonical = CanonicalPipeline.Run(OnnxModelReader.Load(TestFiles.Model(model)).Graph, new PassLog());
        var calibration = TestFiles.Rows("digits_calib_x.f32", 64, 128).Select(r => new[] { r }).ToList();
        var q = Int8Harness.Result(canonical, calibration);
        var int8 = Int8Harness.Lower(canonical, q);
        var fp32 = ModelLowering.Lower(canonical, Harness.Options);

        Assert.StartsWith("int8 · ", int8.Plan.Summary);
        Assert.Contains(int8.Plan.Steps, s => s.Call is PlanCalls.QGemv or PlanCalls.QGemvToF32 or PlanCalls.QConv2d);
        Assert.Equal(fp32.Plan.Inputs, int8.Plan.Inputs);   // the same API as fp32
        Assert.Equal(fp32.Plan.Outputs, int8.Plan.Outputs);

        var x = TestFiles.Rows("digits_test_x.f32", 64, 500);
        byte[] labels = File.ReadAllBytes(TestFiles.Data("digits_test_y.u8"));
        var (i8, f32) = (new PlanInterpreter(int8.Plan, int8.Weights), new PlanInterpreter(fp32.Plan, fp32.Weights));
        int agree = 0, right8 = 0, right32 = 0;
        for (int s = 0; s < x.Length; s++)
        {
            int a = ArgMax(i8.Run([x[s]])[0]), b = ArgMax(f32.Run([x[s]])[0]);
            if (a == b) agree++;
            if (a == labels[s]) right8++;
            if (b == labels[s]) right32++;
        }
        double agreement = (double)agree / x.Length, loss = (double)(right32 - right8) / x.Length;
        Assert.True(agreement >= minAgreement, $"{model}: top-1 agreement {agreement:P1} (int8 accuracy {right8 / 5.0:F1} %, fp32 {right32 / 5.0:F1} %)");
        Assert.True(loss <= maxAccuracyLoss, $"{model}: int8 accuracy {right8 / 5.0:F1} % vs fp32 {right32 / 5.0:F1} %");
    }

    static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
