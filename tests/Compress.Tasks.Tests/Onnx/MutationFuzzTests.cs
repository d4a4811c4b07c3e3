using Compress.Tasks.Diagnostics;
using Compress.Tasks.Onnx;
using Compress.Tasks.Passes;
using Compress.Tasks.Tests.Graph;

namespace Compress.Tasks.Tests.Onnx;

/// <summary>Damaged models must fail with a CompressException (a CMP code and a message), never with a raw exception.</summary>
public class MutationFuzzTests
{
    [Theory]
    [InlineData("digits_mlp", 1)]
    [InlineData("digits_cnn", 2)]
    [InlineData("digits_dwsep", 3)]
    public void Mutated_models_fail_only_with_compress_exceptions(string model, int seed)
    {
        var original = File.ReadAllBytes(TestFiles.Model(model));
        var rng = new Random(seed);
        using var dir = TestFiles.TempFolder();
        string path = dir.File("mutated.onnx");
        var unexpected = new List<string>();
        for (int iteration = 0; iteration < 400; iteration++)
        {
            var bytes = (byte[])original.Clone();
            // Mutations concentrate on the graph structure (the last part of the file holds the nodes after the weights
            // in some exporters, the first part in others), so hit both ends and the middle.
            int edits = rng.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                int at = rng.Next(3) switch
                {
                    0 => rng.Next(Math.Min(512, bytes.Length)),
                    1 => bytes.Length - 1 - rng.Next(Math.Min(2048, bytes.Length)),
                    _ => rng.Next(bytes.Length),
                };
                bytes[at] = (byte)rng.Next(256);
            }
            File.WriteAllBytes(path, bytes);
            try
            {
                var loaded = OnnxModelReader.Load(path);
                CanonicalPipeline.Run(loaded.Graph, new PassLog());
            }
            catch (CompressException e)
            {
                Assert.StartsWith("CMP0", e.Code);
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
            catch (Exception e)
            {
                unexpected.Add($"{e.GetType().Name}: {e.Message}\n{e.StackTrace?.Split('\n').FirstOrDefault()}");
            }
        }
        Assert.True(unexpected.Count == 0, string.Join("\n---\n", unexpected.Distinct().Take(10)));
    }
}
