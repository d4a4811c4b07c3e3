using System.Text;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Lowering;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Plan;

public class PlanJsonTests
{
    static ModelPlan SamplePlan() => new()
    {
        Producer = "Compress.Tasks 0.1.0",
        Source = new PlanSource("digits_mlp.onnx", "abc123", "pytorch 1.13.0", 7, "ai.onnx:13"),
        Namespace = "Digits",
        ClassName = "Classifier",
        Summary = "fp32 · 1 Gemm, 1 fused Relu · 64 weight bytes",
        Weights = new PlanWeights("Digits.Classifier.weights", 64, "ff"),
        ArenaFloats = 32,
        BatchDynamic = true,
        Inputs = [new PlanTensor("input", "input", new long[] { 1, 4 }, 4)],
        Outputs = [new PlanTensor("logits", "logits", new long[] { 1, 2 }, 2)],
        Steps =
        [
            new PlanStep("/fc1/Gemm", "Gemm", "Gemm 4→2, bias + Relu", PlanCalls.Gemv,
            [
                PlanArg.Input(0, 0, 4), PlanArg.Weights(0, 8), PlanArg.Empty, PlanArg.Output(0, 0, 2), PlanArg.Arena(16, 2),
                PlanArg.Int(4), PlanArg.Float(1e-5f), PlanArg.Bool(true),
                PlanArg.New("FusedActivation", PlanArg.Enum("ActivationKind.Relu"), PlanArg.Float(float.NegativeInfinity), PlanArg.Float(float.NaN)),
            ]),
        ],
    };

    const string SampleJson = """
        {
          "format": "compress-plan",
          "version": 1,
          "producer": "Compress.Tasks 0.1.0",
          "source": { "file": "digits_mlp.onnx", "sha256": "abc123", "producer": "pytorch 1.13.0", "irVersion": 7, "opsets": "ai.onnx:13" },
          "class": { "namespace": "Digits", "name": "Classifier" },
          "summary": "fp32 · 1 Gemm, 1 fused Relu · 64 weight bytes",
          "weights": { "resource": "Digits.Classifier.weights", "bytes": 64, "sha256": "ff" },
          "arena": { "floats": 32 },
          "batch": { "dynamic": true },
          "inputs": [
            { "name": "input", "identifier": "input", "shape": [1, 4], "length": 4 }
          ],
          "outputs": [
            { "name": "logits", "identifier": "logits", "shape": [1, 2], "length": 2 }
          ],
          "steps": [
            {
              "node": "/fc1/Gemm",
              "op": "Gemm",
              "comment": "Gemm 4→2, bias + Relu",
              "call": "Kernels.GemmF32.Gemv",
              "args": [
                { "span": "input", "index": 0, "offset": 0, "length": 4 },
                { "span": "weights", "type": "f32", "offset": 0, "length": 8 },
                { "span": "empty" },
                { "span": "output", "index": 0, "offset": 0, "length": 2 },
                { "span": "arena", "offset": 16, "length": 2 },
                { "int": 4 },
                { "float": "1E-05" },
                { "bool": true },
                { "new": "FusedActivation", "args": [ { "enum": "ActivationKind.Relu" }, { "float": "-Infinity" }, { "float": "NaN" } ] }
              ]
            }
          ]
        }

        """;

    [Fact]
    public void Writer_produces_the_documented_layout()
    {
        Assert.Equal(SampleJson.Replace("\r\n", "\n"), PlanJsonWriter.Write(SamplePlan()));
    }

