using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>ONNX Add, Sub, Mul, Div, Max, Min (two inputs), Pow with multidirectional (numpy) broadcasting, activation fused.</summary>
public static partial class BinaryF32
{
    /// <summary>y = act(a op b), where element (i0,i1,i2,i3) of y reads a[i0·A0 + i1·A1 + i2·A2 + i3·A3] and likewise b.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Run(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, in Broadcast4 bc, FusedActivation act)
    {
        Validate(a.Length, b.Length, y.Length, bc);
        if (bc.Length == 0) return;
        switch (op)
        {
            case BinaryOp.Add: Rows<AddOperator>(a, b, y, bc, act); break;
            case BinaryOp.Sub: Rows<SubtractOperator>(a, b, y, bc, act); break;
            case BinaryOp.Mul: Rows<MultiplyOperator>(a, b, y, bc, act); break;
            case BinaryOp.Div: Rows<DivideOperator>(a, b, y, bc, act); break;
            case BinaryOp.Max: Rows<MaxOperator>(a, b, y, bc, act); break;
            case BinaryOp.Min: Rows<MinOperator>(a, b, y, bc, act); break;
            case BinaryOp.Pow: Rows<PowOperator>(a, b, y, bc, act); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
        ActivationF32.PostPass(y[..(int)bc.Length], act);
    }

    /// <summary>Which operand walks the innermost dim contiguously (1) and which repeats one value (0).</summary>
    internal enum RowKind { VectorVector, ScalarVector, VectorScalar, Strided }

    /// <summary>
    /// Walks D0·D1·D2 rows of D3 outputs; each row is vector ⊙ vector, scalar ⊙ vector or vector ⊙ scalar
    /// (numpy broadcasting collapsed by <see cref="Broadcast4.Create"/> always gives one of these) with the activation
    /// fused, or a strided scalar loop for hand-made strides.
    /// </summary>
    private static void Rows<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, in Broadcast4 bc, in FusedActivation act)
        where TOp : struct, IBinaryOperator
    {
        RowKind kind = (bc.A3, bc.B3) switch
        {
            (1, 1) => RowKind.VectorVector,
            (0, 1) => RowKind.ScalarVector,
            (1, 0) => RowKind.VectorScalar,
            _ => RowKind.Strided,
        };
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = bc.D3;
        for (int i0 = 0; i0 < bc.D0; i0++)
            for (int i1 = 0; i1 < bc.D1; i1++)
                for (int i2 = 0; i2 < bc.D2; i2++)
                {
                    ref float ar = ref Unsafe.Add(ref a0, (nint)i0 * bc.A0 + (nint)i1 * bc.A1 + (nint)i2 * bc.A2);
                    ref float br = ref Unsafe.Add(ref b0, (nint)i0 * bc.B0 + (nint)i1 * bc.B1 + (nint)i2 * bc.B2);
                    if (kind == RowKind.Strided)
                    {
                        for (int i = 0; i < n; i++)
                            Unsafe.Add(ref yr, i) = ActivationF32.Fused(TOp.Invoke(Unsafe.Add(ref ar, (nint)i * bc.A3), Unsafe.Add(ref br, (nint)i * bc.B3)), act);
                    }
                    else if (Vector512.IsHardwareAccelerated) Row_F32_Vector512<TOp>(kind, ref ar, ref br, ref yr, n, act);
                    else if (Vector256.IsHardwareAccelerated) Row_F32_Vector256<TOp>(kind, ref ar, ref br, ref yr, n, act);
                    else if (Vector128.IsHardwareAccelerated) Row_F32_Vector128<TOp>(kind, ref ar, ref br, ref yr, n, act);
                    else Row_F32_Scalar<TOp>(kind, ref ar, ref br, ref yr, n, act);
                    yr = ref Unsafe.Add(ref yr, n);
                }
    }

