using Compress.Generator.Tests.Infrastructure;

namespace Compress.Generator.Tests;

/// <summary>
/// The generated source for each plan under Plans/, compared verbatim with Snapshots/&lt;hint name&gt;, so a reviewer reads
/// exactly what users get.
/// </summary>
/// <remarks>
/// To regenerate the snapshots after an intended change to the emitter (or a version bump, which is in every header):
/// <code>
/// COMPRESS_UPDATE_SNAPSHOTS=1 dotnet test tests/Compress.Generator.Tests --filter "FullyQualifiedName~SnapshotTests"
/// </code>
/// then review the diff of tests/Compress.Generator.Tests/Snapshots/ like any other code change.
/// </remarks>
public sealed class SnapshotTests
{
    private static bool Update => Environment.GetEnvironmentVariable("COMPRESS_UPDATE_SNAPSHOTS") == "1";

    public static TheoryData<string, string> Cases => new()
    {
        { "digits_mlp.plan.json", "Digits.Classifier.g.cs" },
        { "digits_cnn.plan.json", "Digits.Vision.ConvNet.g.cs" },
        { "fusion.plan.json", "Fusion.g.cs" },
        { "hostile.plan.json", "Odd.namespace.class.g.cs" },
        { "int8_cnn.plan.json", "Vision.Int8.TinyCnn.g.cs" },
        { "quant.plan.json", "Quant.Int8Model.g.cs" },
        { "tiny.plan.json", "Tiny.Model.g.cs" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_source_matches_snapshot(string plan, string hintName)
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.Plan(plan));
        Assert.Empty(run.GeneratorDiagnostics);
        string actual = run.Source(hintName);

        if (Update)
        {
            File.WriteAllText(Path.Combine(TestFiles.SourceDirectory(), "Snapshots", hintName), actual);
            Directory.CreateDirectory(Path.GetDirectoryName(TestFiles.SnapshotPath(hintName))!);
            File.WriteAllText(TestFiles.SnapshotPath(hintName), actual);
        }

        string path = TestFiles.SnapshotPath(hintName);
        Assert.True(File.Exists(path), "No snapshot " + hintName + "; run the tests with COMPRESS_UPDATE_SNAPSHOTS=1 to write it, then review it.");

        // A checkout may turn \n into \r\n; the generator always writes \n.
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_is_deterministic(string plan, string hintName)
    {
        string first = GeneratorHarness.Run(GeneratorHarness.Plan(plan)).Source(hintName);
        string second = GeneratorHarness.Run(GeneratorHarness.Plan(plan)).Source(hintName);
        Assert.Equal(first, second);
        Assert.DoesNotContain("\r", first);
    }
}