    [Fact]
    public void Output_uses_only_lf_line_ends_and_no_bom()
    {
        byte[] bytes = PlanJsonWriter.WriteUtf8(SamplePlan());
        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.Equal((byte)'{', bytes[0]);
        Assert.Equal(PlanJsonWriter.Write(SamplePlan()), Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Round_trip_gives_an_equal_plan()
    {
        var plan = SamplePlan();
        var back = PlanJsonReader.Read(PlanJsonWriter.Write(plan));
        Assert.Equal(plan, back);
        Assert.Equal(PlanJsonWriter.Write(plan), PlanJsonWriter.Write(back));
    }

    [Fact]
    public void OnnxRuntime_backend_round_trips_and_a_kernels_plan_does_not_mention_it()
    {
        var plan = SamplePlan() with { Backend = PlanBackend.OnnxRuntime, OnnxRuntimeVersion = "1.31.1", Steps = Array.Empty<PlanStep>() };
        string json = PlanJsonWriter.Write(plan);
        Assert.Contains("\"backend\": \"onnxruntime\", \"onnxRuntimeVersion\": \"1.31.1\",", json);
        Assert.Equal(plan, PlanJsonReader.Read(json));
        Assert.DoesNotContain("backend", PlanJsonWriter.Write(SamplePlan()));
        Assert.Throws<InvalidDataException>(() => PlanJsonReader.Read(json.Replace("\"onnxruntime\"", "\"tvm\"")));
    }

    [Fact]
    public void Same_graph_gives_the_same_bytes()
    {
        global::Compress.Tasks.Graph.Graph Build() => new TestGraph().Input("x", 1, 3, 6, 6)
            .Const("W", Harness.Random(4 * 27, 2), 4, 3, 3, 3).Const("B", Harness.Random(4, 3), 4)
            .Node("Conv", ["x", "W", "B"], "c", [1, 4, 6, 6], [Ints("pads", 1, 1, 1, 1), .. Fused("LeakyRelu", 0.1f)])
            .Node("GlobalAveragePool", ["c"], "g", [1, 4, 1, 1])
            .Node("Flatten", ["g"], "f", [1, 4], Attr("axis", 1L))
            .Const("fw", Harness.Random(12, 4), 4, 3)
            .Node("MatMul", ["f", "fw"], "y", [1, 3]).Output("y").Build();
        var first = ModelLowering.Lower(Build(), Harness.Options);
        var second = ModelLowering.Lower(Build(), Harness.Options);
        Assert.Equal(PlanJsonWriter.WriteUtf8(first.Plan), PlanJsonWriter.WriteUtf8(second.Plan));
        Assert.Equal(first.Weights, second.Weights);
    }

    [Fact]
    public void Writer_does_not_depend_on_the_current_culture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        string invariant = PlanJsonWriter.Write(SamplePlan());
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal(invariant, PlanJsonWriter.Write(SamplePlan() with { }));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    [Theory]
    [InlineData(1e-5f, "1E-05")]
    [InlineData(0.1f, "0.1")]
    [InlineData(1f, "1")]
    [InlineData(-2.5f, "-2.5")]
    [InlineData(3.4028235e38f, "3.4028235E+38")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    [InlineData(float.NaN, "NaN")]
    public void Floats_are_round_trip_strings(float value, string text)
    {
        Assert.Equal(text, PlanJsonWriter.FormatFloat(value));
        Assert.Equal(value, PlanJsonReader.ParseFloat(text));
    }

    [Fact]
    public void Every_float_round_trips_exactly()
    {
        var random = new Random(3);
        for (int i = 0; i < 10000; i++)
        {
            float v = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
            if (!float.IsFinite(v)) continue;
            Assert.Equal(BitConverter.SingleToInt32Bits(v), BitConverter.SingleToInt32Bits(PlanJsonReader.ParseFloat(PlanJsonWriter.FormatFloat(v))));
        }
    }

    [Fact]
    public void Strings_are_escaped()
    {
        var plan = SamplePlan() with { Summary = "quote \" backslash \\ tab \t nl \n ctl \u0001 é →" };
        string json = PlanJsonWriter.Write(plan);
        Assert.Contains("\"quote \\\" backslash \\\\ tab \\t nl \\n ctl \\u0001 é →\"", json);
        Assert.Equal(plan, PlanJsonReader.Read(json));
    }

    [Fact]
    public void Reader_rejects_other_formats_and_versions()
    {
        string json = PlanJsonWriter.Write(SamplePlan());
        Assert.Throws<InvalidDataException>(() => PlanJsonReader.Read(json.Replace("\"version\": 1", "\"version\": 2")));
        Assert.Throws<InvalidDataException>(() => PlanJsonReader.Read(json.Replace("compress-plan", "other")));
        Assert.Throws<InvalidDataException>(() => PlanJsonReader.Read(json.Replace("{ \"int\": 4 }", "{ \"what\": 4 }")));
        Assert.Throws<InvalidDataException>(() => PlanJsonReader.Read("{ not json"));
    }

    [Fact]
    public void Lowered_plan_carries_provenance_and_summary()
    {
        var g = new TestGraph().Input("input", 1, 4).Const("W", Harness.Random(8, 1), 2, 4).Const("B", [0f, 1f], 2)
            .Node("Gemm", ["input", "W", "B"], "logits", [1, 2], [Attr("transB", 1L), .. Fused("Relu")]).Output("logits").Build();
        var lowered = ModelLowering.Lower(g, new LoweringOptions
        {
            ClassName = "Classifier", Namespace = "Digits", SourceFile = "m.onnx", SourceSha256 = "beef",
        });
        var plan = lowered.Plan;
        Assert.Equal(new PlanSource("m.onnx", "beef", "test 1.0", 8, "ai.onnx:13"), plan.Source);
        Assert.Equal("Digits.Classifier.weights", plan.Weights.Resource);
        Assert.StartsWith("Compress.Tasks ", plan.Producer);
        Assert.Equal($"fp32 · 1 Gemm, 1 fused Relu · {lowered.Weights.Length:N0} weight bytes", plan.Summary);
        Assert.Equal(new PlanTensor("input", "input", new long[] { 1, 4 }, 4), plan.Inputs[0]);
    }
}