    /// <summary>One row, 16 lanes at a time, then the Vector256 body for the tail.</summary>
    internal static void Row_F32_Vector512<TOp>(RowKind kind, ref float a, ref float b, ref float y, int n, in FusedActivation act)
        where TOp : struct, IBinaryOperator
    {
        nint i = 0;
        switch (kind)
        {
            case RowKind.VectorVector:
                for (; i + 16 <= n; i += 16)
                    ActivationF32.Apply(TOp.Invoke(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i)), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Vector256<TOp>(kind, ref Unsafe.Add(ref a, i), ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            case RowKind.ScalarVector:
            {
                var av = Vector512.Create(a);
                for (; i + 16 <= n; i += 16)
                    ActivationF32.Apply(TOp.Invoke(av, Vector512.LoadUnsafe(ref b, (nuint)i)), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Vector256<TOp>(kind, ref a, ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            }
            default:
            {
                var bv = Vector512.Create(b);
                for (; i + 16 <= n; i += 16)
                    ActivationF32.Apply(TOp.Invoke(Vector512.LoadUnsafe(ref a, (nuint)i), bv), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Vector256<TOp>(kind, ref Unsafe.Add(ref a, i), ref b, ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            }
        }
    }

    /// <summary>One row, 8 lanes at a time, then the Vector128 body for the tail.</summary>
    internal static void Row_F32_Vector256<TOp>(RowKind kind, ref float a, ref float b, ref float y, int n, in FusedActivation act)
        where TOp : struct, IBinaryOperator
    {
        nint i = 0;
        switch (kind)
        {
            case RowKind.VectorVector:
                for (; i + 8 <= n; i += 8)
                    ActivationF32.Apply(TOp.Invoke(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i)), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Vector128<TOp>(kind, ref Unsafe.Add(ref a, i), ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            case RowKind.ScalarVector:
            {
                var av = Vector256.Create(a);
                for (; i + 8 <= n; i += 8)
                    ActivationF32.Apply(TOp.Invoke(av, Vector256.LoadUnsafe(ref b, (nuint)i)), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Vector128<TOp>(kind, ref a, ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            }
            default:
            {
                var bv = Vector256.Create(b);
                for (; i + 8 <= n; i += 8)
                    ActivationF32.Apply(TOp.Invoke(Vector256.LoadUnsafe(ref a, (nuint)i), bv), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Vector128<TOp>(kind, ref Unsafe.Add(ref a, i), ref b, ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            }
        }
    }

    /// <summary>One row, 4 lanes at a time, then the scalar body for the tail.</summary>
    internal static void Row_F32_Vector128<TOp>(RowKind kind, ref float a, ref float b, ref float y, int n, in FusedActivation act)
        where TOp : struct, IBinaryOperator
    {
        nint i = 0;
        switch (kind)
        {
            case RowKind.VectorVector:
                for (; i + 4 <= n; i += 4)
                    ActivationF32.Apply(TOp.Invoke(Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i)), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Scalar<TOp>(kind, ref Unsafe.Add(ref a, i), ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            case RowKind.ScalarVector:
            {
                var av = Vector128.Create(a);
                for (; i + 4 <= n; i += 4)
                    ActivationF32.Apply(TOp.Invoke(av, Vector128.LoadUnsafe(ref b, (nuint)i)), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Scalar<TOp>(kind, ref a, ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            }
            default:
            {
                var bv = Vector128.Create(b);
                for (; i + 4 <= n; i += 4)
                    ActivationF32.Apply(TOp.Invoke(Vector128.LoadUnsafe(ref a, (nuint)i), bv), act).StoreUnsafe(ref y, (nuint)i);
                Row_F32_Scalar<TOp>(kind, ref Unsafe.Add(ref a, i), ref b, ref Unsafe.Add(ref y, i), n - (int)i, act);
                return;
            }
        }
    }

    /// <summary>One row, one element at a time (register-fusable activations only; see <see cref="ActivationF32.PostPass"/>).</summary>
    internal static void Row_F32_Scalar<TOp>(RowKind kind, ref float a, ref float b, ref float y, int n, in FusedActivation act)
        where TOp : struct, IBinaryOperator
    {
        nint da = kind == RowKind.ScalarVector ? 0 : 1, db = kind == RowKind.VectorScalar ? 0 : 1;
        for (nint i = 0; i < n; i++)
            Unsafe.Add(ref y, i) = ActivationF32.Fused(TOp.Invoke(Unsafe.Add(ref a, i * da), Unsafe.Add(ref b, i * db)), act);
    }

    private static void Validate(int aLength, int bLength, int yLength, in Broadcast4 bc)
    {
        if (bc.D0 < 0 || bc.D1 < 0 || bc.D2 < 0 || bc.D3 < 0 || bc.A0 < 0 || bc.A1 < 0 || bc.A2 < 0 || bc.A3 < 0
            || bc.B0 < 0 || bc.B1 < 0 || bc.B2 < 0 || bc.B3 < 0)
            throw new ArgumentException($"Invalid {bc}.", nameof(bc));
        long n = bc.Length;
        Guard.AtLeast(yLength, n, "y");
        if (n == 0) return;
        Guard.AtLeast(aLength, (long)(bc.D0 - 1) * bc.A0 + (long)(bc.D1 - 1) * bc.A1 + (long)(bc.D2 - 1) * bc.A2 + (long)(bc.D3 - 1) * bc.A3 + 1, "a");
        Guard.AtLeast(bLength, (long)(bc.D0 - 1) * bc.B0 + (long)(bc.D1 - 1) * bc.B1 + (long)(bc.D2 - 1) * bc.B2 + (long)(bc.D3 - 1) * bc.B3 + 1, "b");
    }

    /// <summary>The reference: a op b for one pair.</summary>
    internal static float Scalar(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => MathF.Max(a, b),
        BinaryOp.Min => MathF.Min(a, b),
        BinaryOp.Pow => MathF.Pow(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    internal static void Binary_F32_Scalar(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, in Broadcast4 bc, in FusedActivation act)
    {
        int o = 0;
        for (int i0 = 0; i0 < bc.D0; i0++)
            for (int i1 = 0; i1 < bc.D1; i1++)
                for (int i2 = 0; i2 < bc.D2; i2++)
                    for (int i3 = 0; i3 < bc.D3; i3++)
                    {
                        float av = a[i0 * bc.A0 + i1 * bc.A1 + i2 * bc.A2 + i3 * bc.A3];
                        float bv = b[i0 * bc.B0 + i1 * bc.B1 + i2 * bc.B2 + i3 * bc.B3];
                        y[o++] = ActivationF32.Scalar(Scalar(op, av, bv), act);
                    }
    }
}
