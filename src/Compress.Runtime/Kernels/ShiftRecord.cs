using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Compress.Runtime.Kernels;

/// <summary>
/// The compact stored form of one shift layer (DeepShift weights with power-of-two channel scales, docs/low-bit.md):
/// what the weights resource holds, prepared once per model instance into the layout the int8 kernels read.
/// <list type="bullet">
/// <item>the weight values (0 or ±2^p, p ≤ 6) as 4-bit codes of <see cref="ShiftGemmU8.Encode"/> in ONNX order, two per
/// byte (value 2i in the low nibble of byte i/2, value 2i + 1 in the high nibble) — no kernel padding;</item>
/// <item>the folded int32 bias per output channel, as little-endian int16 when every value fits (the lowering checks
/// it exactly and keeps int32 otherwise), else int32;</item>
/// <item>one signed byte per output channel, i[c]: the channel's weight scale is the layer's scale times 2^(i[c]/16), a
/// log-domain code with 16 steps an octave (at most 2.2 % from any scale within ±8 octaves). The requantisation
/// multiplier of channel c is the layer's multiplier times 2^(i[c]/16) (<see cref="ChannelMultiplier"/>, integer
/// arithmetic on a table of 2^(r/16) in Q30, so every machine computes the same value) and the f32 output scale the
/// layer's times 2^(i[c]/16) (<see cref="ChannelScale"/>).</item>
/// </list>
/// The record is not aligned (it is read once, byte by byte); the prepared buffer lives in the instance's arena and
/// starts with <see cref="PreparedTag"/> once filled, so a model prepares each layer on its first call only.
/// </summary>
public static class ShiftRecord
{
    /// <summary>The first int of a filled prepared buffer ("SHFT"); the build-time interpreter fills the arena with NaN, a new instance with zeros.</summary>
    public const int PreparedTag = 0x54464853;

    /// <summary>Bytes before the first prepared section (the tag, padded to a cache line).</summary>
    public const int HeaderBytes = 64;

    /// <summary>Bytes of codes for <paramref name="values"/> values: ceil(values / 2).</summary>
    public static int CodeBytes(int values)
    {
        Guard.NonNegative(values, nameof(values));
        return (values + 1) / 2;
    }

    /// <summary>Bytes of a record: codes, bias (<paramref name="biasBytes"/> = 2 or 4 per channel) and one byte per channel.</summary>
    public static int Length(int values, int channels, int biasBytes)
    {
        CheckBiasBytes(biasBytes);
        Guard.NonNegative(channels, nameof(channels));
        return checked(CodeBytes(values) + channels * (biasBytes + 1));
    }

    /// <summary>True when every value fits in an int16 (so the record can store the bias in 2 bytes without loss).</summary>
    public static bool FitsInt16(ReadOnlySpan<int> values)
    {
        foreach (int v in values)
            if (v is < short.MinValue or > short.MaxValue) return false;
        return true;
    }

    /// <summary>Writes a record (see the class remarks).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is not representable, or a bias does not fit in <paramref name="biasBytes"/>.</exception>
    public static void Write(ReadOnlySpan<sbyte> values, ReadOnlySpan<int> bias, int biasBytes, ReadOnlySpan<sbyte> perChannel, Span<byte> record)
    {
        int channels = perChannel.Length;
        Guard.AtLeast(bias.Length, channels, nameof(bias));
        Guard.AtLeast(record.Length, Length(values.Length, channels, biasBytes), nameof(record));
        if (biasBytes == 2 && !FitsInt16(bias[..channels]))
            throw new ArgumentOutOfRangeException(nameof(bias), "A bias does not fit in an int16; store it as int32.");
        int codeBytes = CodeBytes(values.Length);
        record[..codeBytes].Clear();
        for (int i = 0; i < values.Length; i++)
            record[i >> 1] |= (byte)(ShiftGemmU8.Encode(values[i]) << ((i & 1) * 4));
        var biasPart = record[codeBytes..];
        for (int c = 0; c < channels; c++)
        {
            if (biasBytes == 2) BinaryPrimitives.WriteInt16LittleEndian(biasPart[(2 * c)..], (short)bias[c]);
            else BinaryPrimitives.WriteInt32LittleEndian(biasPart[(4 * c)..], bias[c]);
        }
        MemoryMarshal.AsBytes(perChannel).CopyTo(record[(codeBytes + channels * biasBytes)..]);
    }

    /// <summary>The weight values of a record (ONNX order), <c>values.Length</c> of them.</summary>
    public static void ReadValues(ReadOnlySpan<byte> record, Span<sbyte> values)
    {
        Guard.AtLeast(record.Length, CodeBytes(values.Length), nameof(record));
        for (int i = 0; i < values.Length; i++)
            values[i] = (sbyte)ShiftGemmU8.Decode(record[i >> 1] >> ((i & 1) * 4));
    }

