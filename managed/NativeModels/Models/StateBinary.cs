using System.Buffers.Binary;

namespace NativeModels.Models;

/// <summary>
/// The layout shared by the architectures' saved sequence states (little-endian): an 8-byte magic, a header of
/// u32/i64/u64 fields written in order, then per layer two byte blocks (conv and SSM state, or keys and values).
/// What the header holds and how it is validated stays with each state.
/// </summary>
internal static class StateBinary
{
    /// <summary>Bytes of the per-layer payload: every block of <paramref name="first"/> and <paramref name="second"/>.</summary>
    public static long PayloadLength(byte[][] first, byte[][] second)
    {
        long payload = 0;
        for (int l = 0; l < first.Length; l++)
        {
            payload += first[l].Length + second[l].Length;
        }
        return payload;
    }

    /// <summary>Copies layer l's first block then its second block, for each layer, to <paramref name="destination"/>.</summary>
    public static void WriteLayers(Span<byte> destination, byte[][] first, byte[][] second)
    {
        int at = 0;
        for (int l = 0; l < first.Length; l++)
        {
            first[l].CopyTo(destination[at..]);
            at += first[l].Length;
            second[l].CopyTo(destination[at..]);
            at += second[l].Length;
        }
    }

    /// <summary>Splits a payload written by <see cref="WriteLayers"/> whose blocks have fixed sizes (the caller has
    /// checked the payload's length).</summary>
    public static (byte[][] First, byte[][] Second) ReadLayers(ReadOnlySpan<byte> payload, int layers, int firstBytes, int secondBytes)
    {
        var first = new byte[layers][];
        var second = new byte[layers][];
        int at = 0;
        for (int l = 0; l < layers; l++)
        {
            first[l] = payload.Slice(at, firstBytes).ToArray();
            at += firstBytes;
            second[l] = payload.Slice(at, secondBytes).ToArray();
            at += secondBytes;
        }
        return (first, second);
    }

    /// <summary>Writes the header fields in order after the magic.</summary>
    public ref struct Writer
    {
        private readonly Span<byte> _buffer;
        private int _at;

        public Writer(Span<byte> buffer, ReadOnlySpan<byte> magic)
        {
            magic.CopyTo(buffer);
            _buffer = buffer;
            _at = magic.Length;
        }

        /// <summary>Offset of the next field.</summary>
        public readonly int Position => _at;

        public void U32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_at..], value);
            _at += 4;
        }

        public void I64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_buffer[_at..], value);
            _at += 8;
        }

        public void U64(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_at..], value);
            _at += 8;
        }

        /// <summary>Leaves a u64 to fill in later; returns its offset.</summary>
        public int SkipU64()
        {
            int at = _at;
            _at += 8;
            return at;
        }
    }

    /// <summary>Reads the header fields in order after the magic (the caller has checked the magic and the length).</summary>
    public ref struct Reader(ReadOnlySpan<byte> buffer, int magicLength)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;
        private int _at = magicLength;

        /// <summary>Offset of the next field.</summary>
        public readonly int Position => _at;

        public uint U32()
        {
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_at..]);
            _at += 4;
            return value;
        }

        public long I64()
        {
            long value = BinaryPrimitives.ReadInt64LittleEndian(_buffer[_at..]);
            _at += 8;
            return value;
        }

        public ulong U64()
        {
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_at..]);
            _at += 8;
            return value;
        }
    }
}
