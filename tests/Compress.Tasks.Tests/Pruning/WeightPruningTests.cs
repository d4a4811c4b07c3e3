using Compress.Tasks.Diagnostics;
using Compress.Tasks.Graph;
using Compress.Tasks.Pruning;
using Compress.Tasks.Tests.Graph;
using static Compress.Tasks.Tests.Graph.GraphBuilder;

namespace Compress.Tasks.Tests.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Unstructured, N:M and block pruning on hand-made graphs whose answers are known.</summary>
public class WeightPruningTests
{
    static Graph OneGemm(float[] w, long rows, long k, bool transB = true) => PruneTestGraphs.Canonical(new GraphBuilder()
        .Input("x", 1, k)
        .Init("W", w, transB ? [rows, k] : [k, rows])
        .Init("b", new float[rows], rows)
        .Named("fc", "Gemm", ["x", "W", "b"], ["y"], A("transB", transB ? 1L : 0L))
        .Output("y"));

    static PruneOptions Options(string? prune, string? mode = null, string? pattern = null, string? scope = null) =>
        PruneOptions.FromMetadata(prune, mode, pattern, scope);

    [Fact]
    public void Layer_magnitude_zeroes_the_smallest_weights()
    {
        float[] w = [0.1f, -2, 0.3f, 4, -0.5f, 0.05f, 6, -0.7f];
        var result = PruneTestGraphs.Prune(OneGemm(w, 2, 4), Options("0.5", scope: "Layer"));
        Assert.Equal([0, -2, 0, 4, 0, 0, 6, -0.7f], PruneTestGraphs.Weights(result.Graph, "W"));
        var layer = Assert.Single(result.Layers);
        Assert.Equal((8L, 4L, 0.5), (layer.WeightsBefore, layer.WeightsAfter, layer.Sparsity));
        Assert.Equal((8L, 4L), (result.Before.Macs.NonZero, result.After.Macs.NonZero));
        Assert.Null(layer.Error); // no calibration data
    }

    [Fact]
    public void TransB0_weights_are_pruned_in_their_own_layout()
    {
        // The same matrix as above stored [K, N]: the same weights go.
        float[] w = [0.1f, -0.5f, -2, 0.05f, 0.3f, 6, 4, -0.7f];
        var result = PruneTestGraphs.Prune(OneGemm(w, 2, 4, transB: false), Options("0.5", scope: "Layer"));
        Assert.Equal([0, 0, -2, 0, 0, 6, 4, -0.7f], PruneTestGraphs.Weights(result.Graph, "W"));
    }

