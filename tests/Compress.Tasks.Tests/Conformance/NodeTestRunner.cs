using System.Collections.Immutable;
using System.Globalization;
using Compress.Tasks.Graph;
using Compress.Tasks.Lowering;
using Compress.Tasks.Onnx;
using Compress.Tasks.Onnx.Proto;
using Compress.Tasks.Passes;
using Compress.Tasks.Validation;

namespace Compress.Tasks.Tests.Conformance;

/// <summary>
/// Runs one ONNX node test through the path a user's build takes: the ONNX reader → the canonical pipeline →
/// lowering to a plan (<see cref="ModelLowering"/>, as <c>ModelCompiler</c> does) → the plan executed with the
/// Compress.Runtime kernels (<see cref="PlanInterpreter"/>, the build-time validator's interpreter) → every output
/// compared with the test's expected <c>output_*.pb</c>.
/// </summary>
/// <remarks>
/// Node tests feed every operand as a graph input. Where the lowering requires a constant (<see cref="IOpLowerer.ConstantInputs"/>,
/// listed in docs/supported-ops.md, e.g. Conv's W or Reshape's shape) the runner turns that graph input into an
/// initializer holding the data set's value before compiling — what a real model has there. No other input is folded.
/// </remarks>
public static class NodeTestRunner
{
    /// <summary>The ONNX backend test's default tolerance (onnx/backend/test/runner: rtol 1e-3, atol 1e-7): |got − want| ≤ atol + rtol·|want|.</summary>
    public const double RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-7;

    /// <summary>Compiles and runs every data set of <paramref name="test"/>; null when all outputs match, else what differed.</summary>
    /// <exception cref="Diagnostics.CompressException">The build rejects the model (an op form, dtype or shape not supported).</exception>
    public static string? Run(NodeTestCase test)
    {
        var model = OnnxModelReader.Load(Path.Combine(test.Folder, "model.onnx"));
        var graph = model.Graph;
        var inputs = graph.Inputs.Where(i => !graph.IsConstant(i.Name)).ToList();
        var folded = ConstantOperands(graph);
        var sets = Directory.EnumerateDirectories(test.Folder, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
        if (sets.Count == 0) return "the test has no test_data_set_* folder";
        foreach (string set in sets)
        {
            Tensor Given(string name)
            {
                int i = inputs.FindIndex(v => v.Name == name);
                return ReadTensor(Path.Combine(set, $"input_{i}.pb"), name);
            }
            var withConstants = graph;
            foreach (string name in inputs.Select(v => v.Name).Where(folded.Contains))
                withConstants = withConstants.WithInitializer(Given(name)) with
                {
                    Inputs = withConstants.Inputs.Where(i => i.Name != name).ToImmutableArray(),
                };

            // The other inputs are read after the build accepted the model: it must reject what it cannot run first.
            var canonical = CanonicalPipeline.Run(withConstants, new PassLog());
            var lowered = ModelLowering.Lower(canonical, LoweringOptions.ForClass("NodeTest"));
            var plan = lowered.Plan;
            var feed = plan.Inputs.Select(p => Given(p.Name).Floats).ToArray();
            float[][] got = new PlanInterpreter(plan, lowered.Weights).Run(feed);

            for (int o = 0; o < plan.Outputs.Count; o++)
            {
                int index = graph.Outputs.ToList().FindIndex(v => v.Name == plan.Outputs[o].Name);
                var want = ReadTensor(Path.Combine(set, $"output_{index}.pb"), plan.Outputs[o].Name);
                string where = $"{Path.GetFileName(set)} output '{plan.Outputs[o].Name}'";
                if (!want.Dims.SequenceEqual(plan.Outputs[o].Shape.Select(d => (long)d)))
                    return $"{where}: shape [{string.Join(",", plan.Outputs[o].Shape)}], expected [{string.Join(",", want.Dims)}]";
                if (Mismatch(got[o], want.Floats) is { } m) return $"{where}: {m}";
            }
        }
        return null;
    }

    /// <summary>The graph inputs that feed an input position the consuming op's lowering requires to be constant.</summary>
    static HashSet<string> ConstantOperands(Compress.Tasks.Graph.Graph graph)
    {
        var graphInputs = graph.Inputs.Select(i => i.Name).Where(n => !graph.IsConstant(n)).ToHashSet(StringComparer.Ordinal);
        var folded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var c in OpLowerers.Find(node.OpType)?.ConstantInputs ?? [])
                if (node.HasInput(c.Index) && graphInputs.Contains(node.Input(c.Index)))
                    folded.Add(node.Input(c.Index));
        return folded;
    }

    static Tensor ReadTensor(string path, string name)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The node test has no {Path.GetFileName(path)}.", path);
        return OnnxConvert.ToTensor(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), null, path, name);
    }

    /// <summary>The first element outside the tolerance (NaN matches NaN, an infinity the same infinity), or null.</summary>
    static string? Mismatch(float[] got, float[] want)
    {
        if (got.Length != want.Length) return $"{got.Length} values, expected {want.Length}";
        int bad = 0, first = -1;
        for (int i = 0; i < want.Length; i++)
        {
            double g = got[i], w = want[i];
            bool ok = double.IsNaN(w) ? double.IsNaN(g)
                : double.IsInfinity(w) ? g == w
                : Math.Abs(g - w) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(w);
            if (ok) continue;
            if (first < 0) first = i;
            bad++;
        }
        return bad == 0 ? null : string.Create(CultureInfo.InvariantCulture,
            $"{bad} of {want.Length} values outside rtol {RelativeTolerance:G} atol {AbsoluteTolerance:G}; first at {first}: {got[first]:R}, expected {want[first]:R}");
    }
}
