using System.Collections.Immutable;
using Compress.Tasks.Diagnostics;

namespace Compress.Tasks.Tests.Conformance;

/// <summary>One op's node-test counts: tests whose graph uses the op, run and passed, and those excluded.</summary>
public sealed record OpConformance(int Passed, int Run, int Excluded)
{
    /// <summary>The supported-ops table cell: "12 / 12 (3 excluded)", "—" when no node test uses the op.</summary>
    public string Cell => Run + Excluded == 0 ? "—" : $"{Passed} / {Run}" + (Excluded == 0 ? "" : $" ({Excluded} excluded)");
}

/// <summary>Runs every claimed node test once and counts, per op, how many passed (for docs/supported-ops.md).</summary>
public static class NodeTestSummary
{
    static readonly Lazy<ImmutableDictionary<string, OpConformance>> _byOp = new(Compute);

    /// <summary>Op type → counts; empty when the node tests are not installed.</summary>
    public static ImmutableDictionary<string, OpConformance> ByOp => _byOp.Value;

    static ImmutableDictionary<string, OpConformance> Compute()
    {
        var counts = new Dictionary<string, (int Passed, int Run, int Excluded)>(StringComparer.Ordinal);
        foreach (var test in NodeTestSuite.Claimed)
        {
            bool excluded = NodeTestExclusions.All.ContainsKey(test.Name);
            bool passed = !excluded && Passes(test);
            foreach (string op in test.Ops)
            {
                var c = counts.GetValueOrDefault(op);
                counts[op] = excluded ? c with { Excluded = c.Excluded + 1 } : (c.Passed + (passed ? 1 : 0), c.Run + 1, c.Excluded);
            }
        }
        return counts.ToImmutableDictionary(kv => kv.Key, kv => new OpConformance(kv.Value.Passed, kv.Value.Run, kv.Value.Excluded), StringComparer.Ordinal);
    }

    static bool Passes(NodeTestCase test)
    {
        try
        {
            return NodeTestRunner.Run(test) is null;
        }
        catch (CompressException)
        {
            return false;
        }
    }
}
