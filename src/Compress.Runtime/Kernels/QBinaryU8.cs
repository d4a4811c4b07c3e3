using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Element-wise Add/Sub/Mul (also Div/Max/Min) of two u8 tensors in the quantised domain with numpy broadcasting:
/// each operand is dequantised, combined in f32 and requantised, y = clamp(round_half_even((a' op b')/s_y) + zp_y,
/// min, max) with a' = s_a·(a − zp_a), b' = s_b·(b − zp_b); min/max carry a fused Relu/Clip (and are clamped to [0, 255]).
/// </summary>
public static partial class QBinaryU8
{
    /// <summary>y = requant(dequant(a) op dequant(b)), where element (i0,i1,i2,i3) of y reads a[i0·A0 + … + i3·A3] and likewise b.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(BinaryOp op, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y, in Broadcast4 shape,
        float aScale, int aZeroPoint, float bScale, int bZeroPoint, float yScale, int yZeroPoint, int min, int max)
    {
        Validate(a.Length, b.Length, y.Length, shape);
        if (shape.Length == 0) return;
        var p = new Params(aScale, aZeroPoint, bScale, bZeroPoint, yScale, yZeroPoint, Math.Max(min, 0), Math.Min(max, 255));
        if (!Vector128.IsHardwareAccelerated)
        {
            Binary_U8_Scalar(op, a, b, y, shape, p);
            return;
        }
        switch (op)
        {
            case BinaryOp.Add: Rows<AddOp>(a, b, y, shape, p); break;
            case BinaryOp.Sub: Rows<SubOp>(a, b, y, shape, p); break;
            case BinaryOp.Mul: Rows<MulOp>(a, b, y, shape, p); break;
            case BinaryOp.Div: Rows<DivOp>(a, b, y, shape, p); break;
            case BinaryOp.Max: Rows<MaxOp>(a, b, y, shape, p); break;
            case BinaryOp.Min: Rows<MinOp>(a, b, y, shape, p); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary>Quantisation parameters of one call.</summary>
    internal readonly record struct Params(float AScale, int AZeroPoint, float BScale, int BZeroPoint, float YScale, int YZeroPoint, int Lo, int Hi);

    private static void Validate(int aLength, int bLength, int yLength, in Broadcast4 s)
    {
        if (s.D0 < 0 || s.D1 < 0 || s.D2 < 0 || s.D3 < 0) throw new ArgumentException($"Invalid {s}.");
        if (s.Length == 0) return;
        long aLast = (long)(s.D0 - 1) * s.A0 + (long)(s.D1 - 1) * s.A1 + (long)(s.D2 - 1) * s.A2 + (long)(s.D3 - 1) * s.A3;
        long bLast = (long)(s.D0 - 1) * s.B0 + (long)(s.D1 - 1) * s.B1 + (long)(s.D2 - 1) * s.B2 + (long)(s.D3 - 1) * s.B3;
        Guard.AtLeast(aLength, aLast + 1, "a");
        Guard.AtLeast(bLength, bLast + 1, "b");
        Guard.AtLeast(yLength, s.Length, "y");
    }

    /// <summary>One element: the reference formula.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Scalar(BinaryOp op, byte a, byte b, in Params p)
    {
        float av = p.AScale * (a - p.AZeroPoint), bv = p.BScale * (b - p.BZeroPoint);
        float r = op switch
        {
            BinaryOp.Add => av + bv,
            BinaryOp.Sub => av - bv,
            BinaryOp.Mul => av * bv,
            BinaryOp.Div => av / bv,
            BinaryOp.Max => MathF.Max(av, bv),
            BinaryOp.Min => MathF.Min(av, bv),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
        };
        return Requantize(r, p);
    }

    /// <summary>clamp(round_half_even(r/s_y) + zp_y, lo, hi); NaN gives lo.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Requantize(float r, in Params p)
    {
        float q = MathF.Round(r / p.YScale) + p.YZeroPoint;
        return (byte)(q >= p.Lo ? (q <= p.Hi ? q : p.Hi) : p.Lo);
    }

    /// <summary>The reference: the formula per element in index order.</summary>
    internal static void Binary_U8_Scalar(BinaryOp op, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y, in Broadcast4 s, in Params p)
    {
        int o = 0;
        for (int i0 = 0; i0 < s.D0; i0++)
            for (int i1 = 0; i1 < s.D1; i1++)
                for (int i2 = 0; i2 < s.D2; i2++)
                    for (int i3 = 0; i3 < s.D3; i3++)
                        y[o++] = Scalar(op,
                            a[i0 * s.A0 + i1 * s.A1 + i2 * s.A2 + i3 * s.A3],
                            b[i0 * s.B0 + i1 * s.B1 + i2 * s.B2 + i3 * s.B3], p);
    }

    /// <summary>One of the element-wise operations on dequantised values, scalar and 4-lane.</summary>
    private interface IQOp
    {
        static abstract float Invoke(float a, float b);
        static abstract Vector128<float> Invoke(Vector128<float> a, Vector128<float> b);
    }

    private readonly struct AddOp : IQOp
    {
        public static float Invoke(float a, float b) => a + b;
        public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a + b;
    }

    private readonly struct SubOp : IQOp
    {
        public static float Invoke(float a, float b) => a - b;
        public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a - b;
    }

    private readonly struct MulOp : IQOp
    {
        public static float Invoke(float a, float b) => a * b;
        public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a * b;
    }

    private readonly struct DivOp : IQOp
    {
        public static float Invoke(float a, float b) => a / b;
        public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a / b;
    }

    private readonly struct MaxOp : IQOp
    {
        public static float Invoke(float a, float b) => MathF.Max(a, b);
        public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    }

    private readonly struct MinOp : IQOp
    {
        public static float Invoke(float a, float b) => MathF.Min(a, b);
        public static Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
    }

    /// <summary>
    /// Walks D0·D1·D2 rows of D3 outputs; the innermost dim is contiguous or broadcast for each operand (as
    /// <see cref="Broadcast4.Create"/> collapses numpy broadcasting), 4 outputs per step with the same f32 operations,
    /// in the same order, as the scalar formula — so the results are identical.
    /// </summary>
    private static void Rows<TOp>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y, in Broadcast4 s, in Params p) where TOp : struct, IQOp
    {
        ref byte a0 = ref MemoryMarshal.GetReference(a);
        ref byte b0 = ref MemoryMarshal.GetReference(b);
        ref byte yr = ref MemoryMarshal.GetReference(y);
        int n = s.D3;
        bool aStep = s.A3 == 1, bStep = s.B3 == 1;
        bool vector = (s.A3 is 0 or 1) && (s.B3 is 0 or 1);
        var aScale = Vector128.Create(p.AScale);
        var bScale = Vector128.Create(p.BScale);
        var aZp = Vector128.Create(p.AZeroPoint);
        var bZp = Vector128.Create(p.BZeroPoint);
        var yScale = Vector128.Create(p.YScale);
        var yZp = Vector128.Create((float)p.YZeroPoint);
        var lo = Vector128.Create((float)p.Lo);
        var hi = Vector128.Create((float)p.Hi);
        for (int i0 = 0; i0 < s.D0; i0++)
            for (int i1 = 0; i1 < s.D1; i1++)
                for (int i2 = 0; i2 < s.D2; i2++)
                {
                    ref byte ar = ref Unsafe.Add(ref a0, (nint)i0 * s.A0 + (nint)i1 * s.A1 + (nint)i2 * s.A2);
                    ref byte br = ref Unsafe.Add(ref b0, (nint)i0 * s.B0 + (nint)i1 * s.B1 + (nint)i2 * s.B2);
                    int i = 0;
                    if (vector)
                    {
                        var av1 = aScale * Vector128.ConvertToSingle(Vector128.Create((int)ar) - aZp);
                        var bv1 = bScale * Vector128.ConvertToSingle(Vector128.Create((int)br) - bZp);
                        for (; i + 4 <= n; i += 4)
                        {
                            var av = aStep ? aScale * Vector128.ConvertToSingle(Load4(ref Unsafe.Add(ref ar, i)) - aZp) : av1;
                            var bv = bStep ? bScale * Vector128.ConvertToSingle(Load4(ref Unsafe.Add(ref br, i)) - bZp) : bv1;
                            var q = Vector128.Round(TOp.Invoke(av, bv) / yScale) + yZp;
                            q = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(q, lo), Vector128.ConditionalSelect(Vector128.LessThanOrEqual(q, hi), q, hi), lo);
                            var bytes = RequantU8.Narrow(Vector128.ConvertToInt32(q), Vector128<int>.Zero);
                            Unsafe.WriteUnaligned(ref yr, bytes.AsUInt32().ToScalar());
                            yr = ref Unsafe.Add(ref yr, 4);
                        }
                    }
                    for (; i < n; i++)
                    {
                        float av = p.AScale * (Unsafe.Add(ref ar, (nint)i * s.A3) - p.AZeroPoint);
                        float bv = p.BScale * (Unsafe.Add(ref br, (nint)i * s.B3) - p.BZeroPoint);
                        yr = Requantize(TOp.Invoke(av, bv), p);
                        yr = ref Unsafe.Add(ref yr, 1);
                    }
                }
    }

    /// <summary>4 bytes zero-extended to s32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Load4(ref byte p) =>
        Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref p)).AsByte())).AsInt32();
}
