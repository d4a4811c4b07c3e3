using System.Reflection;

namespace Compress.EndToEnd.Tests;

/// <summary>
/// A console project in a temporary folder that consumes Compress the way a user's project does (the repository's
/// build/Compress.props and .targets, the built task, generator and runtime), built with a real `dotnet build`.
/// </summary>
public sealed class ThrowawayProject : IDisposable
{
    internal static string Meta(string key) => typeof(ThrowawayProject).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepoRoot => Meta("CompressRepoRoot");
    /// <summary>The Microsoft.ML.OnnxRuntime version the repository pins (Directory.Packages.props).</summary>
    public static string OnnxRuntimeVersion => Meta("OnnxRuntimeVersion");

    public static string Configuration => Meta("Configuration");

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "compress-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    public string CompressDirectory => Path.Combine(Directory, "obj", "Debug", "net10.0", "compress");

    /// <param name="references">Extra items for the project's reference group (e.g. a PackageReference).</param>
    public ThrowawayProject(string compressItems, string programBody = "System.Console.WriteLine(\"ok\");", string references = "")
    {
        System.IO.Directory.CreateDirectory(Directory);
        string bin(string project, string tfm) => Path.Combine(RepoRoot, "src", project, "bin", Configuration, tfm, project + ".dll");
        File.WriteAllText(Path.Combine(Directory, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{RepoRoot}build/Compress.props" />
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <RootNamespace>App</RootNamespace>
                <Nullable>enable</Nullable>
                <CompressTasksAssembly>{bin("Compress.Tasks", "net10.0")}</CompressTasksAssembly>
                <CompressTaskFactory>TaskHostFactory</CompressTaskFactory>
              </PropertyGroup>
              <ItemGroup>
                {compressItems}
              </ItemGroup>
              <ItemGroup>
                <Analyzer Include="{bin("Compress.Generator", "netstandard2.0")}" />
                <Reference Include="{bin("Compress.Runtime", "net10.0")}" />
                <PackageReference Include="System.Numerics.Tensors" Version="{Meta("TensorsVersion")}" />
                {references}
              </ItemGroup>
              <Import Project="{RepoRoot}build/Compress.targets" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(Directory, "Program.cs"), programBody);
    }

    /// <summary>Copies a sample model (or any file) into the project folder.</summary>
    public string Add(string sourcePath, string name)
    {
        string target = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(sourcePath, target, overwrite: true);
        return target;
    }

    public string Write(string name, byte[] bytes)
    {
        string target = Path.Combine(Directory, name);
        File.WriteAllBytes(target, bytes);
        return target;
    }

    public (int ExitCode, string Output) Build(string extraArgs = "") => Dotnet($"build -nologo -nodeReuse:false -v:n {extraArgs}");

    public (int ExitCode, string Output) Run() => Dotnet($"run --no-build -nologo");

    (int, string) Dotnet(string args) => DotnetCli.Run(Directory, args);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
