using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;
using Compress.Tasks.Quantization;
using Compress.Tasks.Tests.Calibration;
using Compress.Tasks.Tests.Graph;
using Compress.Tasks.Tests.Lowering;
using Compress.Tasks.Tests.Lowering.Int8;
using Compress.Tasks.Validation;
using static Compress.Tasks.Tests.Lowering.TestGraph;

namespace Compress.Tasks.Tests.Validation;

using Graph = Compress.Tasks.Graph.Graph;

public class LayerErrorAnalysisTests
{
    /// <summary>
    /// A k×n Gemm weight (transB = 0) of uniform values in ±0.4. "Wide": row 0 is 16, so every output channel's scale
    /// is 40× coarser, while input 0 — always 0 in these tests — adds nothing to the signal: only the noise grows.
    /// </summary>
    static float[] Weight(int k, int n, int seed, bool wide)
    {
        float[] w = Harness.Random(k * n, seed, 0.4f);
        if (wide) for (int j = 0; j < n; j++) w[j] = 16f;
        return w;
    }

    /// <summary>A weight whose output channel 0 is never positive for inputs ≥ 0: after Relu it is always 0.</summary>
    static float[] SilentChannel0(float[] w, int n)
    {
        for (int i = 0; i < w.Length; i += n) w[i] = -Math.Abs(w[i]);
        return w;
    }

    /// <summary>x → Gemm P, x → Gemm Q, Add(P, Q) in fp32 (excluded): both Gemms read the exact graph input.</summary>
    static Graph Branches(bool wideP, bool wideQ) => new TestGraph().Input("x", 1, 32)
        .Const("Wp", Weight(32, 16, 1, wideP), 32, 16).Const("Wq", Weight(32, 16, 2, wideQ), 32, 16)
        .Node("Gemm", ["x", "Wp"], "p", [1, 16])
        .Node("Gemm", ["x", "Wq"], "q", [1, 16])
        .Node("Add", ["p", "q"], "y", [1, 16])
        .Output("y").Build();

    /// <summary>x → A (Relu) → B (Relu) → C, all int8: u8 between the layers.</summary>
    static Graph Chain(bool wideB) => new TestGraph().Input("x", 1, 32)
        .Const("Wa", SilentChannel0(Weight(32, 32, 3, wide: false), 32), 32, 32).Const("Wb", Weight(32, 24, 4, wideB), 32, 24).Const("Wc", Weight(24, 10, 5, wide: false), 24, 10)
        .Node("Gemm", ["x", "Wa"], "a", [1, 32], Fused("Relu"))
        .Node("Gemm", ["a", "Wb"], "b", [1, 24], Fused("Relu"))
        .Node("Gemm", ["b", "Wc"], "y", [1, 10])
        .Output("y").Build();

    static (LayerErrorResult Result, LoweredModel Int8) Analyse(Graph g, IReadOnlySet<string>? exclude = null)
    {
        var fp32 = ModelLowering.Lower(g, Harness.Options);
        var samples = SampleSource.RandomInputs(fp32.Plan); // uniform in [0, 1)
        foreach (var sample in samples) sample[0][0] = 0;
        var int8 = Int8Harness.Lower(g, Int8Harness.Result(g, samples, exclude: exclude));
        using var source = SampleSource.FromMemory(fp32.Plan, samples, "test samples (input 0 always 0)");
        return (LayerErrorAnalysis.Run(g, fp32, int8, source), int8);
    }

    static LayerError Layer(LayerErrorResult r, string node) => r.Layers.Single(l => l.Node == node);

    [Theory]
    [InlineData(false, true, "/q/Gemm")]
    [InlineData(true, false, "/p/Gemm")]
    public void The_layer_with_wide_weights_is_named_as_losing_the_most(bool wideP, bool wideQ, string worst)
    {
        var (r, _) = Analyse(Branches(wideP, wideQ), exclude: new HashSet<string> { "/y/Add" });

        Assert.Equal(["/p/Gemm", "/q/Gemm", "/y/Add"], r.Layers.Select(l => l.Node));
        Assert.Equal(ModelValidator.RandomSamples, r.Samples);
        var (p, q, add) = (Layer(r, "/p/Gemm"), Layer(r, "/q/Gemm"), Layer(r, "/y/Add"));
        Assert.True(p.Quantized && q.Quantized && !add.Quantized);
        // Both read the exact graph input: each brings in all of its error (loss ∞); the lower SQNR decides.
        Assert.Equal(double.PositiveInfinity, p.LossDb);
        Assert.Equal(double.PositiveInfinity, q.LossDb);
        Assert.Equal(worst, r.Worst!.Node);
        var (bad, good) = wideQ ? (q, p) : (p, q);
        Assert.True(good.SqnrDb - bad.SqnrDb > 10, $"wide {bad.SqnrDb:F1} dB vs normal {good.SqnrDb:F1} dB");
        Assert.InRange(good.SqnrDb, 25, 60);
        Assert.InRange(r.Agreement, 0, 1);
    }

