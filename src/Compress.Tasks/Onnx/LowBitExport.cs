using Compress.Tasks.Graph;

namespace Compress.Tasks.Onnx;

/// <summary>
/// The export of sub-8-bit layers (docs/low-bit.md). Shift weights are int8 values and use the QDQ form; ternary and
/// binary weights have no ONNX type, so their dequantised values are written as fp32 initializers (ONNX Runtime then
/// computes what the weight-only kernels compute). A fully binary layer also binarises its input per call; standard
/// ops express that exactly (this class): τ = mean(x); b = x &gt; τ; hi, lo = the means of the inputs above and not
/// above τ; x̂ = (hi + lo)/2 + (hi − lo)/2·(2b − 1) — built from MatMul with a ones vector (sums over the last axis in
/// any opset), Div, Greater, Cast, Max, Mul, Add, Sub — then the layer with the dequantised ±α weights runs on x̂.
/// Limits: ONNX Runtime runs it in f32 (no XNOR/popcount kernel), and inputs exactly at the mean may land on the
/// other side of τ than in the kernel, whose sum is ordered differently.
/// </summary>
internal static class LowBitExport
{
    /// <summary>
    /// Emits the binarisation of <paramref name="original"/>'s input into <paramref name="nodes"/> and returns
    /// <paramref name="withWeights"/> (the node already reading the dequantised weights) reading x̂ instead.
    /// </summary>
    public static Node XnorNode(Node original, Node withWeights, List<Node> nodes, Func<string, Tensor, string> constant,
        Func<string, string> unique, string hint, Func<string, long[]?> dims)
    {
        string x = original.Input(0);
        long k = dims(original.Input(1)) is { } w ? (original.OpType == "Gemm" && original.GetInt("transB", 0) != 0 ? w[1] : w[0]) : 0;
        if (k <= 0) return withWeights;
        string Value(string name) => unique($"{hint}_{name}");
        string Scalar(string name, float v) => constant($"{hint}_{name}", new Tensor("", DataType.Float, [], new[] { v }));
        string Op(string op, string name, params string[] inputs)
        {
            string output = Value(name);
            nodes.Add(Node.Create(unique($"{hint}_{name}_{op}"), op, inputs, [output]));
            return output;
        }

        string ones = constant($"{hint}_ones", new Tensor("", DataType.Float, [k, 1], Enumerable.Repeat(1f, (int)k).ToArray()));
        string count = Scalar("k", k), one = Scalar("one", 1f), two = Scalar("two", 2f), half = Scalar("half", 0.5f);
        string sum = Op("MatMul", "sum", x, ones);
        string tau = Op("Div", "mean", sum, count);
        string above = Op("Greater", "above_mean", x, tau);
        string mask = Value("mask");
        nodes.Add(Node.Create(unique($"{hint}_mask_Cast"), "Cast", [above], [mask], [KeyValuePair.Create("to", AttributeValue.Of(1L))]));
        string hiSum = Op("MatMul", "high_sum", Op("Mul", "high_values", x, mask), ones);
        string hiCount = Op("MatMul", "high_count", mask, ones);
        string hi = Op("Div", "high", hiSum, Op("Max", "high_count_1", hiCount, one));
        string lo = Op("Div", "low", Op("Sub", "low_sum", sum, hiSum), Op("Max", "low_count_1", Op("Sub", "low_count", count, hiCount), one));
        string mu = Op("Mul", "mu", Op("Add", "level_sum", hi, lo), half);
        string beta = Op("Mul", "beta", Op("Sub", "level_gap", hi, lo), half);
        string sign = Op("Sub", "sign", Op("Mul", "mask_2", mask, two), one);
        string binarised = Op("Add", "binarised", mu, Op("Mul", "scaled_sign", beta, sign));
        return withWeights.WithInput(0, binarised);
    }
}
