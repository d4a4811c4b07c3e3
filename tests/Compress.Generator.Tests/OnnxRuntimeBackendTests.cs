using System.Reflection;
using System.Text.Json.Nodes;
using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Generator.Tests;

/// <summary>
/// Plans with <c>"backend": "onnxruntime"</c> (docs/onnxruntime-backend.md): without ONNX Runtime in the compilation
/// the generator reports CMP034 and emits nothing; with it, the class compiles without warnings, keeps the kernels
/// class's API, and run from an in-memory assembly with the model as its resource it matches ONNX Runtime; a bad
/// <c>backend</c> is CMP050.
/// </summary>
public sealed class OnnxRuntimeBackendTests
{
    private static readonly byte[] s_model = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Models", "digits_mlp.onnx"));

    private static string OrtPlan(Action<JsonObject>? change = null) => PlanJson.Mlp(root =>
    {
        root["backend"] = "onnxruntime";
        root["onnxRuntimeVersion"] = "1.31.1";
        root["steps"] = new JsonArray();
        root["arena"]!["floats"] = 0;
        root["weights"]!["bytes"] = s_model.Length;
        change?.Invoke(root);
    });

    private static GeneratorRun RunWithOnnxRuntime(string plan)
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation("OrtAssembly")
            .AddReferences(MetadataReference.CreateFromFile(typeof(InferenceSession).Assembly.Location));
        GeneratorDriver driver = GeneratorHarness.CreateDriver(GeneratorHarness.PlanText("Classifier.plan.json", plan))
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out var diagnostics);
        return new GeneratorRun(driver.GetRunResult(), output, diagnostics);
    }

    [Fact]
    public void Without_OnnxRuntime_the_plan_is_CMP034_with_the_package_line_and_no_class()
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.PlanText("Classifier.plan.json", OrtPlan()));
        Assert.Empty(run.Sources);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CMP034", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("Digits.Classifier", diagnostic.GetMessage());
        Assert.Contains("<PackageReference Include=\"Microsoft.ML.OnnxRuntime\" Version=\"1.31.1\" />", diagnostic.GetMessage());
    }

    [Fact]
    public void With_OnnxRuntime_the_class_compiles_cleanly_and_matches_OnnxRuntime()
    {
        GeneratorRun run = RunWithOnnxRuntime(OrtPlan());
        Assert.Empty(run.GeneratorDiagnostics);
        // CS1701/CS1702 (ONNX Runtime is built against System.Runtime 8.0) are off by default in every SDK project.
        var diagnostics = run.CompilationDiagnostics.Where(d => d.Id is not ("CS1701" or "CS1702")).ToList();
        Assert.True(diagnostics.Count == 0, GeneratorRun.Format(diagnostics));
        string source = run.Source("Digits.Classifier.g.cs");
        Assert.Contains("RunWithBinding", source);
        Assert.DoesNotContain("global::Compress.Runtime.Kernels", source);

        Assembly assembly = InMemoryAssembly.Emit(run.Output, "Digits.Classifier.weights", s_model);
        Type type = assembly.GetType("Digits.Classifier")!;
        Assert.True(typeof(IDisposable).IsAssignableFrom(type));
        Assert.Equal(64, (int)type.GetField("InputLength")!.GetValue(null)!);
        Assert.Equal(10, (int)type.GetField("LogitsLength")!.GetValue(null)!);
        using var model = (IDisposable)Activator.CreateInstance(type)!;
        MethodInfo run1 = type.GetMethod("Run", [typeof(float[])])!;

        var random = new Random(7);
        using var session = new InferenceSession(s_model);
        for (int sample = 0; sample < 5; sample++)
        {
            float[] input = Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble() * 16).ToArray();
            float[] actual = (float[])run1.Invoke(model, [input])!;
            using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 64]);
            using var options = new RunOptions();
            using var results = session.Run(options, ["input"], [value], session.OutputNames);
            Assert.Equal(results[0].GetTensorDataAsSpan<float>().ToArray(), actual);
        }

        // Same length checks as the kernels class.
        var e = Assert.Throws<TargetInvocationException>(() => run1.Invoke(model, [new float[3]]));
        Assert.IsType<ArgumentException>(e.InnerException);
        model.Dispose();
        e = Assert.Throws<TargetInvocationException>(() => run1.Invoke(model, [new float[64]]));
        Assert.IsType<ObjectDisposedException>(e.InnerException);
    }

    [Theory]
    [InlineData("tvm", "\"backend\" is \"tvm\"")]
    [InlineData("onnxruntime-with-steps", "\"steps\" is not empty")]
    public void A_bad_backend_is_CMP050(string kind, string expected)
    {
        string plan = kind == "tvm"
            ? PlanJson.Mlp(root => root["backend"] = "tvm")
            : PlanJson.Mlp(root => { root["backend"] = "onnxruntime"; root["onnxRuntimeVersion"] = "1.31.1"; });
        GeneratorRun run = RunWithOnnxRuntime(plan);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CMP050", diagnostic.Id);
        Assert.Contains(expected, diagnostic.GetMessage());
    }
}
