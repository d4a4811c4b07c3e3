using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Runtime.Kernels;

/// <summary>
/// Power-of-two ("shift") weights with u8 activations — DeepShift (Elhoushi et al., "DeepShift: Towards
/// Multiplication-Less Neural Networks", 2021) and ShiftAddNet (You et al., NeurIPS 2020), post-training form: every
/// weight is 0 or ±2^p·s[j] with an integer exponent p ∈ [0, 6] and a per-column scale, stored as a 4-bit code
/// (bit 3 the sign, bits 0–2 the exponent index e: 0 → the value 0, e ≥ 1 → 2^(e−1), so 1…64). Activations and the
/// int32 bias are those of static int8 (Jacob et al. 2018), and the s32 accumulator goes through the same epilogues as
/// <see cref="QGemmU8S8"/> (requantisation to u8, or scaling to f32).
/// </summary>
/// <remarks>
/// Layout: <see cref="QGemmU8S8.PackB"/>'s s8 layout <c>[ceil(n/16)][ceil(k/4)][16][4]</c> with the values as codes,
/// two per byte: in every 64-value block, byte i (0–31) holds value i in its low nibble and value i + 32 in its high
/// nibble — so one 32-byte load decodes (by a 16-entry byte table, <c>vpshufb</c>) into exactly the two Vector256 a
/// 64-byte s8 block would have loaded, 8 columns × 4 k each. Half the bytes of int8.
/// Bodies: <c>Gemv_U8S4I32_1x16_AvxVnni</c> (table decode + <c>vpdpbusd</c>: on x86 the int8 dot-product unit multiplies
/// by 2^p as fast as any shift, so this is the fast path), Avx512BW and Vector128 (a panel decoded into a stack buffer,
/// then the int8 bodies), and the multiplication-free reference <c>Gemv_U8S4I32_Scalar</c> (x &lt;&lt; p, add or
/// subtract). <see cref="GemvShiftAdd"/> runs the multiplication-free form with SIMD variable shifts
/// (<c>vpsllvd</c>) — the ShiftAddNet kernel, measured against the int8 kernel in docs/low-bit.md.
/// </remarks>
public static partial class ShiftGemmU8
{
    /// <summary>The largest code magnitude, 2^6: products with a u8 stay within the int8 dot-product unit's range.</summary>
    public const int MaxMagnitude = 64;

    /// <summary>Values per code block (two per byte, paired i and i + 32).</summary>
    public const int BlockValues = 64;

    /// <summary>Code value (0–15) → weight value: 0, 1, 2, 4, …, 64, then the same negated.</summary>
    internal static ReadOnlySpan<sbyte> Table => [0, 1, 2, 4, 8, 16, 32, 64, 0, -1, -2, -4, -8, -16, -32, -64];

    /// <summary>Bytes of codes for <paramref name="values"/> values: ceil(values/64)·32.</summary>
    public static int CodesLength(int values)
    {
        Guard.NonNegative(values, nameof(values));
        return checked((values + BlockValues - 1) / BlockValues * (BlockValues / 2));
    }

    /// <summary>Bytes of codes needed by <see cref="Pack"/>: half of <see cref="QGemmU8S8.PackedLength"/>.</summary>
    public static int PackedLength(int k, int n) => QGemmU8S8.PackedLength(k, n) / 2;

    /// <summary>True when <paramref name="value"/> is 0 or ±2^p with 0 ≤ p ≤ 6 (a value a code can hold).</summary>
    public static bool IsRepresentable(int value) => value == 0 || (Math.Abs(value) <= MaxMagnitude && (Math.Abs(value) & (Math.Abs(value) - 1)) == 0);

