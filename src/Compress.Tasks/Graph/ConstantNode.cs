using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

/// <summary>The tensor an ONNX <c>Constant</c> node produces (https://onnx.ai/onnx/operators/onnx__Constant.html).</summary>
public static class ConstantNode
{
    /// <summary>
    /// The value of a <c>Constant</c> node, named after its output; null when the node uses a form the IR does not
    /// model (<c>sparse_value</c>) or has no value attribute.
    /// </summary>
    public static Tensor? ValueOf(Node node)
    {
        string name = node.Output0;
        foreach (var (key, a) in node.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            switch (key)
            {
                case "value" when a.Tensor is not null:
                    return a.Tensor with { Name = name };
                case "value_float":
                    return new Tensor(name, DataType.Float, ImmutableArray<long>.Empty, new[] { a.Float });
                case "value_floats":
                    return new Tensor(name, DataType.Float, [a.Floats.Length], a.Floats.ToArray());
                case "value_int":
                    return new Tensor(name, DataType.Int64, ImmutableArray<long>.Empty, new[] { a.Int });
                case "value_ints":
                    return new Tensor(name, DataType.Int64, [a.Ints.Length], a.Ints.ToArray());
                case "value_string":
                    return new Tensor(name, DataType.String, ImmutableArray<long>.Empty, new[] { a.String ?? "" });
                case "value_strings":
                    return new Tensor(name, DataType.String, [a.Strings.Length], a.Strings.ToArray());
            }
        }
        return null;
    }
}
