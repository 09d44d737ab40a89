using System.Globalization;

namespace NativeModels;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE float32 (8 exponent bits, 7 mantissa bits).
/// .NET has no such type; this one only stores and converts (to float exactly, from float
/// rounding to nearest even, as the native library does).
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IFormattable
{
    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw 16 bits.</summary>
    public ushort Bits { get; }

    public static BFloat16 FromBits(ushort bits) => new(bits);

    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Keep the sign and make sure the truncated mantissa stays non-zero (a quiet NaN).
            return new BFloat16((ushort)((bits >> 16) | 0x0040));
        }
        // Round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, then truncate.
        uint lowestKeptBit = (bits >> 16) & 1;
        bits += 0x7FFFu + lowestKeptBit;
        return new BFloat16((ushort)(bits >> 16));
    }

    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    public static explicit operator BFloat16(double value) => (BFloat16)(float)value;

    public bool Equals(BFloat16 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    public override int GetHashCode() => Bits.GetHashCode();

    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);

    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);

    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);

    public string ToString(string? format, IFormatProvider? formatProvider) => ((float)this).ToString(format, formatProvider);
}
