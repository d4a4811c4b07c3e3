using System.Reflection;
using Compress.Tasks.Diagnostics;
using Xunit.Sdk;

namespace Compress.Tasks.Tests.Conformance;

/// <summary>
/// ONNX backend node-test conformance (docs/conformance.md): one case per node test whose graph uses only ops Compress
/// claims, run through the user's path (<see cref="NodeTestRunner"/>). Without libonnx-testdata every case is skipped
/// with the reason; a silent pass is impossible.
/// </summary>
public class OnnxNodeTests
{
    [Theory, ClaimedNodeTests(excluded: false)]
    public void Node_test_passes(string name)
    {
        string? mismatch;
        try
        {
            mismatch = NodeTestRunner.Run(NodeTestSuite.Get(name));
        }
        catch (CompressException e)
        {
            throw new XunitException($"{name}: the build rejected it with {e.Code}: {e.Message}");
        }
        Assert.True(mismatch is null, $"{name}: {mismatch}");
    }

    /// <summary>An excluded test must be refused by the build (a CMP error), never compiled to something that differs.</summary>
    [Theory, ClaimedNodeTests(excluded: true)]
    public void Excluded_node_test_is_rejected_at_build_time(string name)
    {
        string? mismatch;
        try
        {
            mismatch = NodeTestRunner.Run(NodeTestSuite.Get(name));
        }
        catch (CompressException)
        {
            return;
        }
        Assert.Fail(mismatch is null
            ? $"{name} now passes: remove it from NodeTestExclusions ({NodeTestExclusions.All[name]})."
            : $"{name} is excluded ({NodeTestExclusions.All[name]}) but the build accepted it and computed something else: {mismatch}");
    }

    [NodeTestsFact]
    public void Every_exclusion_names_a_claimed_node_test_and_gives_a_reason()
    {
        var claimed = NodeTestSuite.Claimed.Select(c => c.Name).ToHashSet();
        Assert.All(NodeTestExclusions.All, e =>
        {
            Assert.Contains(e.Key, claimed);
            Assert.False(string.IsNullOrWhiteSpace(e.Value));
        });
    }
}

/// <summary>
/// The claimed node tests' names (the runnable ones, or the excluded ones); one skipped row naming the reason when the
/// data is not installed (<see cref="DataAttribute.Skip"/> is read by xunit's theory discoverer per data attribute).
/// </summary>
public sealed class ClaimedNodeTestsAttribute : DataAttribute
{
    readonly bool _excluded;

    public ClaimedNodeTestsAttribute(bool excluded)
    {
        _excluded = excluded;
        if (!NodeTestSuite.IsAvailable) Skip = NodeTestSuite.MissingReason;
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod)
    {
        if (!NodeTestSuite.IsAvailable) return [["libonnx-testdata not installed"]];
        return NodeTestSuite.Claimed.Where(c => NodeTestExclusions.All.ContainsKey(c.Name) == _excluded).Select(c => new object[] { c.Name });
    }
}

/// <summary>A fact that needs the node tests: skipped, with the reason, when they are not installed.</summary>
public sealed class NodeTestsFactAttribute : FactAttribute
{
    public NodeTestsFactAttribute()
    {
        if (!NodeTestSuite.IsAvailable) Skip = NodeTestSuite.MissingReason;
    }
}
