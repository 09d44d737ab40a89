using System.Buffers.Binary;
using NativeModels.Generation;
using NativeModels.Interop;

namespace NativeModels.Models.Transformer;

/// <summary>
/// The saved KV cache of one transformer sequence: per layer the keys and values of its positions ([T, Hkv, Dh] in the
/// compute dtype). Unlike a recurrent state, its size grows with the sequence.
/// </summary>
/// <remarks>
/// Binary format (little-endian), version 1: magic "NMKVCAC1" (8 bytes); u32 format version; u32 num_hidden_layers,
/// num_key_value_heads, head_dim, vocab_size, dtype (nm_dtype); i64 token count; then for each layer its key bytes and
/// its value bytes (token count * Hkv * Dh elements each).
/// </remarks>
public sealed class TransformerState : ISequenceState
{
    public const uint FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "NMKVCAC1"u8;

    private const int HeaderBytes = 8 + 4 + 5 * 4 + 8;

    private readonly byte[][] _keys;
    private readonly byte[][] _values;

    internal TransformerState(TransformerStateShape shape, long tokenCount, byte[][] keys, byte[][] values)
    {
        Shape = shape;
        TokenCount = tokenCount;
        _keys = keys;
        _values = values;
    }

    public TransformerStateShape Shape { get; }

    public long TokenCount { get; }

    internal ReadOnlySpan<byte> KeyBytes(int layer) => _keys[layer];

    internal ReadOnlySpan<byte> ValueBytes(int layer) => _values[layer];

    public byte[] ToBytes()
    {
        var bytes = new byte[checked(HeaderBytes + StateBinary.PayloadLength(_keys, _values))];
        var header = new StateBinary.Writer(bytes, Magic);
        header.U32(FormatVersion);
        header.U32((uint)Shape.NumHiddenLayers);
        header.U32((uint)Shape.NumKeyValueHeads);
        header.U32((uint)Shape.HeadDim);
        header.U32((uint)Shape.VocabSize);
        header.U32((uint)Shape.DType);
        header.I64(TokenCount);
        StateBinary.WriteLayers(bytes.AsSpan(header.Position), _keys, _values);
        return bytes;
    }

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes());
    }

    /// <summary>Parses <see cref="ToBytes"/> output (<see cref="TransformerStateException"/> when malformed).</summary>
    public static TransformerState FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderBytes || !bytes[..8].SequenceEqual(Magic))
        {
            throw new TransformerStateException("not a NativeModels transformer state (bad magic or too short)");
        }
        var header = new StateBinary.Reader(bytes, Magic.Length);
        uint version = header.U32();
        if (version != FormatVersion)
        {
            throw new TransformerStateException($"transformer state format version {version} is not supported (expected {FormatVersion})");
        }
        int layers = Dim(header.U32()), kvHeads = Dim(header.U32()), headDim = Dim(header.U32()), vocab = Dim(header.U32());
        var shape = new TransformerStateShape(layers, kvHeads, headDim, vocab, (DType)Dim(header.U32()));
        long tokens = header.I64();
        if (!shape.DType.IsFloatingPoint() || tokens < 0)
        {
            throw new TransformerStateException("corrupt transformer state header");
        }
        long perLayer = checked(tokens * shape.NumKeyValueHeads * shape.HeadDim * shape.DType.Size());
        if (bytes.Length - HeaderBytes != checked(2 * perLayer * shape.NumHiddenLayers))
        {
            throw new TransformerStateException($"transformer state has {bytes.Length - HeaderBytes} payload bytes, expected {2 * perLayer * shape.NumHiddenLayers}");
        }
        var (keys, values) = StateBinary.ReadLayers(bytes[HeaderBytes..], shape.NumHiddenLayers, (int)perLayer, (int)perLayer);
        return new TransformerState(shape, tokens, keys, values);
    }

    private static int Dim(uint value)
    {
        if (value > int.MaxValue)
        {
            throw new TransformerStateException("corrupt transformer state header");
        }
        return (int)value;
    }

    internal void EnsureCompatible(TransformerStateShape expected)
    {
        if (Shape != expected)
        {
            throw new TransformerStateException($"the saved state ({Shape}) does not fit this model ({expected})");
        }
    }
}

/// <summary>What a saved transformer state must match.</summary>
public sealed record TransformerStateShape(int NumHiddenLayers, int NumKeyValueHeads, int HeadDim, int VocabSize, DType DType)
{
    public static TransformerStateShape Of(TransformerConfig config, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(config.NumHiddenLayers, config.NumKeyValueHeads, config.HeadDim, config.VocabSize, dtype);
    }
}

/// <summary>A transformer state that cannot be read or does not fit the model.</summary>
public sealed class TransformerStateException(string message) : NativeModelsException(message);
