using System.Buffers.Binary;
using NativeModels.Generation;
using NativeModels.Interop;

namespace NativeModels.Models.Mamba;

/// <summary>
/// The recurrent state of one Mamba sequence: per layer the convolution state (the last K-1 inputs of the
/// convolution, [I, K-1] in the compute dtype) and the SSM state ([I, N] float32), plus the number of tokens consumed.
/// Its size does not depend on the length of the sequence.
/// </summary>
/// <remarks>
/// Binary format (little-endian), version 1:
/// magic "NMMAMBA1" (8 bytes); u32 format version; u32 num_hidden_layers, hidden_size, intermediate_size, state_size,
/// conv_kernel, time_step_rank, vocab_size; u32 conv dtype (nm_dtype); i64 token count; u64 FNV-1a hash of the payload;
/// u64 payload length; then the payload: for each layer its conv state bytes then its ssm state bytes (float32).
/// </remarks>
public sealed class MambaState : ISequenceState
{
    /// <summary>Current version of the binary format.</summary>
    public const uint FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "NMMAMBA1"u8;

    private const int HeaderBytes = 8 + 4 + 7 * 4 + 4 + 8 + 8 + 8;

    private readonly byte[][] _conv;
    private readonly byte[][] _ssm;

    internal MambaState(MambaStateShape shape, long tokenCount, byte[][] conv, byte[][] ssm)
    {
        Shape = shape;
        TokenCount = tokenCount;
        _conv = conv;
        _ssm = ssm;
    }

    /// <summary>The model dimensions and conv dtype this state belongs to.</summary>
    public MambaStateShape Shape { get; }

    public long TokenCount { get; }

    internal ReadOnlySpan<byte> ConvBytes(int layer) => _conv[layer];

    internal ReadOnlySpan<byte> SsmBytes(int layer) => _ssm[layer];

    /// <summary>The SSM state of <paramref name="layer"/>, [I, N] row-major.</summary>
    public float[] GetSsmState(int layer)
    {
        var values = new float[_ssm[layer].Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(_ssm[layer].AsSpan(i * 4));
        }
        return values;
    }

