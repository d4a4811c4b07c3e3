using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Compress.Runtime.Kernels;

/// <summary>
/// What a u8×s8 dot-product body does with finished s32 accumulators of output row <c>row</c>, columns j… (j a multiple
/// of the vector width; only the first <c>valid</c> lanes are real outputs). Each ISA body calls the overload matching
/// its register shape, so the epilogue is fused and vectorised in every path; structs keep it inlined per type.
/// </summary>
internal interface IQEpilogue
{
    /// <summary>One output.</summary>
    void Store(int acc, int row, int j);

    /// <summary>16 outputs from one Vector512.</summary>
    void Store(Vector512<int> acc, int row, int j, int valid);

    /// <summary>16 outputs from two Vector256 (columns j…j+7, j+8…j+15).</summary>
    void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid);

    /// <summary>4 outputs from one Vector128.</summary>
    void Store(Vector128<int> acc, int row, int j, int valid);
}

public static partial class QGemmU8S8
{
    /// <summary>u8 out: y = clamp(zp + MBQM(acc + bias[j], multiplier[j], shift[j]), lo, hi).</summary>
    internal ref struct RequantEpilogue : IQEpilogue
    {
        private readonly ref int _bias;
        private readonly bool _hasBias;
        private readonly ref int _multiplier;
        private readonly ref int _shift;
        private readonly ref byte _y;
        private readonly int _n, _zeroPoint, _lo, _hi;

        public RequantEpilogue(ref int bias, bool hasBias, ref int multiplier, ref int shift, ref byte y, int n, in Requant rq)
        {
            _bias = ref bias;
            _hasBias = hasBias;
            _multiplier = ref multiplier;
            _shift = ref shift;
            _y = ref y;
            _n = n;
            _zeroPoint = rq.OutZeroPoint;
            _lo = rq.Lo;
            _hi = rq.Hi;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int acc, int row, int j)
        {
            if (_hasBias) acc += Unsafe.Add(ref _bias, j);
            Unsafe.Add(ref _y, (nint)row * _n + j) = (byte)RequantU8.Scalar(acc, Unsafe.Add(ref _multiplier, j), Unsafe.Add(ref _shift, j), _zeroPoint, _lo, _hi);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<int> acc, int row, int j, int valid)
        {
            if (valid < 16)
            {
                StoreLanes(acc, row, j, valid);
                return;
            }
            if (_hasBias) acc += Vector512.LoadUnsafe(ref _bias, (nuint)j);
            var q = RequantU8.Apply(acc, Vector512.LoadUnsafe(ref _multiplier, (nuint)j), Vector512.LoadUnsafe(ref _shift, (nuint)j),
                Vector512.Create(_zeroPoint), Vector512.Create(_lo), Vector512.Create(_hi));
            RequantU8.Narrow(q).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid)
        {
            if (valid < 16)
            {
                StoreLanes(lo, row, j, Math.Min(valid, 8));
                if (valid > 8) StoreLanes(hi, row, j + 8, valid - 8);
                return;
            }
            if (_hasBias)
            {
                lo += Vector256.LoadUnsafe(ref _bias, (nuint)j);
                hi += Vector256.LoadUnsafe(ref _bias, (nuint)j + 8);
            }
            var zp = Vector256.Create(_zeroPoint);
            var l = Vector256.Create(_lo);
            var h = Vector256.Create(_hi);
            var q0 = RequantU8.Apply(lo, Vector256.LoadUnsafe(ref _multiplier, (nuint)j), Vector256.LoadUnsafe(ref _shift, (nuint)j), zp, l, h);
            var q1 = RequantU8.Apply(hi, Vector256.LoadUnsafe(ref _multiplier, (nuint)j + 8), Vector256.LoadUnsafe(ref _shift, (nuint)j + 8), zp, l, h);
            RequantU8.Narrow(q0, q1).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector128<int> acc, int row, int j, int valid)
        {
            if (valid < 4)
            {
                StoreLanes(acc, row, j, valid);
                return;
            }
            if (_hasBias) acc += Vector128.LoadUnsafe(ref _bias, (nuint)j);
            var q = RequantU8.Apply(acc, Vector128.LoadUnsafe(ref _multiplier, (nuint)j), Vector128.LoadUnsafe(ref _shift, (nuint)j), _zeroPoint, _lo, _hi);
            ref byte y = ref Unsafe.Add(ref _y, (nint)row * _n + j);
            Unsafe.WriteUnaligned(ref y, RequantU8.Narrow(q, q).AsUInt32().ToScalar());
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void StoreLanes<T>(T acc, int row, int j, int valid) where T : struct
        {
            for (int i = 0; i < valid; i++) Store(GetLane(acc, i), row, j + i);
        }
    }

    /// <summary>f32 out: y = act(scale[j]·(float)(acc + bias[j])) (Sigmoid/Tanh in a post pass).</summary>
    internal ref struct F32Epilogue : IQEpilogue
    {
        private readonly ref int _bias;
        private readonly bool _hasBias;
        private readonly ref float _scale;
        private readonly ref float _y;
        private readonly int _n;
        private readonly FusedActivation _act;

        public F32Epilogue(ref int bias, bool hasBias, ref float scale, ref float y, int n, in FusedActivation act)
        {
            _bias = ref bias;
            _hasBias = hasBias;
            _scale = ref scale;
            _y = ref y;
            _n = n;
            _act = act;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int acc, int row, int j)
        {
            if (_hasBias) acc += Unsafe.Add(ref _bias, j);
            Unsafe.Add(ref _y, (nint)row * _n + j) = ActivationF32.Fused(acc * Unsafe.Add(ref _scale, j), _act);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<int> acc, int row, int j, int valid)
        {
            if (valid < 16)
            {
                StoreLanes(acc, row, j, valid);
                return;
            }
            if (_hasBias) acc += Vector512.LoadUnsafe(ref _bias, (nuint)j);
            var v = Vector512.ConvertToSingle(acc) * Vector512.LoadUnsafe(ref _scale, (nuint)j);
            ActivationF32.Apply(v, _act).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid)
        {
            if (valid < 16)
            {
                StoreLanes(lo, row, j, Math.Min(valid, 8));
                if (valid > 8) StoreLanes(hi, row, j + 8, valid - 8);
                return;
            }
            if (_hasBias)
            {
                lo += Vector256.LoadUnsafe(ref _bias, (nuint)j);
                hi += Vector256.LoadUnsafe(ref _bias, (nuint)j + 8);
            }
            nuint o = (nuint)((nint)row * _n + j);
            ActivationF32.Apply(Vector256.ConvertToSingle(lo) * Vector256.LoadUnsafe(ref _scale, (nuint)j), _act).StoreUnsafe(ref _y, o);
            ActivationF32.Apply(Vector256.ConvertToSingle(hi) * Vector256.LoadUnsafe(ref _scale, (nuint)j + 8), _act).StoreUnsafe(ref _y, o + 8);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector128<int> acc, int row, int j, int valid)
        {
            if (valid < 4)
            {
                StoreLanes(acc, row, j, valid);
                return;
            }
            if (_hasBias) acc += Vector128.LoadUnsafe(ref _bias, (nuint)j);
            var v = Vector128.ConvertToSingle(acc) * Vector128.LoadUnsafe(ref _scale, (nuint)j);
            ActivationF32.Apply(v, _act).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void StoreLanes<T>(T acc, int row, int j, int valid) where T : struct
        {
            for (int i = 0; i < valid; i++) Store(GetLane(acc, i), row, j + i);
        }
    }

    /// <summary>Dynamic quantisation: y = act((s_x·s_w[j])·(float)(acc − zp_x·sums[j]) + bias[j]).</summary>
    internal ref struct DynamicEpilogue : IQEpilogue
    {
        private readonly ref int _sums;
        private readonly int _zeroPoint;
        private readonly float _scaleX;
        private readonly ref float _weightScale;
        private readonly ref float _bias;
        private readonly bool _hasBias;
        private readonly ref float _y;
        private readonly int _n;
        private readonly FusedActivation _act;

        public DynamicEpilogue(ref int sums, int zeroPoint, float scaleX, ref float weightScale, ref float bias, bool hasBias, ref float y, int n, in FusedActivation act)
        {
            _sums = ref sums;
            _zeroPoint = zeroPoint;
            _scaleX = scaleX;
            _weightScale = ref weightScale;
            _bias = ref bias;
            _hasBias = hasBias;
            _y = ref y;
            _n = n;
            _act = act;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int acc, int row, int j)
        {
            float v = (acc - _zeroPoint * Unsafe.Add(ref _sums, j)) * (_scaleX * Unsafe.Add(ref _weightScale, j));
            if (_hasBias) v += Unsafe.Add(ref _bias, j);
            Unsafe.Add(ref _y, (nint)row * _n + j) = ActivationF32.Fused(v, _act);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<int> acc, int row, int j, int valid)
        {
            if (valid < 16)
            {
                StoreLanes(acc, row, j, valid);
                return;
            }
            acc -= Vector512.LoadUnsafe(ref _sums, (nuint)j) * _zeroPoint;
            var v = Vector512.ConvertToSingle(acc) * (Vector512.LoadUnsafe(ref _weightScale, (nuint)j) * _scaleX);
            if (_hasBias) v += Vector512.LoadUnsafe(ref _bias, (nuint)j);
            ActivationF32.Apply(v, _act).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<int> lo, Vector256<int> hi, int row, int j, int valid)
        {
            if (valid < 16)
            {
                StoreLanes(lo, row, j, Math.Min(valid, 8));
                if (valid > 8) StoreLanes(hi, row, j + 8, valid - 8);
                return;
            }
            Store8(lo, row, j);
            Store8(hi, row, j + 8);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store8(Vector256<int> acc, int row, int j)
        {
            acc -= Vector256.LoadUnsafe(ref _sums, (nuint)j) * _zeroPoint;
            var v = Vector256.ConvertToSingle(acc) * (Vector256.LoadUnsafe(ref _weightScale, (nuint)j) * _scaleX);
            if (_hasBias) v += Vector256.LoadUnsafe(ref _bias, (nuint)j);
            ActivationF32.Apply(v, _act).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector128<int> acc, int row, int j, int valid)
        {
            if (valid < 4)
            {
                StoreLanes(acc, row, j, valid);
                return;
            }
            acc -= Vector128.LoadUnsafe(ref _sums, (nuint)j) * _zeroPoint;
            var v = Vector128.ConvertToSingle(acc) * (Vector128.LoadUnsafe(ref _weightScale, (nuint)j) * _scaleX);
            if (_hasBias) v += Vector128.LoadUnsafe(ref _bias, (nuint)j);
            ActivationF32.Apply(v, _act).StoreUnsafe(ref _y, (nuint)((nint)row * _n + j));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void StoreLanes<T>(T acc, int row, int j, int valid) where T : struct
        {
            for (int i = 0; i < valid; i++) Store(GetLane(acc, i), row, j + i);
        }
    }

    /// <summary>Lane i of a Vector128/256/512 of s32 (the partial-panel tail only).</summary>
    private static int GetLane<T>(T v, int i) where T : struct => v switch
    {
        Vector512<int> v512 => v512.GetElement(i),
        Vector256<int> v256 => v256.GetElement(i),
        Vector128<int> v128 => v128.GetElement(i),
        _ => throw new NotSupportedException(),
    };
}
