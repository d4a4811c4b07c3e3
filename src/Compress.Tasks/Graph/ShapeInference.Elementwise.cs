using System.Collections.Immutable;

namespace Compress.Tasks.Graph;

// Element-wise ops: unary activations, Cast, BatchNormalization, and the broadcasting binary ops.
public static partial class ShapeInference
{
    /// <summary>Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Clip: the output has the input's type and shape.</summary>
    static void SameAsInput(ShapeContext c) => c.Output(0, c.InputType(0), c.InputShape(0));

    /// <summary>Identity: also carries a tracked integer value through.</summary>
    static void Identity(ShapeContext c) => c.Output(0, c.InputType(0), c.InputShape(0), c.KnownValue(0));

    /// <summary>Softmax: same shape; the axis (default 1 before opset 13, -1 from 13) must be in range.</summary>
    static void Softmax(ShapeContext c)
    {
        var x = c.InputShape(0);
        c.Axis(c.Node.GetInt("axis", c.Opset < 13 ? 1 : -1), Math.Max(x.Rank, 1));
        c.Output(0, c.InputType(0), x);
    }

    /// <summary>Dropout (inference: identity); the optional mask output is Bool of the same shape.</summary>
    static void Dropout(ShapeContext c)
    {
        var x = c.InputShape(0);
        c.Output(0, c.InputType(0), x);
        c.Output(1, DataType.Bool, x);
    }

    /// <summary>Cast: same shape, element type from the <c>to</c> attribute.</summary>
    static void Cast(ShapeContext c)
    {
        if (!c.Node.Attributes.ContainsKey("to")) throw c.Fail("the required attribute 'to' is missing");
        var to = (DataType)c.Node.GetInt("to", 0);
        bool keepsValue = TensorData.IsInteger(to) && to != DataType.Bool && TensorData.IsInteger(c.InputType(0));
        c.Output(0, to, c.InputShape(0), keepsValue ? c.KnownValue(0) : null);
    }

    /// <summary>
    /// BatchNormalization (inference): Y has X's shape; scale, B, mean and var are [C] with C = X's dimension 1.
    /// The optional training outputs (running/saved mean and variance) are [C].
    /// </summary>
    static void BatchNormalization(ShapeContext c)
    {
        var x = c.InputShape(0);
        if (x.Rank < 2) throw c.Fail($"its input has shape {x}; BatchNormalization needs rank ≥ 2 (N, C, …)");
        var channels = x.Dims[1];
        for (int i = 1; i <= 4; i++)
        {
            if (!c.HasInput(i)) throw c.Fail($"input {i} (scale, B, mean, var) is required");
            var p = c.InputShape(i);
            if (p.Rank != 1 || (channels.IsKnown && p.Dims[0].IsKnown && p.Dims[0].Value != channels.Value))
                throw c.Fail($"input '{c.Node.Inputs[i]}' has shape {p}, expected [{channels}] (one value per channel)");
        }
        c.Output(0, c.InputType(0), x);
        for (int i = 1; i <= 4; i++) c.Output(i, c.InputType(1), new Shape([channels]));
    }

    /// <summary>Add, Sub, Mul, Div, Max, Min: numpy broadcasting of all inputs; integer shape arithmetic is tracked.</summary>
    static void Broadcasting(ShapeContext c)
    {
        if (c.InputCount == 0) throw c.Fail("it has no inputs");
        var shape = c.InputShape(0);
        for (int i = 1; i < c.InputCount; i++)
        {
            var next = c.InputShape(i);
            if (!TryBroadcast(shape, next, out var result))
                throw c.Fail($"the shapes {shape} and {next} (input '{c.Node.Inputs[i]}') cannot be broadcast together");
            shape = result;
        }
        var type = c.InputType(0);
        for (int i = 1; i < c.InputCount; i++)
            if (c.InputType(i) != type)
                throw c.Fail($"its inputs have different element types ({type} and {c.InputType(i)}); ONNX requires one type");
        c.Output(0, type, shape, c.InputCount == 2 && TensorData.IsInteger(type) ? Arithmetic(c) : null);
    }

    /// <summary>In a tracked value an entry is a number (any sign, e.g. Reshape's -1) unless it carries a symbol.</summary>
    internal static bool IsNumber(Dim d) => d.Symbol is null;

    /// <summary>The tracked value of integer shape arithmetic (e.g. Mul of two gathered dimensions), when every entry is known.</summary>
    static ImmutableArray<Dim>? Arithmetic(ShapeContext c)
    {
        if (c.KnownValue(0) is not { } a || c.KnownValue(1) is not { } b) return null;
        if (a.Length != b.Length && a.Length != 1 && b.Length != 1) return null;
        int n = Math.Max(a.Length, b.Length);
        var result = ImmutableArray.CreateBuilder<Dim>(n);
        for (int i = 0; i < n; i++)
        {
            Dim x = a[a.Length == 1 ? 0 : i], y = b[b.Length == 1 ? 0 : i];
            Dim? r = (c.Node.OpType, IsNumber(x), IsNumber(y)) switch
            {
                (_, true, true) => Dim.Known(c.Node.OpType switch
                {
                    "Add" => x.Value + y.Value,
                    "Sub" => x.Value - y.Value,
                    "Mul" => x.Value * y.Value,
                    "Div" when y.Value != 0 => x.Value / y.Value,
                    "Max" => Math.Max(x.Value, y.Value),
                    "Min" => Math.Min(x.Value, y.Value),
                    _ => long.MinValue,
                }),
                ("Mul", false, true) when y.Value == 1 => x,
                ("Mul", true, false) when x.Value == 1 => y,
                ("Div", false, true) when y.Value == 1 => x,
                ("Add" or "Sub", false, true) when y.Value == 0 => x,
                ("Add", true, false) when x.Value == 0 => y,
                _ => null,
            };
            if (r is not { } dim || (IsNumber(dim) && dim.Value == long.MinValue)) return null;
            result.Add(dim);
        }
        return result.MoveToImmutable();
    }
}
