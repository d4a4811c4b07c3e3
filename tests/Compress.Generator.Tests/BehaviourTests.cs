using System.Reflection;
using Compress.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Compress.Generator.Tests;

/// <summary>
/// Runs generated code: tiny.plan.json (LeakyRelu, row copies, Clip; dynamic batch) is compiled with the weights as a
/// manifest resource into an in-memory assembly, loaded and called through a small harness compiled alongside it.
/// </summary>
public sealed class BehaviourTests
{
    private static readonly float[] Weights = [0.5f, -2f, 3f, -0.25f, 1f, 7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private const string Harness = """
        namespace Tiny
        {
            internal static class Harness
            {
                public static void Run(float[] x, float[] y, float[] z) => new Model().Run(x, y, z);

                public static void RunBatch(float[] x, float[] y, float[] z, int batchSize) => new Model().Run(x, y, z, batchSize);

                public static float[][] RunArrays(float[] x)
                {
                    (float[] y, float[] z) = new Model().Run(x);
                    return [y, z];
                }

                public static int[] Shapes() => [.. Model.XShape, .. Model.YShape, .. Model.ZShape, Model.XLength, Model.YLength, Model.ZLength, Model.ArenaLength, Model.WeightsBytes];

                public static long AllocatedBytes(float[] x, float[] y, float[] z, int iterations)
                {
                    var model = new Model();
                    model.Run(x, y, z);
                    model.Run(x, y, z, 1);
                    long before = global::System.GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < iterations; i++)
                    {
                        model.Run(x, y, z);
                        model.Run(x, y, z, 1);
                    }

                    return global::System.GC.GetAllocatedBytesForCurrentThread() - before;
                }
            }
        }
        """;

    private static readonly Lazy<Type> HarnessType = new(() => Build(withWeights: true).GetType("Tiny.Harness", throwOnError: true)!);

    private static Assembly Build(bool withWeights)
    {
        GeneratorRun run = GeneratorHarness.Run([GeneratorHarness.Plan("tiny.plan.json")], Harness);
        Assert.Empty(run.GeneratorDiagnostics);
        byte[] bytes = withWeights ? Weights.SelectMany(BitConverter.GetBytes).ToArray() : [];
        string resource = withWeights ? "Tiny.Model.weights" : "Unrelated.resource";
        return InMemoryAssembly.Emit(run.Output.WithAssemblyName(withWeights ? "TinyModel" : "TinyModelWithoutWeights"), resource, bytes);
    }

    private static T Method<T>(string name)
        where T : Delegate => HarnessType.Value.GetMethod(name)!.CreateDelegate<T>();

    [Fact]
    public void Run_computes_the_schedule()
    {
        var run = Method<Action<float[], float[], float[]>>("Run");
        float[] y = new float[4], z = new float[6];
        run([1f, -2f, 3f, -4f], y, z);

        Assert.Equal([1f, -1f, 3f, -2f], y);
        Assert.Equal([0.5f, -1f, 1f, -0.25f, 1f, 1f], z);
    }

    [Fact]
    public void The_array_overload_returns_new_arrays()
    {
        var run = Method<Func<float[], float[][]>>("RunArrays");
        float[][] outputs = run([2f, -2f, 0f, 8f]);

        Assert.Equal([2f, -1f, 0f, 8f], outputs[0]);
        Assert.Equal([0.5f, -1f, 1f, -0.25f, 1f, 1f], outputs[1]);
    }

    [Fact]
    public void The_constants_come_from_the_plan()
    {
        int[] values = Method<Func<int[]>>("Shapes")();
        Assert.Equal([1, 4, 1, 2, 2, 1, 6, 4, 4, 6, 4, 64], values);
    }

    [Fact]
    public void The_batched_overload_runs_each_sample()
    {
        var run = Method<Action<float[], float[], float[], int>>("RunBatch");
        float[] y = new float[8], z = new float[12];
        run([1f, -2f, 3f, -4f, -8f, 2f, 0f, 6f], y, z, 2);

        Assert.Equal([1f, -1f, 3f, -2f, -4f, 2f, 0f, 6f], y);
        Assert.Equal([0.5f, -1f, 1f, -0.25f, 1f, 1f, 0.5f, -1f, 1f, -0.25f, 1f, 1f], z);

        run([], [], [], 0);
    }

    [Fact]
    public void Wrong_lengths_throw_ArgumentException_naming_the_parameter()
    {
        var run = Method<Action<float[], float[], float[]>>("Run");

        var input = Assert.Throws<ArgumentException>(() => run(new float[3], new float[4], new float[6]));
        Assert.Equal("x", input.ParamName);
        Assert.Equal("Expected 4 floats in 'x' but got 3. (Parameter 'x')", input.Message);

        var output = Assert.Throws<ArgumentException>(() => run(new float[4], new float[4], new float[7]));
        Assert.Equal("z", output.ParamName);
        Assert.StartsWith("Expected 6 floats in 'z' but got 7.", output.Message);
    }

    [Fact]
    public void The_batched_overload_checks_the_batch_size_and_lengths()
    {
        var run = Method<Action<float[], float[], float[], int>>("RunBatch");

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => run([], [], [], -1));
        Assert.Equal("batchSize", negative.ParamName);
        Assert.Equal(-1, negative.ActualValue);

        var length = Assert.Throws<ArgumentException>(() => run(new float[7], new float[8], new float[12], 2));
        Assert.Equal("x", length.ParamName);
        Assert.StartsWith("Expected 8 floats in 'x' (4 per sample × batch size 2) but got 7.", length.Message);

        var output = Assert.Throws<ArgumentException>(() => run(new float[8], new float[8], new float[6], 2));
        Assert.Equal("z", output.ParamName);
    }

    [Fact]
    public void Run_allocates_nothing()
    {
        long allocated = Method<Func<float[], float[], float[], int, long>>("AllocatedBytes")(new float[4], new float[4], new float[6], 1000);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Missing_weights_fail_with_the_runtime_message_and_are_not_cached_as_a_type_initialization_error()
    {
        Type harness = Build(withWeights: false).GetType("Tiny.Harness", throwOnError: true)!;
        var run = harness.GetMethod("Run")!.CreateDelegate<Action<float[], float[], float[]>>();

        var first = Assert.Throws<InvalidOperationException>(() => run(new float[4], new float[4], new float[6]));
        Assert.Contains("Tiny.Model.weights", first.Message);
        var second = Assert.Throws<InvalidOperationException>(() => run(new float[4], new float[4], new float[6]));
        Assert.Equal(first.Message, second.Message);
    }
}
