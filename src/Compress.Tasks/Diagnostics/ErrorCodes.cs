namespace Compress.Tasks.Diagnostics;

/// <summary>
/// Every error the build can report, with a stable code. The README's error table lists the same codes;
/// messages always say what is wrong, where (file, node), and how to fix it.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The model file does not exist or cannot be read.</summary>
    public const string ModelNotFound = "CMP001";

    /// <summary>The model is not a valid ONNX protobuf (truncated, corrupt, not ONNX).</summary>
    public const string ModelCorrupt = "CMP002";

    /// <summary>External tensor data is missing, or its location escapes the model's folder.</summary>
    public const string ExternalData = "CMP003";

    /// <summary>A node uses an op (or an op form: attribute value, data type) that no kernel supports.</summary>
    public const string UnsupportedOp = "CMP004";

    /// <summary>The shape of a value cannot be inferred (e.g. a dynamic dimension other than the batch).</summary>
    public const string ShapeInference = "CMP005";

    /// <summary>A <c>CompressModel</c> metadata value is missing or invalid.</summary>
    public const string BadMetadata = "CMP006";

    /// <summary>The compiled model's outputs differ from ONNX Runtime's beyond the tolerance.</summary>
    public const string ValidationMismatch = "CMP007";

    /// <summary>Validation or calibration data is missing, unreadable, or has the wrong shape or type.</summary>
    public const string BadData = "CMP008";

    /// <summary>A graph input or output has a type the generated API does not support (only float32 for now).</summary>
    public const string UnsupportedType = "CMP009";

    /// <summary>Two <c>CompressModel</c> items would generate the same class or write the same files.</summary>
    public const string DuplicateClass = "CMP010";

    /// <summary>ONNX Runtime could not run the original model to produce reference outputs.</summary>
    public const string ReferenceRuntime = "CMP011";

    /// <summary>The model is already quantised (QDQ/QOperator ops, integer weights); Quantize needs the fp32 model.</summary>
    public const string AlreadyQuantized = "CMP013";

    /// <summary>A pruning pattern (N:M, R×C block) does not fit a layer's weight shape; the message names the node.</summary>
    public const string PrunePatternMismatch = "CMP014";

    /// <summary>Channel pruning reaches an op it cannot rewire (the message names the node), so the channels cannot be removed.</summary>
    public const string PruneCannotRewire = "CMP015";

    /// <summary>Pruning was asked of a model with no prunable layer (Conv/Gemm/MatMul with a constant float weight), or every one is excluded or fixed.</summary>
    public const string NothingToPrune = "CMP016";

    /// <summary>A low-bit method (Shift, Ternary, Binary) or a <c>LayerOverrides</c> entry asks a layer type the method cannot run (the message names the node).</summary>
    public const string LowBitUnsupportedLayer = "CMP017";

    /// <summary>A bit width (<c>ShiftBits</c>) outside the range the kernels store.</summary>
    public const string BitWidthOutOfRange = "CMP018";

    /// <summary>A <c>LayerOverrides</c> entry names no node or weight of the model (the message names it and lists the layers).</summary>
    public const string OverrideNamesNoNode = "CMP019";

    /// <summary>The <c>InputShape</c> metadata is malformed, names no input of the model, or gives a wrong rank or a size the model fixes otherwise.</summary>
    public const string BadInputShape = "CMP025";

    /// <summary>
    /// Warning: the model has ops no kernel runs, so <c>Backend="Auto"</c> chose ONNX Runtime for it (the message names
    /// the ops); the class keeps its API, and the project needs the Microsoft.ML.OnnxRuntime package.
    /// </summary>
    public const string OnnxRuntimeFallback = "CMP033";

    /// <summary>A model runs on ONNX Runtime but the project does not reference Microsoft.ML.OnnxRuntime (reported by the generator).</summary>
    public const string OnnxRuntimeNotReferenced = "CMP034";

    /// <summary>Compression (<c>Quantize</c>, <c>Prune</c>) was asked of a model that runs on ONNX Runtime, which runs the model as given.</summary>
    public const string CompressionNeedsKernels = "CMP035";

    /// <summary>An unexpected internal failure; the message carries the exception. Please report it.</summary>
    public const string Internal = "CMP099";
}
