using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;
using Microsoft.ML.OnnxRuntime;

namespace Compress.EndToEnd.Tests;

/// <summary>
/// The Compress NuGet package the way a user gets it (the README's install section): `dotnet pack` into a folder
/// feed; a fresh console project outside the repository (no Directory.Build.* from it, its own nuget.config and an
/// empty NUGET_PACKAGES folder, so neither the repository nor a stale cached package can stand in) references the
/// package by version, declares a CompressModel, builds in Release and runs; its output is checked against ONNX Runtime.
/// </summary>
public sealed class PackageTests : IDisposable
{
    static string PackageVersion => ThrowawayProject.Meta("PackageVersion");

    static string PackageProject => Path.Combine(ThrowawayProject.RepoRoot, "src", "Compress.Package", "Compress.Package.csproj");

    const int Sample = 7;

    readonly string _root = Path.Combine(Path.GetTempPath(), "compress-pkg-" + Guid.NewGuid().ToString("N")[..8]);

    string Feed => Path.Combine(_root, "feed");

    string App => Path.Combine(_root, "app");

    [Fact]
    public void PackedPackageCompilesAndRunsAModelInAFreshProject()
    {
        // The test's own configuration is already built (Compress.Package is a project reference of this project);
        // --no-build packs exactly those outputs and writes nothing into the repository's bin/ and obj/ folders.
        var pack = DotnetCli.Run(ThrowawayProject.RepoRoot, $"pack \"{PackageProject}\" -c {ThrowawayProject.Configuration} --no-build -o \"{Feed}\"");
        Assert.True(pack.ExitCode == 0, pack.Output);
        string package = Assert.Single(Directory.GetFiles(Feed, "*.nupkg"));
        Assert.Equal($"Compress.{PackageVersion}.nupkg", Path.GetFileName(package));
        AssertLayout(package);

        WriteConsumer();
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_root, "packages") };
        var build = DotnetCli.Run(App, "build -c Release -nologo", environment);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("Compress: App.Digits", build.Output);
        // Restored from the feed into the isolated folder, not from anywhere else.
        Assert.True(File.Exists(Path.Combine(_root, "packages", "compress", PackageVersion, "tasks", "net10.0", "Compress.Tasks.dll")), build.Output);

        var run = DotnetCli.Run(App, "run -c Release --no-build", environment);
        Assert.True(run.ExitCode == 0, run.Output);
        var (digit, logits) = ParseOutput(run.Output);

        float[] expected = OnnxRuntimeLogits();
        Assert.Equal(TestData.ArgMax(expected), digit);
        Assert.Equal(expected.Length, logits.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - logits[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"logit {i}: {logits[i]} vs ONNX Runtime {expected[i]}");

        // The app ships the runtime library only: nothing the build-time task uses reaches its output folder.
        string bin = Path.Combine(App, "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(bin, "Compress.Runtime.dll")));
        foreach (string taskOnly in new[] { "Compress.Tasks.dll", "Google.Protobuf.dll", "Microsoft.ML.OnnxRuntime.dll", "runtimes" })
            Assert.False(Path.Exists(Path.Combine(bin, taskOnly)), $"{taskOnly} leaked into the consumer's output");
    }

    /// <summary>One package: runtime in lib/, generator in analyzers/, the task and its closure in tasks/, the build files; only the runtime's dependency.</summary>
    static void AssertLayout(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (string required in new[]
        {
            "lib/net10.0/Compress.Runtime.dll", "analyzers/dotnet/cs/Compress.Generator.dll", "build/Compress.props", "build/Compress.targets",
            "tasks/net10.0/Compress.Tasks.dll", "tasks/net10.0/Compress.Tasks.deps.json", "tasks/net10.0/Compress.Runtime.dll",
            "tasks/net10.0/Google.Protobuf.dll", "tasks/net10.0/Microsoft.ML.OnnxRuntime.dll", "tasks/net10.0/System.Numerics.Tensors.dll",
            "tasks/net10.0/runtimes/linux-x64/native/libonnxruntime.so", "tasks/net10.0/runtimes/win-x64/native/onnxruntime.dll",
            "tasks/net10.0/runtimes/osx-arm64/native/libonnxruntime.dylib", "README.md",
        })
            Assert.True(entries.Contains(required), $"{required} is missing from the package: {string.Join(", ", entries.Order())}");
        Assert.Equal(["lib/net10.0/Compress.Runtime.dll"], entries.Where(e => e.StartsWith("lib/") && e.EndsWith(".dll")));
        Assert.Equal(["analyzers/dotnet/cs/Compress.Generator.dll"], entries.Where(e => e.StartsWith("analyzers/")));

        using var nuspec = zip.GetEntry("Compress.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
        Assert.Equal("Compress", Value("id"));
        Assert.Equal(PackageVersion, Value("version"));
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!);
        Assert.Equal(["System.Numerics.Tensors"], dependencies);
    }

    /// <summary>A console project as `dotnet new console` makes it, plus the package, a model and a Program that prints its answer.</summary>
    void WriteConsumer()
    {
        Directory.CreateDirectory(Path.Combine(App, "models"));
        Directory.CreateDirectory(Path.Combine(App, "data"));
        // Stop MSBuild's upward search for Directory.Build.* / Directory.Packages.props at the temporary root.
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.WriteAllText(Path.Combine(_root, name), "<Project />\n");
        File.WriteAllText(Path.Combine(_root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                <add key="compress-local" value="{Feed}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="compress-local">
                  <package pattern="Compress" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(App, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <RootNamespace>App</RootNamespace>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Compress" Version="{PackageVersion}" />
              </ItemGroup>
              <ItemGroup>
                <CompressModel Include="models/digits_mlp.onnx" ClassName="App.Digits" ValidationData="data/digits_test_x.npy" ValidationLabels="data/digits_test_y.npy" />
              </ItemGroup>
            </Project>
            """);
        string samples = Path.Combine(ThrowawayProject.RepoRoot, "samples", "Digits");
        File.Copy(Path.Combine(samples, "models", "digits_mlp.onnx"), Path.Combine(App, "models", "digits_mlp.onnx"));
        File.Copy(Path.Combine(samples, "data", "digits_test_x.npy"), Path.Combine(App, "data", "digits_test_x.npy"));
        File.Copy(Path.Combine(samples, "data", "digits_test_y.npy"), Path.Combine(App, "data", "digits_test_y.npy"));

        string pixels = string.Join(", ", TestData.Image(Sample).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture) + "f"));
        File.WriteAllText(Path.Combine(App, "Program.cs"), $$"""
            using System.Globalization;

            float[] pixels = [{{pixels}}];
            var model = new App.Digits();
            Span<float> logits = stackalloc float[App.Digits.LogitsLength];
            model.Run(pixels, logits);
            int digit = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[digit]) digit = i;
            Console.WriteLine($"digit {digit}");
            Console.WriteLine("logits " + string.Join(",", logits.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            """);
    }

    static (int Digit, float[] Logits) ParseOutput(string output)
    {
        string Line(string prefix) => output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];
        return (int.Parse(Line("digit "), CultureInfo.InvariantCulture),
                Line("logits ").Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
    }

    static float[] OnnxRuntimeLogits()
    {
        using var session = new InferenceSession(TestData.Model("digits_mlp"));
        using var input = OrtValue.CreateTensorValueFromMemory(TestData.Image(Sample).ToArray(), [1, 64]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [session.InputMetadata.Keys.Single()], [input], session.OutputNames);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