    [Fact]
    public void Global_ranking_caps_each_layer_so_none_is_emptied()
    {
        var tiny = Enumerable.Range(1, 16).Select(i => i * 1e-3f).ToArray();
        var large = Enumerable.Range(1, 16).Select(i => (float)i).ToArray();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 4)
            .Init("W1", tiny, 4, 4).Named("fc1", "Gemm", ["x", "W1"], ["h"], A("transB", 1L))
            .Init("W2", large, 4, 4).Named("fc2", "Gemm", ["h", "W2"], ["y"], A("transB", 1L))
            .Output("y"));
        var result = PruneTestGraphs.Prune(graph, Options("0.5"));
        // 16 of 32 go; the tiny layer would lose all 16 but is capped at 0.5 + 0.5/2 = 75 %: 12, and fc2 loses its 4 smallest.
        Assert.Equal(12, PruneTestGraphs.Weights(result.Graph, "W1").Count(v => v == 0));
        Assert.Equal([0, 0, 0, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], PruneTestGraphs.Weights(result.Graph, "W2"));
        Assert.Equal(0.5, result.Sparsity, 6);
    }

    [Fact]
    public void NofM_keeps_the_n_largest_of_every_m()
    {
        float[] w = [1, -5, 2, 0.5f, 3, 3.5f, -4, 0.1f, 0.2f, 0.3f, -0.4f, 0.5f, 9, 8, 7, 6];
        var result = PruneTestGraphs.Prune(OneGemm(w, 2, 8), Options(null, "NofM", "2:4"));
        Assert.Equal([0, -5, 2, 0, 0, 3.5f, -4, 0, 0, 0, -0.4f, 0.5f, 9, 8, 0, 0], PruneTestGraphs.Weights(result.Graph, "W"));
        var one = PruneTestGraphs.Prune(OneGemm(w, 2, 8), Options("0.75", "NofM", "1:4"));
        Assert.Equal([0, -5, 0, 0, 0, 0, -4, 0, 0, 0, 0, 0.5f, 9, 0, 0, 0], PruneTestGraphs.Weights(one.Graph, "W"));
    }

    [Fact]
    public void Blocks_go_whole_by_their_summed_magnitude()
    {
        // 1x4: blocks of 4 along a row; sums 10, 1, 2, 20 → the blocks summing 1 and 2 go.
        float[] w = [1, 2, 3, 4, 0.25f, 0.25f, 0.25f, 0.25f, 0.5f, 0.5f, 0.5f, 0.5f, 5, 5, 5, 5];
        var rowBlocks = PruneTestGraphs.Prune(OneGemm(w, 2, 8), Options("0.5", "Block", "1x4", "Layer"));
        Assert.Equal([1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5], PruneTestGraphs.Weights(rowBlocks.Graph, "W"));

        // 2x1: pairs of rows share a column; W is 4×4, units (rows 0-1 | 2-3) × 4 columns.
        float[] v = [1, 0.1f, 3, 0.2f, 1, 0.1f, 3, 0.2f, 0.3f, 4, 0.4f, 5, 0.3f, 4, 0.4f, 5];
        var columnBlocks = PruneTestGraphs.Prune(OneGemm(v, 4, 4), Options("0.5", "Block", "2x1", "Layer"));
        Assert.Equal([1, 0, 3, 0, 1, 0, 3, 0, 0, 4, 0, 5, 0, 4, 0, 5], PruneTestGraphs.Weights(columnBlocks.Graph, "W"));
    }

    [Fact]
    public void A_pattern_that_does_not_fit_names_the_node()
    {
        var graph = OneGemm(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 2, 6);
        var e = Assert.Throws<CompressException>(() => PruneTestGraphs.Prune(graph, Options(null, "NofM", "2:4")));
        Assert.Equal(ErrorCodes.PrunePatternMismatch, e.Code);
        Assert.Contains("'fc'", e.Message);
        Assert.Contains("PruneExclude", e.Message);
        var block = Assert.Throws<CompressException>(() => PruneTestGraphs.Prune(graph, Options("0.5", "Block", "4x1")));
        Assert.Equal(ErrorCodes.PrunePatternMismatch, block.Code);
        // Excluding the layer leaves nothing to prune.
        Assert.Equal(ErrorCodes.NothingToPrune, Assert.Throws<CompressException>(() =>
            PruneTestGraphs.Prune(graph, PruneOptions.FromMetadata(null, "NofM", "2:4", exclude: "fc"))).Code);
        Assert.Equal(ErrorCodes.BadMetadata, Assert.Throws<CompressException>(() =>
            PruneTestGraphs.Prune(graph, PruneOptions.FromMetadata("0.5", null, exclude: "nope"))).Code);
    }

    [Fact]
    public void Reconstruction_moves_a_removed_weight_onto_its_duplicate_input()
    {
        // Inputs 1 and 3 copy inputs 0 and 2, so keeping one of each pair with the pair's summed weight loses nothing;
        // magnitude 2:4 keeps the two largest weights, both of the second pair, and loses input 0 entirely.
        using var dir = TestFiles.TempFolder();
        float[] w = [1, 0.9f, 2, 1.8f, -1, 0.5f, 0.25f, -0.75f];
        var graph = OneGemm(w, 2, 4);
        float[][] Duplicated(int seed) => PruneTestGraphs.Samples(64, 2, seed).Select(s => new[] { s[0], s[0], s[1], s[1] }).ToArray();
        var result = PruneTestGraphs.Prune(graph, PruneOptions.FromMetadata(null, "NofM", "2:4", hasCalibrationData: true), dir, Duplicated(1));
        var pruned = PruneTestGraphs.Weights(result.Graph, "W");
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal(1, pruned.Skip(r * 4).Take(2).Count(v => v != 0));   // one of each pair
            Assert.Equal(1, pruned.Skip(r * 4 + 2).Take(2).Count(v => v != 0));
        }
        var layer = Assert.Single(result.Layers);
        Assert.True(layer.Error < 1e-3, $"error {layer.Error}");
        Assert.True(layer.ErrorWithoutRefit > 0.05, $"magnitude error {layer.ErrorWithoutRefit}");
        foreach (var x in Duplicated(2).Take(8))
        {
            var want = PruneTestGraphs.Run(graph, x);
            var got = PruneTestGraphs.Run(result.Graph, x);
            for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[i], 0.05);
        }
    }

    [Fact]
    public void Conv_statistics_match_the_measured_output_error()
    {
        // The recorded error comes from im2col Gram matrices; it must equal the error of the layer's output measured by
        // running both plans (padding, stride, bias and groups included).
        using var dir = TestFiles.TempFolder();
        var graph = PruneTestGraphs.Canonical(new GraphBuilder()
            .Input("x", 1, 4, 5, 5)
            .Random("W", 3, 6, 2, 3, 3)
            .Random("b", 4, 6)
            .Named("conv", "Conv", ["x", "W", "b"], ["y"], A("pads", 1L, 0L, 1L, 1L), A("strides", 2L, 1L), A("group", 2L))
            .Output("y"));
        var samples = PruneTestGraphs.Samples(48, 100, 5);
        foreach (var reconstruct in new[] { "true", "false" })
        {
            var result = PruneTestGraphs.Prune(graph, PruneOptions.FromMetadata("0.6", null, scope: "Layer", reconstruct: reconstruct, hasCalibrationData: true), dir, samples);
            double err = 0, energy = 0;
            foreach (var x in samples)
            {
                var want = PruneTestGraphs.Run(graph, x);
                var got = PruneTestGraphs.Run(result.Graph, x);
                for (int i = 0; i < want.Length; i++) { err += (got[i] - want[i]) * (double)(got[i] - want[i]); energy += want[i] * (double)want[i]; }
            }
            var layer = Assert.Single(result.Layers);
            Assert.Equal(err / energy, layer.Error!.Value, 4);
            Assert.Equal(0.6, layer.Sparsity, 2);
            if (reconstruct == "true") Assert.True(layer.Error < layer.ErrorWithoutRefit, $"{layer.Error} vs {layer.ErrorWithoutRefit}");
        }
    }
}
