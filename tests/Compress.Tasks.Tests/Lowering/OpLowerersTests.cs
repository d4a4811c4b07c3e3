using Compress.Tasks.Lowering;
using Compress.Tasks.Plan;

namespace Compress.Tasks.Tests.Lowering;

public class OpLowerersTests
{
    [Fact]
    public void Supported_ops_come_from_the_table_sorted_and_unique()
    {
        Assert.Equal(OpLowerers.All.Select(l => l.OpType), ModelLowering.SupportedOps);
        Assert.Equal(ModelLowering.SupportedOps.Order(StringComparer.Ordinal), ModelLowering.SupportedOps);
        Assert.Equal(ModelLowering.SupportedOps.Length, ModelLowering.SupportedOps.Distinct().Count());
        Assert.Contains("Gemm", ModelLowering.SupportedOps);
        Assert.Null(OpLowerers.Find("LSTM"));
    }

    [Fact]
    public void Every_lowerer_declares_known_calls_and_notes()
    {
        foreach (var l in OpLowerers.All)
        {
            Assert.NotEmpty(l.Notes);
            Assert.All(l.Calls, c => Assert.Contains(c, PlanCalls.All));
        }
    }

    [Fact]
    public void Markdown_table_has_a_row_per_op()
    {
        string[] lines = OpLowerers.MarkdownTable().TrimEnd('\n').Split('\n');
        Assert.Equal("| op | kernel calls | constant inputs | notes |", lines[0]);
        Assert.Equal(ModelLowering.SupportedOps.Length + 2, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("| Add | `Kernels.BinaryF32.Run` | — |", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("| Conv | ", StringComparison.Ordinal) && l.Contains("| W, B |"));
    }
}
