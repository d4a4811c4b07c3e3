namespace Compress.Generator.Tests.Infrastructure;

/// <summary>The test data: plans under Plans/ and expected output under Snapshots/, copied next to the test assembly.</summary>
internal static class TestFiles
{
    /// <summary>Where a plan would sit in a real project (the path only locates diagnostics; nothing reads it).</summary>
    public const string PlanDirectory = "/src/App/obj/Debug/net10.0/compress/";

    public static string ReadPlan(string fileName) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Plans", fileName));

    public static string SnapshotPath(string hintName) => Path.Combine(AppContext.BaseDirectory, "Snapshots", hintName);

    /// <summary>The test project's source folder (found by walking up from the test assembly), for rewriting snapshots.</summary>
    public static string SourceDirectory()
    {
        for (string? directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "Compress.Generator.Tests.csproj")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("Cannot find the Compress.Generator.Tests source folder above " + AppContext.BaseDirectory);
    }
}
