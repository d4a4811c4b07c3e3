using System.Collections.Immutable;
using System.Numerics.Tensors;
using Compress.Tasks.Graph;
using Tensor = Compress.Tasks.Graph.Tensor;
using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Tests.Lowering;
using Compress.Tasks.Validation;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Calibration;

/// <summary><see cref="LoweredModel.ValueLocations"/> and the interpreter's observer: every value can be watched as the plan runs.</summary>
public class ValueObservationTests
{
    static float[] Sample(int index) => TestFiles.Rows("digits_calib_x.f32", 64, index + 1)[index];

    [Theory]
    [InlineData("digits_mlp")]
    [InlineData("digits_cnn")]
    [InlineData("digits_dwsep")]
    [InlineData("wide_mlp")]
    public void Observer_sees_the_same_final_outputs_as_Run(string model)
    {
        var lowered = CalibrationTestFiles.Lower(model);
        var plan = lowered.Plan;
        var interpreter = new PlanInterpreter(plan, lowered.Weights);
        var input = new[] { Sample(3) };
        float[][] expected = interpreter.Run(input);

        var seen = new List<int>();
        float[][]? observed = null;
        var outputs = plan.Outputs.Select(o => new float[o.Length]).ToArray();
        interpreter.RunInto(input, outputs, (step, frame) =>
        {
            seen.Add(step);
            if (step == plan.Steps.Count - 1)
                observed = plan.Outputs.Select(o => frame.Read(lowered.ValueLocations[o.Name]).ToArray()).ToArray();
        });
        Assert.Equal(Enumerable.Range(-1, plan.Steps.Count + 1), seen);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.Equal(expected[o], observed![o]);
            Assert.Equal(expected[o], outputs[o]);
        }
        Assert.Equal(expected[0], interpreter.Run(input, null)[0]);
    }

    [Theory]
    [InlineData("digits_mlp")]
    [InlineData("digits_cnn")]
    [InlineData("digits_dwsep")]
    public void Every_value_read_after_its_step_is_what_the_reference_computes(string model)
    {
        var canonical = CalibrationTestFiles.Canonical(model);
        var lowered = ModelLowering.Lower(canonical, Harness.Options);
        Assert.Contains(canonical.Inputs[0].Name, lowered.ValueLocations.Keys);
        Assert.Equal(-1, lowered.ValueReadyAfterStep[canonical.Inputs[0].Name]);
        Assert.All(canonical.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0 && canonical.Consumers(o).Any() || canonical.IsGraphOutput(o)),
            v => Assert.Contains(v, lowered.ValueLocations.Keys));

        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        for (int s = 0; s < 3; s++)
        {
            float[] x = Sample(s);
            var want = Reference(canonical, x, lowered.ValueLocations.Keys);
            var got = Observe(lowered, interpreter, x);
            Assert.Equal(lowered.ValueLocations.Count, got.Count);
            foreach (var (name, values) in got) Harness.Close(want[name], values, 1e-4f);
        }
    }

    [Fact]
    public void Aliases_and_in_place_results_share_a_span_and_are_read_at_their_own_steps()
    {
        var g = new TestGraph()
            .Input("x", 1, 4)
            .Const("w1", Harness.Random(16, 1), 4, 4).Const("b1", Harness.Random(4, 2), 4)
            .Node("Gemm", ["x", "w1", "b1"], "h", [1, 4])
            .Node("Relu", ["h"], "r", [1, 4])                      // in place on h's storage
            .ConstInt64("shape", [2, 2], 2)
            .Node("Reshape", ["r", "shape"], "s", [2, 2])          // an alias of r
            .ConstInt64("flat", [1, 4], 2)
            .Node("Reshape", ["s", "flat"], "f", [1, 4])
            .Const("w2", Harness.Random(12, 3), 4, 3)
            .Node("Gemm", ["f", "w2"], "y", [1, 3])
            .Node("Identity", ["x"], "z", [1, 4])                  // a graph output copied from the input
            .Output("y", "z")
            .Build();
        var lowered = Harness.Lower(g);
        var loc = lowered.ValueLocations;
        var ready = lowered.ValueReadyAfterStep;

        Assert.Equal(PlanArg.Input(0, 0, 4), loc["x"]);
        Assert.Equal(-1, ready["x"]);
        Assert.Equal(SpanSource.Arena, loc["h"].Source);
        Assert.Equal(loc["h"], loc["r"]);
        Assert.Equal(loc["r"], loc["s"]);
        Assert.Equal(loc["r"], loc["f"]);
        Assert.True(ready["h"] < ready["r"], "the in-place Relu overwrites h after h is ready");
        Assert.Equal(ready["r"], ready["s"]);
        Assert.Equal(PlanArg.Output(0, 0, 3), loc["y"]);
        Assert.Equal(PlanArg.Output(1, 0, 4), loc["z"]);
        Assert.DoesNotContain("w1", loc.Keys);
        Assert.DoesNotContain("shape", loc.Keys);
        Assert.Equal(loc.Keys.Order(), ready.Keys.Order());

        float[] x = [0.5f, -1f, 2f, -0.25f];
        var got = Observe(lowered, new PlanInterpreter(lowered.Plan, lowered.Weights), x);
        var want = Reference(g, x, loc.Keys);
        foreach (var (name, values) in got) Harness.Close(want[name], values, 1e-5f);
        Assert.Contains(got["h"], v => v < 0); // h seen before the Relu ran on its memory
    }

    [Fact]
    public void RunInto_with_an_observer_allocates_nothing_per_run()
    {
        var lowered = CalibrationTestFiles.Lower("digits_cnn");
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        var watch = lowered.ValueLocations.ToArray();
        var input = new[] { Sample(0) };
        var outputs = new[] { new float[lowered.Plan.Outputs[0].Length] };
        double sum = 0;
        Action<int, PlanInterpreter.Frame> observer = (step, frame) =>
        {
            foreach (var (name, location) in watch)
                if (lowered.ValueReadyAfterStep[name] == step) sum += TensorPrimitives.Sum(frame.Read(location));
        };
        for (int i = 0; i < 5; i++) interpreter.RunInto(input, outputs, observer);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) interpreter.RunInto(input, outputs, observer);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(double.IsFinite(sum));
    }

    [Fact]
    public void RunInto_checks_its_output_buffers()
    {
        var lowered = CalibrationTestFiles.Lower("digits_mlp");
        var interpreter = new PlanInterpreter(lowered.Plan, lowered.Weights);
        Assert.Throws<ArgumentException>(() => interpreter.RunInto([Sample(0)], [new float[9]]));
        Assert.Throws<ArgumentException>(() => interpreter.RunInto([Sample(0)], []));
        Assert.Throws<ArgumentException>(() => interpreter.RunInto([new float[63]], [new float[10]]));
    }

    /// <summary>Every value with a location, read right after the step that makes it.</summary>
    static Dictionary<string, float[]> Observe(LoweredModel lowered, PlanInterpreter interpreter, float[] x)
    {
        var got = new Dictionary<string, float[]>();
        interpreter.Run([x], (step, frame) =>
        {
            foreach (var (name, location) in lowered.ValueLocations)
                if (lowered.ValueReadyAfterStep[name] == step) got[name] = frame.Read(location).ToArray();
        });
        return got;
    }

    /// <summary>Every named value as the naive reference interpreter computes it.</summary>
    internal static Dictionary<string, float[]> Reference(global::Compress.Tasks.Graph.Graph g, float[] x, IEnumerable<string> values)
    {
        var all = g with { Outputs = values.Select(v => new ValueInfo(v, DataType.Float, null)).ToImmutableArray() };
        var input = g.Inputs.First(i => !g.IsConstant(i.Name));
        long[] dims = input.Shape!.Dims.Select(d => d.IsKnown ? d.Value : 1).ToArray();
        var result = ReferenceInterpreter.Run(all, new Dictionary<string, Tensor> { [input.Name] = Tensor.FromFloats(input.Name, x, dims) });
        return result.ToDictionary(kv => kv.Key, kv => kv.Value.Floats);
    }
}
