namespace Compress.Tasks.Graph;

// Element-wise math whose inputs have different element types: Pow (T1 base, T2 exponent) and Where (bool condition).
public static partial class ShapeInference
{
    /// <summary>Pow: numpy broadcasting of X and Y; the output has X's type (Y may be another numeric type).</summary>
    static void Pow(ShapeContext c)
    {
        var x = c.InputShape(0);
        var y = c.InputShape(1);
        if (!TryBroadcast(x, y, out var shape))
            throw c.Fail($"the shapes {x} and {y} (input '{c.Node.Inputs[1]}') cannot be broadcast together");
        c.Output(0, c.InputType(0), shape);
    }

    /// <summary>Where: numpy broadcasting of condition, X and Y; the output has X's type, X and Y share it, the condition is Bool.</summary>
    static void Where(ShapeContext c)
    {
        if (c.InputCount != 3) throw c.Fail($"it has {c.InputCount} inputs; Where takes condition, X and Y");
        if (c.InputType(0) != DataType.Bool) throw c.Fail($"its condition is {c.InputType(0)}; ONNX requires Bool");
        if (c.InputType(1) != c.InputType(2))
            throw c.Fail($"X and Y have different element types ({c.InputType(1)} and {c.InputType(2)}); ONNX requires one type");
        var shape = c.InputShape(0);
        for (int i = 1; i < 3; i++)
        {
            var next = c.InputShape(i);
            if (!TryBroadcast(shape, next, out var result))
                throw c.Fail($"the shapes {shape} and {next} (input '{c.Node.Inputs[i]}') cannot be broadcast together");
            shape = result;
        }
        c.Output(0, c.InputType(1), shape);
    }
}
