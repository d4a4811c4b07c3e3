using System.Runtime.InteropServices;

namespace Compress.Tasks.Tests.Graph;

/// <summary>The sample models and data copied next to the test assembly, and scratch folders.</summary>
public static class TestFiles
{
    public static string Model(string name) => Path.Combine(AppContext.BaseDirectory, "models", name + ".onnx");

    public static string Data(string file) => Path.Combine(AppContext.BaseDirectory, "data", file);

    /// <summary>The first <paramref name="count"/> rows of a raw float32 file with <paramref name="width"/> floats per row.</summary>
    public static float[][] Rows(string file, int width, int count)
    {
        var all = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Data(file))).ToArray();
        return Enumerable.Range(0, Math.Min(count, all.Length / width)).Select(r => all.AsSpan(r * width, width).ToArray()).ToArray();
    }

    /// <summary>A fresh empty folder under the temp directory; deleted by the caller's using.</summary>
    public static TempFolder TempFolder() => new();
}

public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "compress-tests-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
