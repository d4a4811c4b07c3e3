using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Where (opset 16): output = condition ? X : Y element-wise, with X and Y broadcast (numpy) to the output and the
/// condition given at the output's full shape (a constant, materialised at build time; one byte per element, 0 = false).
/// </summary>
/// <remarks>
/// Pure data movement with a byte-driven choice per element, so a scalar loop over <see cref="Broadcast4"/> rows; the
/// generic width-specialised drivers of <see cref="BinaryF32"/> would need a third, byte-typed operand.
/// </remarks>
public static class WhereF32
{
    /// <summary>
    /// output[i] = condition[i] != 0 ? x[…] : y[…], where output element (i0,i1,i2,i3) reads x at Σ iₖ·Aₖ and y at Σ iₖ·Bₖ
    /// of <paramref name="xy"/>. <paramref name="output"/> may be the same memory as <paramref name="x"/> or
    /// <paramref name="y"/> only when that operand is not broadcast.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the broadcast needs.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(ReadOnlySpan<byte> condition, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> output, in Broadcast4 xy)
    {
        long n = xy.Length;
        Guard.AtLeast(output.Length, n, nameof(output));
        Guard.AtLeast(condition.Length, n, nameof(condition));
        if (n == 0) return;
        Guard.AtLeast(x.Length, (long)(xy.D0 - 1) * xy.A0 + (long)(xy.D1 - 1) * xy.A1 + (long)(xy.D2 - 1) * xy.A2 + (long)(xy.D3 - 1) * xy.A3 + 1, nameof(x));
        Guard.AtLeast(y.Length, (long)(xy.D0 - 1) * xy.B0 + (long)(xy.D1 - 1) * xy.B1 + (long)(xy.D2 - 1) * xy.B2 + (long)(xy.D3 - 1) * xy.B3 + 1, nameof(y));
        ref byte c = ref MemoryMarshal.GetReference(condition);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float o = ref MemoryMarshal.GetReference(output);
        for (int i0 = 0; i0 < xy.D0; i0++)
            for (int i1 = 0; i1 < xy.D1; i1++)
                for (int i2 = 0; i2 < xy.D2; i2++)
                {
                    ref float xr = ref Unsafe.Add(ref x0, (nint)i0 * xy.A0 + (nint)i1 * xy.A1 + (nint)i2 * xy.A2);
                    ref float yr = ref Unsafe.Add(ref y0, (nint)i0 * xy.B0 + (nint)i1 * xy.B1 + (nint)i2 * xy.B2);
                    for (int i = 0; i < xy.D3; i++)
                        Unsafe.Add(ref o, i) = Unsafe.Add(ref c, i) != 0 ? Unsafe.Add(ref xr, (nint)i * xy.A3) : Unsafe.Add(ref yr, (nint)i * xy.B3);
                    c = ref Unsafe.Add(ref c, xy.D3);
                    o = ref Unsafe.Add(ref o, xy.D3);
                }
    }
}
