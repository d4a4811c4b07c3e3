using System.Collections;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Tests.Graph;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>Deep structural comparison of graphs (the IR records compare arrays by reference).</summary>
public static class GraphAssert
{
    public static void Equal(Graph expected, Graph actual, bool compareValues = false)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Info.IrVersion, actual.Info.IrVersion);
        Assert.Equal(Sorted(expected.Info.Opsets), Sorted(actual.Info.Opsets));
        Assert.Equal(expected.Info.ProducerName, actual.Info.ProducerName);
        Assert.Equal(expected.Info.ProducerVersion, actual.Info.ProducerVersion);
        Assert.Equal(Sorted(expected.Info.Metadata), Sorted(actual.Info.Metadata));
        Assert.Equal(expected.Inputs.ToArray(), actual.Inputs.ToArray());
        Assert.Equal(expected.Outputs.ToArray(), actual.Outputs.ToArray());
        Assert.Equal(expected.Nodes.Length, actual.Nodes.Length);
        for (int i = 0; i < expected.Nodes.Length; i++) NodeEqual(expected.Nodes[i], actual.Nodes[i]);
        Assert.Equal(expected.Initializers.Keys.Order(StringComparer.Ordinal), actual.Initializers.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, t) in expected.Initializers) TensorEqual(t, actual.Initializers[name]);
        if (compareValues) Assert.Equal(Sorted(expected.Values), Sorted(actual.Values));
    }

    public static void NodeEqual(Node expected, Node actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.OpType, actual.OpType);
        Assert.Equal(expected.Domain, actual.Domain);
        Assert.Equal(expected.Inputs.ToArray(), actual.Inputs.ToArray());
        Assert.Equal(expected.Outputs.ToArray(), actual.Outputs.ToArray());
        Assert.Equal(expected.Attributes.Keys.Order(StringComparer.Ordinal), actual.Attributes.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, a) in expected.Attributes)
        {
            var b = actual.Attributes[name];
            Assert.Equal(a.Kind, b.Kind);
            Assert.Equal(a.Float, b.Float);
            Assert.Equal(a.Int, b.Int);
            Assert.Equal(a.String, b.String);
            Assert.Equal(a.Floats.ToArray(), b.Floats.ToArray());
            Assert.Equal(a.Ints.ToArray(), b.Ints.ToArray());
            Assert.Equal(a.Strings.ToArray(), b.Strings.ToArray());
            Assert.Equal(a.GraphBytes.ToArray(), b.GraphBytes.ToArray());
            Assert.Equal(a.OpaqueBytes.ToArray(), b.OpaqueBytes.ToArray());
            if (a.Tensor is not null) TensorEqual(a.Tensor, b.Tensor!, compareName: false);
        }
    }

    public static void TensorEqual(Tensor expected, Tensor actual, bool compareName = true)
    {
        if (compareName) Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Dims.ToArray(), actual.Dims.ToArray());
        Assert.Equal(expected.Data.GetType(), actual.Data.GetType());
        Assert.True(StructuralComparisons.StructuralEqualityComparer.Equals(expected.Data, actual.Data), $"data of tensor '{expected.Name}' differs");
    }

    static List<KeyValuePair<string, T>> Sorted<T>(IEnumerable<KeyValuePair<string, T>> d) => d.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();

    /// <summary>Op type → count.</summary>
    public static Dictionary<string, int> OpCounts(Graph g) => g.Nodes.GroupBy(n => n.OpType).ToDictionary(x => x.Key, x => x.Count());

    public static void MaxAbsDiff(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tolerance, $"max |diff| {worst:G4} > {tolerance:G4}");
    }
}
