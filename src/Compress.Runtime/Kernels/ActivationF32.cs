using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// ONNX Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish and Tanh as a stand-alone kernel, plus the register
/// epilogues the other kernels fuse (<see cref="Apply(Vector512{float}, in FusedActivation)"/> and its narrower twins).
/// </summary>
public static class ActivationF32
{
    /// <summary>y = act(x); <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, FusedActivation act)
    {
        Guard.AtLeast(y.Length, x.Length, nameof(y));
        if (x.IsEmpty) return;
        y = y[..x.Length];
        switch (act.Kind)
        {
            case ActivationKind.None:
                x.CopyTo(y);
                return;
            // Transcendental ones: TensorPrimitives already has vectorised, accurate bodies for every ISA.
            case ActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid(x, y);
                return;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh(x, y);
                return;
        }
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) Apply_F32_Vector512(ref xs, ref ys, x.Length, act);
        else if (Vector256.IsHardwareAccelerated) Apply_F32_Vector256(ref xs, ref ys, x.Length, act);
        else if (Vector128.IsHardwareAccelerated) Apply_F32_Vector128(ref xs, ref ys, x.Length, act);
        else Apply_F32_Scalar(ref xs, ref ys, x.Length, act);
    }

    /// <summary>Whether <paramref name="kind"/> is cheap enough to apply on accumulators in a kernel's epilogue
    /// (Sigmoid and Tanh are applied by a second pass over the output instead).</summary>
    internal static bool IsRegisterFusable(ActivationKind kind) => kind is not (ActivationKind.Sigmoid or ActivationKind.Tanh);

    /// <summary>For kernels whose epilogue handled only the register-fusable part: applies Sigmoid/Tanh in place.</summary>
    internal static void PostPass(Span<float> y, in FusedActivation act)
    {
        if (!IsRegisterFusable(act.Kind)) Apply(y, y, act);
    }

    /// <summary>The reference: y = act(x) for one value.</summary>
    internal static float Scalar(float x, in FusedActivation act) => act.Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => x > 0f ? x : 0f,
        ActivationKind.LeakyRelu => x < 0f ? act.Alpha * x : x,
        ActivationKind.Clip => MathF.Min(MathF.Max(x, act.Alpha), act.Beta),
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.HardSigmoid => MathF.Max(0f, MathF.Min(1f, act.Alpha * x + act.Beta)),
        ActivationKind.HardSwish => x * MathF.Max(0f, MathF.Min(1f, x * (1f / 6f) + 0.5f)),
        ActivationKind.Tanh => MathF.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(act), act.Kind, null),
    };

    /// <summary>The register-fusable activations on one scalar (Sigmoid/Tanh pass through; see <see cref="PostPass"/>).
    /// No calls, so it can sit in a loop that keeps vectors in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Fused(float x, in FusedActivation act) => act.Kind switch
    {
        ActivationKind.Relu => x > 0f ? x : 0f,
        ActivationKind.LeakyRelu => x < 0f ? act.Alpha * x : x,
        ActivationKind.Clip => MathF.Min(MathF.Max(x, act.Alpha), act.Beta),
        ActivationKind.HardSigmoid => MathF.Max(0f, MathF.Min(1f, act.Alpha * x + act.Beta)),
        ActivationKind.HardSwish => x * MathF.Max(0f, MathF.Min(1f, x * (1f / 6f) + 0.5f)),
        _ => x,
    };

    /// <summary>The register-fusable activations on 16 lanes (Sigmoid/Tanh pass through; see <see cref="PostPass"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Apply(Vector512<float> v, in FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return Vector512.MaxNative(v, Vector512<float>.Zero);
            case ActivationKind.LeakyRelu: return Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), v * act.Alpha, v);
            case ActivationKind.Clip: return Vector512.MinNative(Vector512.MaxNative(v, Vector512.Create(act.Alpha)), Vector512.Create(act.Beta));
            case ActivationKind.HardSigmoid:
                return Vector512.MinNative(Vector512.MaxNative(Vector512.FusedMultiplyAdd(v, Vector512.Create(act.Alpha), Vector512.Create(act.Beta)), Vector512<float>.Zero), Vector512<float>.One);
            case ActivationKind.HardSwish:
                return v * Vector512.MinNative(Vector512.MaxNative(Vector512.FusedMultiplyAdd(v, Vector512.Create(1f / 6f), Vector512.Create(0.5f)), Vector512<float>.Zero), Vector512<float>.One);
            default: return v;
        }
    }

    /// <summary>The register-fusable activations on 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Apply(Vector256<float> v, in FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return Vector256.MaxNative(v, Vector256<float>.Zero);
            case ActivationKind.LeakyRelu: return Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), v * act.Alpha, v);
            case ActivationKind.Clip: return Vector256.MinNative(Vector256.MaxNative(v, Vector256.Create(act.Alpha)), Vector256.Create(act.Beta));
            case ActivationKind.HardSigmoid:
                return Vector256.MinNative(Vector256.MaxNative(v * act.Alpha + Vector256.Create(act.Beta), Vector256<float>.Zero), Vector256<float>.One);
            case ActivationKind.HardSwish:
                return v * Vector256.MinNative(Vector256.MaxNative(v * (1f / 6f) + Vector256.Create(0.5f), Vector256<float>.Zero), Vector256<float>.One);
            default: return v;
        }
    }

    /// <summary>The register-fusable activations on 4 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Apply(Vector128<float> v, in FusedActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return Vector128.MaxNative(v, Vector128<float>.Zero);
            case ActivationKind.LeakyRelu: return Vector128.ConditionalSelect(Vector128.LessThan(v, Vector128<float>.Zero), v * act.Alpha, v);
            case ActivationKind.Clip: return Vector128.MinNative(Vector128.MaxNative(v, Vector128.Create(act.Alpha)), Vector128.Create(act.Beta));
            case ActivationKind.HardSigmoid:
                return Vector128.MinNative(Vector128.MaxNative(v * act.Alpha + Vector128.Create(act.Beta), Vector128<float>.Zero), Vector128<float>.One);
            case ActivationKind.HardSwish:
                return v * Vector128.MinNative(Vector128.MaxNative(v * (1f / 6f) + Vector128.Create(0.5f), Vector128<float>.Zero), Vector128<float>.One);
            default: return v;
        }
    }

    internal static void Apply_F32_Vector512(ref float x, ref float y, int n, in FusedActivation act)
    {
        nint i = 0;
        for (; i <= n - 16; i += 16)
            Apply(Vector512.LoadUnsafe(ref x, (nuint)i), act).StoreUnsafe(ref y, (nuint)i);
        Apply_F32_Vector256(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
    }

    internal static void Apply_F32_Vector256(ref float x, ref float y, int n, in FusedActivation act)
    {
        nint i = 0;
        for (; i <= n - 8; i += 8)
            Apply(Vector256.LoadUnsafe(ref x, (nuint)i), act).StoreUnsafe(ref y, (nuint)i);
        Apply_F32_Vector128(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
    }

    internal static void Apply_F32_Vector128(ref float x, ref float y, int n, in FusedActivation act)
    {
        nint i = 0;
        for (; i <= n - 4; i += 4)
            Apply(Vector128.LoadUnsafe(ref x, (nuint)i), act).StoreUnsafe(ref y, (nuint)i);
        Apply_F32_Scalar(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - (int)i, act);
    }

    internal static void Apply_F32_Scalar(ref float x, ref float y, int n, in FusedActivation act)
    {
        for (nint i = 0; i < n; i++)
            Unsafe.Add(ref y, i) = Scalar(Unsafe.Add(ref x, i), act);
    }
}

/// <summary>
/// An activation epilogue as a type, so hot loops can be specialised per activation (no switch, and no jump table
/// splitting the register allocator's live ranges inside the loop). <see cref="AnyEpilogue"/> covers the rest.
/// </summary>
internal interface IEpilogue
{
    static abstract float Apply(float v, in FusedActivation act);
    static abstract Vector128<float> Apply(Vector128<float> v, in FusedActivation act);
    static abstract Vector256<float> Apply(Vector256<float> v, in FusedActivation act);
    static abstract Vector512<float> Apply(Vector512<float> v, in FusedActivation act);
}

/// <summary>No activation (also Sigmoid/Tanh, which <see cref="ActivationF32.PostPass"/> applies afterwards).</summary>
internal readonly struct IdentityEpilogue : IEpilogue
{
    public static float Apply(float v, in FusedActivation act) => v;
    public static Vector128<float> Apply(Vector128<float> v, in FusedActivation act) => v;
    public static Vector256<float> Apply(Vector256<float> v, in FusedActivation act) => v;
    public static Vector512<float> Apply(Vector512<float> v, in FusedActivation act) => v;
}

/// <summary>max(x, 0).</summary>
internal readonly struct ReluEpilogue : IEpilogue
{
    public static float Apply(float v, in FusedActivation act) => v > 0f ? v : 0f;
    public static Vector128<float> Apply(Vector128<float> v, in FusedActivation act) => Vector128.MaxNative(v, Vector128<float>.Zero);
    public static Vector256<float> Apply(Vector256<float> v, in FusedActivation act) => Vector256.MaxNative(v, Vector256<float>.Zero);
    public static Vector512<float> Apply(Vector512<float> v, in FusedActivation act) => Vector512.MaxNative(v, Vector512<float>.Zero);
}

/// <summary>Any register-fusable activation, chosen at run time.</summary>
internal readonly struct AnyEpilogue : IEpilogue
{
    public static float Apply(float v, in FusedActivation act) => ActivationF32.Fused(v, act);
    public static Vector128<float> Apply(Vector128<float> v, in FusedActivation act) => ActivationF32.Apply(v, act);
    public static Vector256<float> Apply(Vector256<float> v, in FusedActivation act) => ActivationF32.Apply(v, act);
    public static Vector512<float> Apply(Vector512<float> v, in FusedActivation act) => ActivationF32.Apply(v, act);
}