    /// <summary>The bias of a record with <paramref name="values"/> weight values, widened to int32 (<c>bias.Length</c> channels).</summary>
    public static void ReadBias(ReadOnlySpan<byte> record, int values, int biasBytes, Span<int> bias)
    {
        int channels = bias.Length;
        Guard.AtLeast(record.Length, Length(values, channels, biasBytes), nameof(record));
        var part = record[CodeBytes(values)..];
        for (int c = 0; c < channels; c++)
            bias[c] = biasBytes == 2 ? BinaryPrimitives.ReadInt16LittleEndian(part[(2 * c)..]) : BinaryPrimitives.ReadInt32LittleEndian(part[(4 * c)..]);
    }

    /// <summary>The per-channel signed bytes of a record (<c>perChannel.Length</c> channels), widened to int32.</summary>
    public static void ReadPerChannel(ReadOnlySpan<byte> record, int values, int biasBytes, Span<int> perChannel)
    {
        int channels = perChannel.Length;
        Guard.AtLeast(record.Length, Length(values, channels, biasBytes), nameof(record));
        var part = record[(CodeBytes(values) + channels * biasBytes)..];
        for (int c = 0; c < channels; c++) perChannel[c] = (sbyte)part[c];
    }

    /// <summary>Steps of the per-channel scale code in one octave.</summary>
    public const int StepsPerOctave = 16;

    /// <summary>round(2^30 · 2^(r/16)) for r = 0 … 15.</summary>
    static ReadOnlySpan<int> OctaveQ30 =>
    [
        1073741824, 1121280436, 1170923762, 1222764986, 1276901417, 1333434672, 1392470869, 1454120821,
        1518500250, 1585730000, 1655936265, 1729250827, 1805811301, 1885761398, 1969251188, 2056437387,
    ];

    /// <summary>
    /// The (multiplier, shift) of M·2^(<paramref name="index"/>/16) for M = multiplier·2^(shift − 31) (the form of
    /// <see cref="QuantMath.QuantizeMultiplier"/>, multiplier in [2^30, 2^31) or 0): multiplier × round(2^30·2^(r/16)),
    /// rounded half up to 31 bits, and the shift moved by ⌊index/16⌋. (0, 0) for a zero multiplier or when the result is
    /// below 2^−31 (as QuantizeMultiplier flushes).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The multiplier is not normalised, or the result's shift exceeds 30.</exception>
    public static (int Multiplier, int Shift) ChannelMultiplier(int multiplier, int shift, int index)
    {
        if (multiplier == 0) return (0, 0);
        if (multiplier < 1 << 30) throw new ArgumentOutOfRangeException(nameof(multiplier), multiplier, "Must be 0 or in [2^30, 2^31).");
        int octave = index >> 4, step = index & 15;
        long m = ((long)multiplier * OctaveQ30[step] + (1L << 29)) >> 30; // in [2^30, 2^32)
        int s = shift + octave;
        if (m >= 1L << 31)
        {
            m = (m + 1) >> 1;
            s++;
        }
        if (m >= 1L << 31)
        {
            m >>= 1;
            s++;
        }
        if (s < -31) return (0, 0);
        if (s > 30) throw new ArgumentOutOfRangeException(nameof(index), index, "The channel multiplier is too large: its shift would exceed 30.");
        return ((int)m, s);
    }

    /// <summary>scaleBase · 2^(<paramref name="index"/>/16) in f32: scaleBase × (float)(table[r]/2^30), then exactly scaled by 2^⌊index/16⌋.</summary>
    public static float ChannelScale(float scaleBase, int index) =>
        MathF.ScaleB(scaleBase * (float)(OctaveQ30[index & 15] * (1.0 / (1 << 30))), index >> 4);

    /// <summary>True once <see cref="MarkPrepared"/> ran on <paramref name="prepared"/>.</summary>
    public static bool IsPrepared(ReadOnlySpan<byte> prepared) =>
        prepared.Length >= HeaderBytes && MemoryMarshal.Read<int>(prepared) == PreparedTag;

    /// <summary>Writes the tag that says the buffer holds its prepared layer.</summary>
    public static void MarkPrepared(Span<byte> prepared) => MemoryMarshal.Write(prepared, PreparedTag);

    /// <summary>Bytes rounded up to a cache line (every prepared section starts on one).</summary>
    internal static int Align64(int bytes) => checked((bytes + 63) & ~63);

    /// <summary>The int32 section of <paramref name="count"/> values at byte <paramref name="offset"/> of a prepared buffer.</summary>
    internal static Span<int> Ints(Span<byte> prepared, int offset, int count) => MemoryMarshal.Cast<byte, int>(prepared.Slice(offset, 4 * count));

    static void CheckBiasBytes(int biasBytes)
    {
        if (biasBytes is not (2 or 4)) throw new ArgumentOutOfRangeException(nameof(biasBytes), biasBytes, "Bias entries are 2 or 4 bytes.");
    }
}
