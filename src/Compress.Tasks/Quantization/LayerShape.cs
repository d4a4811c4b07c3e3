using System.Globalization;

namespace Compress.Tasks.Quantization;

/// <summary>The kind of kernel a node runs, for the cost model.</summary>
public enum LayerKind
{
    /// <summary>Gemm / MatMul: m×k by k×n.</summary>
    Linear,

    /// <summary>Dense or grouped Conv: im2col (unless pointwise) then a GEMM per group.</summary>
    Conv,

    /// <summary>Depthwise Conv: one k-tap stencil per channel.</summary>
    Depthwise,

    /// <summary>Element-wise work over m elements (Binary, pooling, aliases).</summary>
    Elementwise,
}

/// <summary>
/// The work of one node, as the cost model sees it. Linear: <see cref="M"/> rows, reduction <see cref="K"/>, <see cref="N"/>
/// columns. Conv: <see cref="M"/> output pixels (batch·OutH·OutW), <see cref="K"/> = Cin/groups·kH·kW, <see cref="N"/> = Cout.
/// Depthwise: <see cref="M"/> output pixels, <see cref="K"/> taps, <see cref="N"/> channels. Elementwise: <see cref="M"/> elements.
/// <see cref="Winograd"/>: the fp32 kernel of this Conv is Winograd's, not im2col + GEMM.
/// </summary>
public readonly record struct LayerShape(LayerKind Kind, long M, long K, long N, long Groups = 1, long InputElements = 0, bool Pointwise = false, bool Winograd = false)
{
    public static LayerShape Linear(long m, long k, long n) => new(LayerKind.Linear, m, k, n, InputElements: m * k);

    /// <param name="winograd">The fp32 lowering runs this convolution with Winograd F(2×2, 3×3) (<c>ConvLowerer.UseWinograd</c>).</param>
    public static LayerShape Convolution(long pixels, long k, long outChannels, long groups, long inputElements, bool pointwise, bool winograd = false) =>
        new(LayerKind.Conv, pixels, k, outChannels, groups, inputElements, pointwise, winograd);

    public static LayerShape Depthwise(long pixels, long channels, long taps) => new(LayerKind.Depthwise, pixels, taps, channels);

    public static LayerShape Elementwise(long elements) => new(LayerKind.Elementwise, elements, 0, 0, InputElements: elements);

    /// <summary>Multiply-accumulates (Elementwise: the element count).</summary>
    public long Macs => Kind == LayerKind.Elementwise ? M : M * K * N;

    /// <summary>Weight values (0 for Elementwise).</summary>
    public long WeightCount => Kind == LayerKind.Elementwise ? 0 : K * N;

    /// <summary>Output elements.</summary>
    public long OutputElements => Kind == LayerKind.Elementwise ? M : M * N;

    /// <summary>"Gemm 128→10", "Gemm 4×128→10", "Conv k 144→32 on 64 px", "Add of 1024".</summary>
    public string Describe(string op) => Kind switch
    {
        LayerKind.Linear when M == 1 => Invariant($"{op} {K}→{N}"),
        LayerKind.Linear => Invariant($"{op} {M}×{K}→{N}"),
        LayerKind.Conv => Invariant($"{op} k {K}→{N} on {M} px"),
        LayerKind.Depthwise => Invariant($"{op} depthwise {N} ch, {K} taps on {M} px"),
        _ => Invariant($"{op} of {M}"),
    };

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