    [Fact]
    public void In_an_all_int8_chain_the_layer_with_wide_weights_loses_more_than_its_neighbours()
    {
        var (wide, int8) = Analyse(Chain(wideB: true));
        var (normal, _) = Analyse(Chain(wideB: false));

        // a and b exist only as u8 in the int8 plan: measured through their u8 locations.
        Assert.False(int8.ValueLocations.ContainsKey("a"));
        Assert.True(int8.U8ValueLocations.ContainsKey("a"));
        foreach (var r in new[] { wide, normal })
        {
            Assert.All(r.Layers, l => Assert.True(double.IsFinite(l.SqnrDb), $"{l.Node}: {l.SqnrDb}"));
            Assert.Equal(double.PositiveInfinity, Layer(r, "/a/Gemm").LossDb);
            Assert.Equal(Layer(r, "/a/Gemm").SqnrDb, Layer(r, "/b/Gemm").InputSqnrDb);
            Assert.NotNull(Layer(r, "/a/Gemm").OutputParameters);
            Assert.Null(Layer(r, "/y/Gemm").OutputParameters); // the graph output is float32
        }
        double bWide = Layer(wide, "/b/Gemm").LossDb, bNormal = Layer(normal, "/b/Gemm").LossDb;
        Assert.True(bWide > bNormal + 10, $"b loses {bWide:F1} dB with wide weights, {bNormal:F1} dB without");
        Assert.True(bWide > Layer(wide, "/y/Gemm").LossDb, $"b {bWide:F1} dB, y {Layer(wide, "/y/Gemm").LossDb:F1} dB");
        // The layer with wide weights adds the most noise of its own, though a reads the exact input.
        Assert.Equal("/b/Gemm", wide.Worst!.Node);
        Assert.True(Layer(wide, "/b/Gemm").AddedNoiseDb < Layer(wide, "/a/Gemm").AddedNoiseDb);
    }

    [Fact]
    public void Fp32_layers_of_an_int8_plan_are_exact_until_the_first_quantised_layer()
    {
        var (r, _) = Analyse(Chain(wideB: false), exclude: new HashSet<string> { "/a/Gemm" });
        var a = Layer(r, "/a/Gemm");
        Assert.False(a.Quantized);
        Assert.Equal(double.PositiveInfinity, a.SqnrDb);
        Assert.Equal(0, a.LossDb);
        Assert.NotNull(a.OutputParameters); // quantised for b, which reads it as u8
        Assert.Equal(double.PositiveInfinity, Layer(r, "/b/Gemm").LossDb);
        Assert.Equal(Layer(r, "/b/Gemm").SqnrDb, Layer(r, "/b/Gemm").AddedNoiseDb, 9); // exact inputs: all its noise is its own
        Assert.True(r.Worst!.Quantized);
    }

    [Fact]
    public void Digits_cnn_every_layer_is_measured_in_flat_memory()
    {
        var canonical = CalibrationTestFiles.Canonical("digits_cnn");
        var fp32 = ModelLowering.Lower(canonical, Harness.Options);
        var calibration = TestFiles.Rows("digits_calib_x.f32", 64, 128).Select(r => new[] { r }).ToList();
        var int8 = Int8Harness.Lower(canonical, Int8Harness.Result(canonical, calibration));

        LayerErrorResult Run(int samples, out long allocated)
        {
            using var source = SampleSource.Open(CalibrationTestFiles.CalibrationNpy, fp32.Plan, samples);
            LayerErrorAnalysis.Run(canonical, fp32, int8, source); // warm (JIT, interpreter tables)
            long before = GC.GetAllocatedBytesForCurrentThread();
            var result = LayerErrorAnalysis.Run(canonical, fp32, int8, source);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            return result;
        }
        var small = Run(16, out long few);
        var all = Run(LayerErrorAnalysis.MaxSamples, out long many);

        Assert.Equal(256, all.Samples);
        Assert.Contains("256 samples of", all.DataSource);
        Assert.True(many - few < 16 * 1024, $"16 samples allocate {few:N0} B, 256 allocate {many:N0} B");
        foreach (var l in all.Layers)
        {
            Assert.True(l.Quantized || l.Op == "Flatten", l.Node);
            Assert.InRange(l.SqnrDb, 15, 80);
        }
        Assert.Equal(["/conv1/Conv", "/conv2/Conv", "/pool/MaxPool", "/flatten/Flatten", "/fc/Gemm"], all.Layers.Select(l => l.Node));
        Assert.Empty(Layer(all, "/flatten/Flatten").Steps); // an alias: same values as its input
        Assert.Equal(Layer(all, "/pool/MaxPool").SqnrDb, Layer(all, "/flatten/Flatten").SqnrDb);
        Assert.InRange(all.Agreement, 0.95, 1);
        Assert.Equal(small.Layers.Select(l => l.Node), all.Layers.Select(l => l.Node));
    }

    [Fact]
    public void Plans_of_different_graphs_are_refused()
    {
        var a = ModelLowering.Lower(Chain(false), Harness.Options);
        var b = ModelLowering.Lower(Branches(false, false), Harness.Options);
        using var source = SampleSource.Open(null, a.Plan, 4);
        Assert.Throws<ArgumentException>(() => LayerErrorAnalysis.Run(Chain(false), a, b, source));
    }
}