    public byte[] ToBytes()
    {
        long payload = StateBinary.PayloadLength(_conv, _ssm);
        var bytes = new byte[checked(HeaderBytes + payload)];
        var span = bytes.AsSpan();
        var header = new StateBinary.Writer(span, Magic);
        header.U32(FormatVersion);
        header.U32((uint)Shape.NumHiddenLayers);
        header.U32((uint)Shape.HiddenSize);
        header.U32((uint)Shape.IntermediateSize);
        header.U32((uint)Shape.StateSize);
        header.U32((uint)Shape.ConvKernel);
        header.U32((uint)Shape.TimeStepRank);
        header.U32((uint)Shape.VocabSize);
        header.U32((uint)Shape.ConvDType);
        header.I64(TokenCount);
        int hashAt = header.SkipU64();
        header.U64((ulong)payload);
        var data = span[header.Position..];
        StateBinary.WriteLayers(data, _conv, _ssm);
        BinaryPrimitives.WriteUInt64LittleEndian(span[hashAt..], Fnv1a(data));
        return bytes;
    }

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes());
    }

    /// <summary>Parses a state written by <see cref="ToBytes"/>; a corrupted or truncated buffer, an unknown version or
    /// inconsistent dimensions throw <see cref="MambaStateException"/>.</summary>
    public static MambaState FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8 || !bytes[..8].SequenceEqual(Magic))
        {
            throw new MambaStateException("not a Mamba state: the magic \"NMMAMBA1\" is missing");
        }
        if (bytes.Length < HeaderBytes)
        {
            throw new MambaStateException($"truncated Mamba state: {bytes.Length} bytes, the header alone has {HeaderBytes}");
        }
        var header = new StateBinary.Reader(bytes, Magic.Length);
        uint version = header.U32();
        if (version != FormatVersion)
        {
            throw new MambaStateException($"Mamba state format version {version} is not supported (this library reads version {FormatVersion})");
        }
        uint layers = header.U32(), hidden = header.U32(), intermediate = header.U32(), stateSize = header.U32(),
            kernel = header.U32(), rank = header.U32(), vocab = header.U32(), dtype = header.U32();
        long tokenCount = header.I64();
        ulong hash = header.U64();
        ulong payload = header.U64();
        int at = header.Position;

        if (layers is 0 or > 100_000 || hidden is 0 or > 1_000_000 || intermediate is 0 or > 10_000_000 ||
            stateSize is 0 or > 100_000 || kernel is < 2 or > 1_000 || rank > 1_000_000 || vocab > 100_000_000 ||
            dtype > (uint)DType.BFloat16 || tokenCount < 0)
        {
            throw new MambaStateException("corrupted Mamba state: the header holds impossible dimensions");
        }
        var shape = new MambaStateShape((int)layers, (int)hidden, (int)intermediate, (int)stateSize, (int)kernel, (int)rank,
            (int)vocab, (DType)dtype);
        long convBytes = (long)intermediate * (kernel - 1) * shape.ConvDType.Size();
        long ssmBytes = (long)intermediate * stateSize * sizeof(float);
        long expected = layers * (convBytes + ssmBytes);
        if ((ulong)expected != payload || bytes.Length - at != expected)
        {
            throw new MambaStateException(
                $"corrupted or truncated Mamba state: {bytes.Length - at} payload bytes, the header's dimensions need {expected}");
        }
        var data = bytes[at..];
        if (Fnv1a(data) != hash)
        {
            throw new MambaStateException("corrupted Mamba state: the payload checksum does not match");
        }
        var (conv, ssm) = StateBinary.ReadLayers(data, (int)layers, (int)convBytes, (int)ssmBytes);
        return new MambaState(shape, tokenCount, conv, ssm);
    }

    /// <summary>Reads a state written by <see cref="WriteTo"/> (the rest of the stream).</summary>
    public static MambaState ReadFrom(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return FromBytes(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>Throws <see cref="MambaStateException"/> naming the first difference when this state does not belong
    /// to a model of <paramref name="expected"/> dimensions and conv dtype.</summary>
    public void EnsureCompatible(MambaStateShape expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        void Check(string name, long saved, long model)
        {
            if (saved != model)
            {
                throw new MambaStateException($"the state was saved by a different model: {name} {saved} in the state, {model} in the model");
            }
        }
        Check("num_hidden_layers", Shape.NumHiddenLayers, expected.NumHiddenLayers);
        Check("hidden_size", Shape.HiddenSize, expected.HiddenSize);
        Check("intermediate_size", Shape.IntermediateSize, expected.IntermediateSize);
        Check("state_size", Shape.StateSize, expected.StateSize);
        Check("conv_kernel", Shape.ConvKernel, expected.ConvKernel);
        Check("time_step_rank", Shape.TimeStepRank, expected.TimeStepRank);
        Check("vocab_size", Shape.VocabSize, expected.VocabSize);
        if (Shape.ConvDType != expected.ConvDType)
        {
            throw new MambaStateException(
                $"the state was saved with compute dtype {Shape.ConvDType.Name()} but the model runs in {expected.ConvDType.Name()}");
        }
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>The dimensions a <see cref="MambaState"/> must agree with, and the dtype of its conv states.</summary>
public sealed record MambaStateShape(int NumHiddenLayers, int HiddenSize, int IntermediateSize, int StateSize, int ConvKernel,
    int TimeStepRank, int VocabSize, DType ConvDType)
{
    public static MambaStateShape Of(MambaConfig config, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.StateSize, config.ConvKernel,
            config.TimeStepRank, config.VocabSize, dtype);
    }
}

/// <summary>A Mamba state that cannot be read or does not fit the model.</summary>
public sealed class MambaStateException(string message) : NativeModelsException(message);
