namespace Compress.Runtime;

/// <summary>A reduction (ONNX ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd).</summary>
public enum ReduceOp
{
    /// <summary>Σ x.</summary>
    Sum,
    /// <summary>Σ x / n.</summary>
    Mean,
    /// <summary>max x.</summary>
    Max,
    /// <summary>min x.</summary>
    Min,
    /// <summary>Π x.</summary>
    Prod,
}
