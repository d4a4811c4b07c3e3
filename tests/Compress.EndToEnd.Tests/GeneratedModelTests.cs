using Compress.EndToEnd.Tests.Models;
using Microsoft.ML.OnnxRuntime;

namespace Compress.EndToEnd.Tests;

/// <summary>
/// The classes generated from the sample models (by this project's own build) against ONNX Runtime on the
/// original models: outputs within 1e-4 of the output scale on all 500 test digits, and the reference accuracy.
/// </summary>
public class GeneratedModelTests
{
    public delegate void RunFn(ReadOnlySpan<float> input, Span<float> logits);

    public static TheoryData<string, long[], double> Models => new()
    {
        { "digits_mlp", [1, 64], 97.4 },
        { "digits_cnn", [1, 1, 8, 8], 99.4 },
        { "digits_dwsep", [1, 1, 8, 8], 98.8 },
        { "wide_mlp", [1, 64], 98.2 },
    };

    static RunFn Create(string model) => model switch
    {
        "digits_mlp" => new DigitsMlp().Run,
        "digits_cnn" => new DigitsCnn().Run,
        "digits_dwsep" => new DigitsDwsep().Run,
        "wide_mlp" => new WideMlp().Run,
        _ => throw new ArgumentException(model),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesOnnxRuntimeAndReferenceAccuracy(string model, long[] inputShape, double referenceAccuracy)
    {
        var run = Create(model);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(TestData.Model(model), options);
        string inputName = session.InputMetadata.Keys.Single();

        var logits = new float[10];
        double maxDiff = 0, maxRef = 0;
        int correct = 0;
        for (int i = 0; i < TestData.Count; i++)
        {
            run(TestData.Image(i), logits);
            using var input = OrtValue.CreateTensorValueFromMemory(TestData.Image(i).ToArray(), inputShape);
            using var results = session.Run(new RunOptions(), [inputName], [input], session.OutputNames);
            var expected = results[0].GetTensorDataAsSpan<float>();
            for (int j = 0; j < 10; j++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(logits[j] - expected[j]));
                maxRef = Math.Max(maxRef, Math.Abs(expected[j]));
            }
            if (TestData.ArgMax(logits) == TestData.Labels[i]) correct++;
        }

        Assert.True(maxDiff <= 1e-4 * maxRef, $"{model}: max |Δ| {maxDiff:G3} exceeds 1e-4 × {maxRef:G3}");
        Assert.Equal(referenceAccuracy, Math.Round(100.0 * correct / TestData.Count, 1));
    }

    [Fact]
    public void Int8VariantKeepsAccuracyAndAgreesWithFp32()
    {
        var fp32 = new WideMlp();
        var int8 = new WideMlpInt8();
        var a = new float[10];
        var b = new float[10];
        int agree = 0, correct = 0;
        for (int i = 0; i < TestData.Count; i++)
        {
            fp32.Run(TestData.Image(i), a);
            int8.Run(TestData.Image(i), b);
            if (TestData.ArgMax(a) == TestData.ArgMax(b)) agree++;
            if (TestData.ArgMax(b) == TestData.Labels[i]) correct++;
        }
        Assert.True(agree >= 0.99 * TestData.Count, $"top-1 agreement {agree}/{TestData.Count}");
        Assert.True(100.0 * correct / TestData.Count >= 98.2 - 0.5, $"int8 accuracy {100.0 * correct / TestData.Count:0.0}%");
        Assert.True(WideMlpInt8.WeightsBytes * 3 < WideMlp.WeightsBytes, "int8 weights should be about a quarter of fp32");
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) int8.Run(TestData.Image(i), b);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void RunAllocatesNothing()
    {
        var models = new RunFn[] { new DigitsMlp().Run, new DigitsCnn().Run, new DigitsDwsep().Run, new WideMlp().Run };
        var logits = new float[10];
        foreach (var run in models)
        {
            run(TestData.Image(0), logits); // warm-up: first-call JIT work may allocate
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) run(TestData.Image(i), logits);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void ConstantsDescribeTheModel()
    {
        Assert.Equal(64, DigitsMlp.InputLength);
        Assert.Equal(10, DigitsMlp.LogitsLength);
        Assert.Equal(new[] { 1, 64 }, DigitsMlp.InputShape.ToArray());
        Assert.Equal(new[] { 1, 1, 8, 8 }, DigitsCnn.InputShape.ToArray());
        Assert.Equal(new[] { 1, 10 }, DigitsCnn.LogitsShape.ToArray());
        Assert.True(WideMlp.WeightsBytes > 4_000_000);
    }

    [Fact]
    public void WrongSpanLengthsThrowWithExpectedAndActual()
    {
        var model = new DigitsMlp();
        var e = Assert.Throws<ArgumentException>(() => model.Run(new float[63], new float[10]));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("64", e.Message);
        Assert.Contains("63", e.Message);
        var o = Assert.Throws<ArgumentException>(() => model.Run(new float[64], new float[11]));
        Assert.Equal("logits", o.ParamName);
        Assert.Contains("11", o.Message);
    }

    [Fact]
    public void ConvenienceOverloadReturnsTheSameLogits()
    {
        var model = new DigitsCnn();
        var expected = new float[10];
        model.Run(TestData.Image(3), expected);
        Assert.Equal(expected, model.Run(TestData.Image(3).ToArray()));
    }

    [Fact]
    public void DynamicBatchOverloadEqualsOneByOne()
    {
        const int batch = 7;
        var model = new DigitsMlpDyn();
        var batched = new float[batch * 10];
        model.Run(TestData.Images.AsSpan(0, batch * 64), batched, batch);
        var single = new float[10];
        for (int i = 0; i < batch; i++)
        {
            model.Run(TestData.Image(i), single);
            Assert.Equal(single, batched.AsSpan(i * 10, 10).ToArray());
        }
        Assert.Throws<ArgumentException>(() => model.Run(new float[batch * 64], new float[batch * 10 - 1], batch));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Run(ReadOnlySpan<float>.Empty, Span<float>.Empty, -1));
    }

    [Fact]
    public void InstancesOnSeparateThreadsDoNotInterfere()
    {
        var expected = new float[TestData.Count * 10];
        var reference = new DigitsDwsep();
        for (int i = 0; i < TestData.Count; i++) reference.Run(TestData.Image(i), expected.AsSpan(i * 10, 10));

        Parallel.For(0, 4, _ =>
        {
            var model = new DigitsDwsep(); // one instance per thread, as documented
            var logits = new float[10];
            for (int i = 0; i < TestData.Count; i++)
            {
                model.Run(TestData.Image(i), logits);
                Assert.Equal(expected.AsSpan(i * 10, 10).ToArray(), logits);
            }
        });
    }
}