    /// <summary>The 4-bit code of <paramref name="value"/> (0 or ±2^p, p ∈ [0, 6]).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not representable.</exception>
    public static byte Encode(int value)
    {
        if (!IsRepresentable(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "A shift code holds 0 or ±2^p with 0 ≤ p ≤ 6.");
        if (value == 0) return 0;
        int e = System.Numerics.BitOperations.Log2((uint)Math.Abs(value)) + 1;
        return (byte)(value < 0 ? 8 | e : e);
    }

    /// <summary>The value of a 4-bit code (the low nibble of <paramref name="code"/>).</summary>
    public static int Decode(int code) => Table[code & 0xF];

    /// <summary>
    /// values (each 0 or ±2^p, p ≤ 6) → codes, two per byte paired within 64-value blocks (see the remarks); values past
    /// the end of <paramref name="values"/> in the last block are 0.
    /// </summary>
    public static void Compress(ReadOnlySpan<sbyte> values, Span<byte> codes)
    {
        int length = CodesLength(values.Length);
        Guard.AtLeast(codes.Length, length, nameof(codes));
        codes[..length].Clear();
        for (int i = 0; i < values.Length; i++)
        {
            int block = i / BlockValues, within = i % BlockValues;
            int index = block * (BlockValues / 2) + within % (BlockValues / 2);
            byte code = Encode(values[i]);
            codes[index] |= within < BlockValues / 2 ? code : (byte)(code << 4);
        }
    }

    /// <summary>codes → values (the inverse of <see cref="Compress"/>) for the first <c>values.Length</c> values.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Expand(ReadOnlySpan<byte> codes, Span<sbyte> values)
    {
        Guard.AtLeast(codes.Length, CodesLength(values.Length), nameof(codes));
        int count = values.Length, full = count / BlockValues;
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref sbyte v = ref MemoryMarshal.GetReference(values);
        int b = 0;
        if (Avx2.IsSupported)
        {
            var lut = Vector256.Create(Vector128.Create(Table));
            for (; b < full; b++)
            {
                var (lo, hi) = Decode256(Vector256.LoadUnsafe(ref c, (nuint)(b * 32)), lut);
                lo.StoreUnsafe(ref v, (nuint)(b * 64));
                hi.StoreUnsafe(ref v, (nuint)(b * 64 + 32));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var lut = Vector128.Create(Table);
            var mask = Vector128.Create((byte)0x0F);
            for (; b < full; b++)
                for (int h = 0; h < 2; h++)
                {
                    var raw = Vector128.LoadUnsafe(ref c, (nuint)(b * 32 + h * 16));
                    Vector128.Shuffle(lut, (raw & mask).AsSByte()).StoreUnsafe(ref v, (nuint)(b * 64 + h * 16));
                    Vector128.Shuffle(lut, (Vector128.ShiftRightLogical(raw, 4) & mask).AsSByte()).StoreUnsafe(ref v, (nuint)(b * 64 + 32 + h * 16));
                }
        }
        for (int i = b * BlockValues; i < count; i++) values[i] = (sbyte)Decode(CodeAt(codes, i));
    }

    /// <summary>The nibble of value <paramref name="index"/> in a code stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int CodeAt(ReadOnlySpan<byte> codes, nint index)
    {
        nint block = index / BlockValues, within = index % BlockValues;
        byte pair = codes[(int)(block * (BlockValues / 2) + within % (BlockValues / 2))];
        return within < BlockValues / 2 ? pair & 0xF : pair >> 4;
    }

    /// <summary>32 code bytes → the 64 values of their block: (values 0–31, values 32–63).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<sbyte> Lo, Vector256<sbyte> Hi) Decode256(Vector256<byte> codes, Vector256<sbyte> lut)
    {
        if (Avx512Vbmi.VL.IsSupported)
        {
            // vpermb reads the low 5 bits of each index: with the 16-entry table repeated, bit 4 (the other nibble's
            // lowest bit) selects the same entry, so neither half needs a mask.
            return (Avx512Vbmi.VL.PermuteVar32x8(lut, codes.AsSByte()),
                Avx512Vbmi.VL.PermuteVar32x8(lut, Vector256.ShiftRightLogical(codes.AsUInt16(), 4).AsSByte()));
        }
        var mask = Vector256.Create((byte)0x0F);
        var lo = Avx2.Shuffle(lut, (codes & mask).AsSByte());
        var hi = Avx2.Shuffle(lut, (Vector256.ShiftRightLogical(codes.AsUInt16(), 4).AsByte() & mask).AsSByte());
        return (lo, hi);
    }

    /// <summary>
    /// Packs B (k×n row-major, or n×k when <paramref name="transposed"/>) whose values are all representable
    /// (<see cref="IsRepresentable"/>) into <see cref="PackedLength"/> bytes of codes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is not 0 or ±2^p with p ≤ 6.</exception>
    public static void Pack(ReadOnlySpan<sbyte> b, bool transposed, int k, int n, Span<byte> codes)
    {
        var packed = new sbyte[QGemmU8S8.PackedLength(k, n)];
        QGemmU8S8.PackB(b, transposed, k, n, packed);
        Compress(packed, codes);
    }

    /// <summary>
    /// y[j] = clamp(zp_y + MultiplyByQuantizedMultiplier(Σₖ x[k]·B[k,j] + bias'[j], multiplier[j], shift[j]), Min, Max)
    /// → u8, with B's values from their codes; as <see cref="QGemmU8S8.Gemv"/> otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemv(ReadOnlySpan<byte> x, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, int k, int n, in Requant rq) =>
        Gemm(x, codes, bias, multiplier, shift, y, 1, k, n, rq);

    /// <summary>The same as <see cref="Gemv"/> for m rows: A row-major m×k (u8), C row-major m×n (u8).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void Gemm(ReadOnlySpan<byte> a, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> c, int m, int k, int n, in Requant rq)
    {
        CheckCommon(a.Length, codes.Length, bias.Length, c.Length, m, k, n);
        Guard.AtLeast(multiplier.Length, n, nameof(multiplier));
        Guard.AtLeast(shift.Length, n, nameof(shift));
        var epilogue = new QGemmU8S8.RequantEpilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty,
            ref MemoryMarshal.GetReference(multiplier), ref MemoryMarshal.GetReference(shift), ref MemoryMarshal.GetReference(c), n, rq);
        Run(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(codes), ref epilogue, m, k, n);
    }

    /// <summary>y[j] = act(scale[j]·(Σₖ x[k]·B[k,j] + bias'[j])) → f32; as <see cref="QGemmU8S8.GemvToF32"/> otherwise.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvToF32(ReadOnlySpan<byte> x, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<float> scale,
        Span<float> y, int k, int n, FusedActivation act) =>
        GemmToF32(x, codes, bias, scale, y, 1, k, n, act);

