using System.Globalization;
using Compress.Tasks.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.EndToEnd.Tests;

/// <summary>
/// The ONNX Runtime backend (docs/onnxruntime-backend.md) through real builds: a model with an op no kernel runs
/// (Einsum) falls back with warning CMP033 and its class matches ONNX Runtime; Backend="OnnxRuntime" on a supported
/// model works too; without a Microsoft.ML.OnnxRuntime reference the build fails with CMP034 naming the line to add;
/// Backend="Kernels" keeps CMP004; compression with the ONNX Runtime backend is CMP035; a bad value is CMP006.
/// </summary>
public class OnnxRuntimeBackendTests
{
    const int Sample = 3;

    static string OrtReference => $"""<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="{ThrowawayProject.OnnxRuntimeVersion}" />""";

    /// <summary>x[1,64] → Einsum("ij,jk->ik", x, W[64,10]) → Relu → y (shape not declared: the build learns it from ONNX Runtime).</summary>
    static byte[] EinsumModel()
    {
        var random = new Random(20261128);
        var weight = new TensorProto { Name = "W", DataType = 1, Dims = { 64, 10 } };
        for (int i = 0; i < 640; i++) weight.FloatData.Add((float)(random.NextDouble() - 0.5));
        var graph = new GraphProto { Name = "einsum_mlp" };
        graph.Input.Add(new ValueInfoProto
        {
            Name = "x",
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 1 }, new TensorShapeProto.Types.Dimension { DimValue = 64 } } } } },
        });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        graph.Initializer.Add(weight);
        graph.Node.Add(new NodeProto
        {
            Name = "my_einsum", OpType = "Einsum", Input = { "x", "W" }, Output = { "t" },
            Attribute = { new AttributeProto { Name = "equation", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("ij,jk->ik") } },
        });
        graph.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "t" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    static float[] EinsumInput() => Enumerable.Range(0, 64).Select(i => (i % 9 - 4) / 4f).ToArray();

    static string Floats(IEnumerable<float> values) => string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture) + "f"));

    static float[] OnnxRuntimeRun(byte[] model, float[] input)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, input.Length]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [session.InputNames[0]], [value], session.OutputNames);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    static float[] Printed(string output, string prefix) =>
        output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..]
            .Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * (1 + Math.Abs(expected[i])), $"output {i}: {actual[i]} vs ONNX Runtime {expected[i]}");
    }

    [Fact]
    public void UnsupportedOpFallsBackWithWarningAndForcedBackendRunsSupportedModel()
    {
        string program = $$"""
            using System;
            using System.Globalization;
            using System.Linq;

            static string F(float[] v) => string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
            using var odd = new App.Odd();
            float[] x = [{{Floats(EinsumInput())}}];
            Console.WriteLine("odd " + F(odd.Run(x)));
            using var mlp = new App.Mlp();
            float[] pixels = [{{Floats(TestData.Image(Sample).ToArray())}}];
            Span<float> logits = stackalloc float[App.Mlp.LogitsLength];
            mlp.Run(pixels, logits);
            Console.WriteLine("mlp " + F(logits.ToArray()));
            for (int i = 0; i < 100; i++) mlp.Run(pixels, logits);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++) mlp.Run(pixels, logits);
            Console.WriteLine("alloc " + ((GC.GetAllocatedBytesForCurrentThread() - before) / 1000).ToString(CultureInfo.InvariantCulture));
            try { mlp.Run(new float[3], logits); Console.WriteLine("length not checked"); }
            catch (ArgumentException e) { Console.WriteLine("length checked: " + e.Message); }
            Console.WriteLine("shape " + string.Join("x", App.Odd.YShape.ToArray()) + " " + App.Odd.YLength);
            """;
        using var project = new ThrowawayProject("""
            <CompressModel Include="odd.onnx" ClassName="Odd" />
            <CompressModel Include="mlp.onnx" ClassName="Mlp" Backend="OnnxRuntime" />
            """, program, OrtReference);
        byte[] odd = EinsumModel();
        project.Write("odd.onnx", odd);
        project.Add(TestData.Model("digits_mlp"), "mlp.onnx");

        var (code, output) = project.Build();
        Assert.True(code == 0, output);
        // Auto fell back for the Einsum model only, and said so: the op, the node, the package line and the two ways out.
        // (MSBuild repeats warnings in its summary, so the same line may appear twice.)
        var warnings = output.Split('\n').Where(l => l.Contains("warning CMP033")).ToList();
        Assert.NotEmpty(warnings);
        Assert.All(warnings, w => Assert.Contains("App.Odd runs on ONNX Runtime", w));
        string warning = warnings[0];
        Assert.Contains("Einsum", warning);
        Assert.Contains("'my_einsum'", warning);
        Assert.Contains("App.Odd", warning);
        Assert.Contains($"Version=\"{ThrowawayProject.OnnxRuntimeVersion}\"", warning);
        Assert.Contains("Backend=\"Kernels\"", warning);
        Assert.DoesNotContain("App.Mlp", warning);
        Assert.Contains("\"backend\": \"onnxruntime\"", File.ReadAllText(Path.Combine(project.CompressDirectory, "App.Odd.plan.json")));
        // The embedded model is the exported ONNX.
        Assert.Equal(File.ReadAllBytes(Path.Combine(project.CompressDirectory, "App.Odd.onnx")), File.ReadAllBytes(Path.Combine(project.CompressDirectory, "App.Odd.weights.bin")));

        var run = project.Run();
        Assert.True(run.ExitCode == 0, run.Output);
        AssertClose(OnnxRuntimeRun(odd, EinsumInput()), Printed(run.Output, "odd "));
        AssertClose(OnnxRuntimeRun(File.ReadAllBytes(TestData.Model("digits_mlp")), TestData.Image(Sample).ToArray()), Printed(run.Output, "mlp "));
        Assert.Contains("length checked: Expected 64 floats", run.Output);
        Assert.Contains("shape 1x10 10", run.Output);
        // Inputs and outputs go through buffers bound once; what a call allocates is ONNX Runtime's own bookkeeping.
        long allocated = long.Parse(run.Output.Split('\n').Single(l => l.StartsWith("alloc ", StringComparison.Ordinal))[6..].Trim(), CultureInfo.InvariantCulture);
        Assert.True(allocated <= 256, $"{allocated} B allocated per Run");
    }

    [Fact]
    public void FallbackWithoutOnnxRuntimeReferenceFailsWithCmp034NamingThePackage()
    {
        using var project = new ThrowawayProject("""<CompressModel Include="odd.onnx" ClassName="Odd" />""");
        project.Write("odd.onnx", EinsumModel());
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("warning CMP033", output);
        Assert.Contains("error CMP034", output);
        Assert.Contains($"<PackageReference Include=\"Microsoft.ML.OnnxRuntime\" Version=\"{ThrowawayProject.OnnxRuntimeVersion}\" />", output);
        Assert.DoesNotContain("error CS", output); // one clear error, not a cascade from a class that cannot compile
    }

    [Fact]
    public void KernelsBackendKeepsCmp004AndBadMetadataIsReportedEarly()
    {
        using var project = new ThrowawayProject("""
            <CompressModel Include="odd.onnx" ClassName="Odd" Backend="Kernels" />
            <CompressModel Include="mlp.onnx" ClassName="Quantized" Backend="OnnxRuntime" Quantize="Int8Dynamic" />
            <CompressModel Include="mlp.onnx" ClassName="Bogus" Backend="Tvm" />
            """);
        project.Write("odd.onnx", EinsumModel());
        project.Add(TestData.Model("digits_mlp"), "mlp.onnx");
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP035", output);
        Assert.Contains("Quantize=\"Int8Dynamic\"", output);
        Assert.Contains("error CMP006", output);
        Assert.Contains("Backend=\"Tvm\"", output);
        // The metadata errors stop the build before any model compiles; the Kernels item alone then gives CMP004.
        using var kernels = new ThrowawayProject("""<CompressModel Include="odd.onnx" ClassName="Odd" Backend="Kernels" />""");
        kernels.Write("odd.onnx", EinsumModel());
        (code, output) = kernels.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP004", output);
        Assert.Contains("my_einsum", output);
        Assert.DoesNotContain("CMP033", output);
    }
}
