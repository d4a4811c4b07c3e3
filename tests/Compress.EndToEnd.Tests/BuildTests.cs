using System.Text;
using Compress.Tasks.Onnx.Proto;
using Google.Protobuf;

namespace Compress.EndToEnd.Tests;

/// <summary>
/// `dotnet build` of throwaway projects: the generated class works, a no-op rebuild skips the compression target,
/// metadata edits rebuild, and every kind of bad input fails with its CMP0xx code and leaves no partial outputs.
/// </summary>
public class BuildTests
{
    static string SampleModel(string name) => Path.Combine(ThrowawayProject.RepoRoot, "samples", "Digits", "models", name + ".onnx");

    const string ZeroInputProgram = """
        var model = new App.Mlp();
        var logits = model.Run(new float[App.Mlp.InputLength]);
        System.Console.WriteLine("logits " + string.Join(",", System.Linq.Enumerable.Select(logits, v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        """;

    [Fact]
    public void BuildsRunsAndRebuildsOnlyWhenInputsChange()
    {
        using var project = new ThrowawayProject("""<CompressModel Include="mlp.onnx" ClassName="Mlp" Tolerance="1e-4" />""", ZeroInputProgram);
        project.Add(SampleModel("digits_mlp"), "mlp.onnx");

        var (code, output) = project.Build();
        Assert.True(code == 0, output);
        Assert.Contains("Compress: App.Mlp", output);
        Assert.True(File.Exists(Path.Combine(project.CompressDirectory, "App.Mlp.plan.json")));
        Assert.True(File.Exists(Path.Combine(project.CompressDirectory, "App.Mlp.report.md")));

        var run = project.Run();
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("logits ", run.Output);

        // The build also leaves the compressed model as standard ONNX; ONNX Runtime runs it to the same logits.
        float[] printed = run.Output[(run.Output.IndexOf("logits ") + 7)..].Trim().Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(project.CompressDirectory, "App.Mlp.onnx")))
        using (var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[64], [1, 64]))
        using (var results = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["input"], [input], session.OutputNames))
        {
            var expected = results[0].GetTensorDataAsSpan<float>().ToArray();
            Assert.Equal(expected.Length, printed.Length);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - printed[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"logit {i}: {printed[i]} vs {expected[i]}");
        }

        // No-op rebuild: the compression target is skipped (its outputs are newer than every input).
        (code, output) = project.Build();
        Assert.True(code == 0, output);
        Assert.DoesNotContain("Compress: App.Mlp", output);
        Assert.Contains("Skipping target \"_CompressModelsCore\"", output);

        // A metadata edit reruns it.
        string csproj = Path.Combine(project.Directory, "App.csproj");
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("Tolerance=\"1e-4\"", "Tolerance=\"2e-4\""));
        (code, output) = project.Build();
        Assert.True(code == 0, output);
        Assert.Contains("Compress: App.Mlp", output);

        // So does a newer model file.
        File.SetLastWriteTimeUtc(Path.Combine(project.Directory, "mlp.onnx"), DateTime.UtcNow.AddSeconds(2));
        (code, output) = project.Build();
        Assert.True(code == 0, output);
        Assert.Contains("Compress: App.Mlp", output);
    }

    [Fact]
    public void MetadataErrorsAreReportedEarlyWithCodesAndFiles()
    {
        using var project = new ThrowawayProject("""
            <CompressModel Include="missing.onnx" ClassName="Missing" />
            <CompressModel Include="mlp.onnx" ClassName="Mlp" Tolerance="abc" />
            <CompressModel Include="mlp.onnx" ClassName="Bad-Name" />
            <CompressModel Include="mlp2.onnx" ClassName="Twin" />
            <CompressModel Include="mlp3.onnx" ClassName="Twin" />
            <CompressModel Include="mlp4.onnx" ClassName="Data" ValidationData="nowhere.npy" />
            <CompressModel Include="mlp4.onnx" ClassName="Quant" Quantize="Int9" />
            """);
        foreach (var name in new[] { "mlp", "mlp2", "mlp3", "mlp4" }) project.Add(SampleModel("digits_mlp"), name + ".onnx");

        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("missing.onnx", output);
        Assert.Contains("error CMP001", output);
        Assert.Contains("error CMP006", output);
        Assert.Contains("Tolerance=\"abc\"", output);
        Assert.Contains("ClassName=\"Bad-Name\"", output);
        Assert.Contains("error CMP010", output);
        Assert.Contains("error CMP008", output);
        Assert.Contains("nowhere.npy", output);
        Assert.Contains("Quantize=\"Int9\"", output);
        AssertNoOutputs(project);
    }

    [Fact]
    public void StaticInt8WithoutCalibrationDataFailsWithCmp006()
    {
        using var project = new ThrowawayProject("""<CompressModel Include="mlp.onnx" ClassName="Mlp" Quantize="Int8" />""");
        project.Add(SampleModel("digits_mlp"), "mlp.onnx");
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP006", output);
        Assert.Contains("CalibrationData", output);
        AssertNoOutputs(project);
    }

    [Fact]
    public void CorruptModelFailsWithCmp002()
    {
        using var project = new ThrowawayProject("""<CompressModel Include="broken.onnx" ClassName="Broken" />""");
        project.Write("broken.onnx", Encoding.ASCII.GetBytes("this is not a protobuf model at all \x01\x02\x03"));
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP002", output);
        Assert.Contains("broken.onnx", output);
        AssertNoOutputs(project);
    }

    [Fact]
    public void UnsupportedOpNamesNodeOpAndSupportedList()
    {
        // Backend="Kernels": no fallback to ONNX Runtime (OnnxRuntimeBackendTests covers the default, Auto).
        using var project = new ThrowawayProject("""<CompressModel Include="odd.onnx" ClassName="Odd" Backend="Kernels" />""");
        project.Write("odd.onnx", OneNodeModel("Hardmax", "my_hardmax", inputDims: ["1", "10"]).ToByteArray());
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP004", output);
        Assert.Contains("my_hardmax", output);
        Assert.Contains("Hardmax", output);
        Assert.Contains("Gemm", output); // the list of what is supported
        AssertNoOutputs(project);
    }

    [Fact]
    public void UninferableShapeFailsWithCmp005()
    {
        using var project = new ThrowawayProject("""<CompressModel Include="dyn.onnx" ClassName="Dyn" />""");
        project.Write("dyn.onnx", OneNodeModel("Relu", "relu", inputDims: ["N", "M"]).ToByteArray());
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP005", output);
        AssertNoOutputs(project);
    }

    [Fact]
    public void WrongShapedValidationDataFailsWithCmp008()
    {
        using var project = new ThrowawayProject("""<CompressModel Include="mlp.onnx" ClassName="Mlp" ValidationData="x.npy" />""");
        project.Add(SampleModel("digits_mlp"), "mlp.onnx");
        project.Write("x.npy", Npy(new float[10 * 32], 10, 32));
        var (code, output) = project.Build();
        Assert.NotEqual(0, code);
        Assert.Contains("error CMP008", output);
        Assert.Contains("x.npy", output);
        AssertNoOutputs(project);
    }

    static void AssertNoOutputs(ThrowawayProject project)
    {
        if (!Directory.Exists(project.CompressDirectory)) return;
        var files = Directory.GetFiles(project.CompressDirectory);
        Assert.DoesNotContain(files, f => f.EndsWith(".plan.json") || f.EndsWith(".weights.bin") || f.EndsWith(".report.md") || f.EndsWith(".tmp"));
    }

    /// <summary>A one-node float model: input X (dims given as numbers or symbols) → op → Y.</summary>
    internal static ModelProto OneNodeModel(string op, string nodeName, string[] inputDims)
    {
        static TypeProto Type(string[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(long.TryParse(d, out long v) ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d });
            return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } };
        }
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = Type(inputDims) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        graph.Node.Add(new NodeProto { Name = nodeName, OpType = op, Input = { "X" }, Output = { "Y" } });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    static byte[] Npy(float[] data, params int[] shape)
    {
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}{(shape.Length == 1 ? "," : "")}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(Encoding.ASCII.GetBytes(header));
        foreach (var f in data) ms.Write(BitConverter.GetBytes(f));
        return ms.ToArray();
    }
}