    /// <summary>The same as <see cref="GemvToF32"/> for m rows.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemmToF32(ReadOnlySpan<byte> a, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<float> scale,
        Span<float> c, int m, int k, int n, FusedActivation act)
    {
        CheckCommon(a.Length, codes.Length, bias.Length, c.Length, m, k, n);
        Guard.AtLeast(scale.Length, n, nameof(scale));
        var epilogue = new QGemmU8S8.F32Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(scale),
            ref MemoryMarshal.GetReference(c), n, act);
        Run(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(codes), ref epilogue, m, k, n);
        if (!ActivationF32.IsRegisterFusable(act.Kind)) ActivationF32.PostPass(c[..(m * n)], act);
    }

    /// <summary>
    /// Bytes of the prepared buffer of <see cref="GemvRecord"/> and <see cref="GemvToF32Record"/>: the tag, <see cref="Pack"/>'s
    /// codes, then int32 bias, multiplier (f32 scale) and shift (exponent) per column.
    /// </summary>
    public static int PreparedLength(int k, int n) =>
        checked(ShiftRecord.HeaderBytes + ShiftRecord.Align64(PackedLength(k, n)) + 3 * ShiftRecord.Align64(4 * n));

    /// <summary>
    /// <see cref="Gemv"/> on a layer stored as a <see cref="ShiftRecord"/> (B's values in ONNX order, <paramref name="transposed"/>
    /// as Gemm's transB; int16 or int32 bias; a scale code per column, <paramref name="multiplier"/> and <paramref name="shift"/>
    /// the layer's requantisation, column j's <see cref="ShiftRecord.ChannelMultiplier"/> of them). The first call on an instance fills <paramref name="prepared"/> with <see cref="Pack"/>'s codes and the
    /// int32 parameters; every call then runs <see cref="Gemv"/> on them.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvRecord(ReadOnlySpan<byte> x, ReadOnlySpan<byte> record, Span<byte> prepared, Span<byte> y, int k, int n,
        in Requant rq, int multiplier, int shift, int biasBytes, bool transposed)
    {
        Guard.AtLeast(prepared.Length, PreparedLength(k, n), nameof(prepared));
        if (!ShiftRecord.IsPrepared(prepared)) Prepare(record, prepared, k, n, transposed, biasBytes, multiplier, shift, scaleBase: 0, toF32: false);
        int at = ParametersAt(k, n), section = ShiftRecord.Align64(4 * n);
        Gemv(x, prepared.Slice(ShiftRecord.HeaderBytes, PackedLength(k, n)), ShiftRecord.Ints(prepared, at, n), ShiftRecord.Ints(prepared, at + section, n),
            ShiftRecord.Ints(prepared, at + 2 * section, n), y, k, n, rq);
    }

    /// <summary>
    /// <see cref="GemvToF32"/> on a <see cref="ShiftRecord"/>: column j's output scale is
    /// <see cref="ShiftRecord.ChannelScale"/>(<paramref name="scaleBase"/>, code j); prepared on the first call as <see cref="GemvRecord"/> is.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvToF32Record(ReadOnlySpan<byte> x, ReadOnlySpan<byte> record, Span<byte> prepared, Span<float> y, int k, int n,
        FusedActivation act, float scaleBase, int biasBytes, bool transposed)
    {
        Guard.AtLeast(prepared.Length, PreparedLength(k, n), nameof(prepared));
        if (!ShiftRecord.IsPrepared(prepared)) Prepare(record, prepared, k, n, transposed, biasBytes, multiplier: 0, shift: 0, scaleBase, toF32: true);
        int at = ParametersAt(k, n), section = ShiftRecord.Align64(4 * n);
        GemvToF32(x, prepared.Slice(ShiftRecord.HeaderBytes, PackedLength(k, n)), ShiftRecord.Ints(prepared, at, n),
            MemoryMarshal.Cast<int, float>(ShiftRecord.Ints(prepared, at + section, n)), y, k, n, act);
    }

    /// <summary>
    /// Fills a prepared buffer from a record: <see cref="Pack"/>'s codes, the bias widened to int32, then from each
    /// column's scale code either its multiplier and shift (<paramref name="toF32"/> false) or its f32 output scale, then the tag.
    /// </summary>
    public static void Prepare(ReadOnlySpan<byte> record, Span<byte> prepared, int k, int n, bool transposed, int biasBytes,
        int multiplier, int shift, float scaleBase, bool toF32)
    {
        int values = checked(k * n);
        Guard.AtLeast(record.Length, ShiftRecord.Length(values, n, biasBytes), nameof(record));
        Guard.AtLeast(prepared.Length, PreparedLength(k, n), nameof(prepared));
        var b = new sbyte[values]; // once per instance and layer
        ShiftRecord.ReadValues(record, b);
        int at = ParametersAt(k, n), section = ShiftRecord.Align64(4 * n);
        Span<int> bias = ShiftRecord.Ints(prepared, at, n), third = ShiftRecord.Ints(prepared, at + section, n),
            fourth = ShiftRecord.Ints(prepared, at + 2 * section, n);
        Pack(b, transposed, k, n, prepared.Slice(ShiftRecord.HeaderBytes, PackedLength(k, n)));
        ShiftRecord.ReadBias(record, values, biasBytes, bias);
        ShiftRecord.ReadPerChannel(record, values, biasBytes, fourth);
        if (toF32)
        {
            var scale = MemoryMarshal.Cast<int, float>(third);
            for (int j = 0; j < n; j++) scale[j] = ShiftRecord.ChannelScale(scaleBase, fourth[j]);
        }
        else
        {
            for (int j = 0; j < n; j++) (third[j], fourth[j]) = ShiftRecord.ChannelMultiplier(multiplier, shift, fourth[j]);
        }
        ShiftRecord.MarkPrepared(prepared);
    }

    /// <summary>Byte offset of the bias section of a prepared buffer; multiplier (f32 scale) and shift (exponent) follow.</summary>
    static int ParametersAt(int k, int n) => ShiftRecord.HeaderBytes + ShiftRecord.Align64(PackedLength(k, n));

    /// <summary>
    /// <see cref="Gemv"/> computed without a multiplication: each product is x[k] &lt;&lt; p added or subtracted
    /// (ShiftAddNet's shift layer; <c>vpsllvd</c> on 16 or 8 columns at a time). Same layout and result, bit for bit;
    /// slower on x86 than the int8 dot-product path (docs/low-bit.md has the measurement).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // see README: keeps Dynamic PGO from inlining kernels into the caller
    public static void GemvShiftAdd(ReadOnlySpan<byte> x, ReadOnlySpan<byte> codes, ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier,
        ReadOnlySpan<int> shift, Span<byte> y, int k, int n, in Requant rq)
    {
        CheckCommon(x.Length, codes.Length, bias.Length, y.Length, 1, k, n);
        Guard.AtLeast(multiplier.Length, n, nameof(multiplier));
        Guard.AtLeast(shift.Length, n, nameof(shift));
        if (n == 0) return;
        var epilogue = new QGemmU8S8.RequantEpilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty,
            ref MemoryMarshal.GetReference(multiplier), ref MemoryMarshal.GetReference(shift), ref MemoryMarshal.GetReference(y), n, rq);
        ref byte xs = ref MemoryMarshal.GetReference(x);
        ref byte cs = ref MemoryMarshal.GetReference(codes);
        if (Avx512F.IsSupported) ShiftAdd_U8S4I32_16_Vector512(ref xs, ref cs, ref epilogue, 0, k, n);
        else if (Avx2.IsSupported) ShiftAdd_U8S4I32_8_Vector256(ref xs, ref cs, ref epilogue, 0, k, n);
        else Gemm_U8S4I32_Scalar(ref xs, codes, ref epilogue, 1, k, n);
    }

    private static void CheckCommon(int aLength, int codesLength, int biasLength, int cLength, int m, int k, int n)
    {
        Guard.NonNegative(m, nameof(m));
        Guard.AtLeast(codesLength, PackedLength(k, n), "codes");
        Guard.AtLeast(aLength, (long)m * k, "x");
        Guard.Optional(biasLength, n, "bias");
        Guard.AtLeast(cLength, (long)m * n, "y");
    }

    /// <summary>Picks the body: AvxVnni (fused decode), Avx512BW / Vector128 (panel decode + int8 body), scalar (shift-add).</summary>
    private static void Run<TEpilogue>(ref byte a, ref byte codes, ref TEpilogue epilogue, int m, int k, int n)
        where TEpilogue : struct, IQEpilogue, allows ref struct
    {
        if (m == 0 || n == 0) return;
        if (AvxVnni.IsSupported)
        {
            for (int i = 0; i < m; i++)
                Gemv_U8S4I32_1x16_AvxVnni(ref Unsafe.Add(ref a, (nint)i * k), ref codes, ref epilogue, i, k, n);
        }
        else if (Avx512BW.IsSupported || Vector128.IsHardwareAccelerated) Gemm_U8S4I32_PanelDecode(ref a, ref codes, ref epilogue, m, k, n);
        else Gemm_U8S4I32_Scalar(ref a, MemoryMarshal.CreateReadOnlySpan(ref codes, PackedLength(k, n)), ref epilogue, m, k, n);
    }
}
