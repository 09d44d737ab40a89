using System.Globalization;
using NativeModels.Generation;
using NativeModels.IO;

namespace NativeModels.Models;

/// <summary>A cache that knows the model that created it.</summary>
internal interface IModelOwnedCache : IGenerationCache
{
    ICausalLanguageModel Model { get; }
}

/// <summary>
/// What every causal LM of this library shares, held by the public model classes (which are sealed and public, so they
/// cannot derive from an internal base class): the token embeddings, the final norm and the LM head (tied to the
/// embeddings or not), the layers and any other weights to dispose, the final logits, and the argument checks of
/// Prefill and DecodeStep.
/// </summary>
internal sealed class CausalLanguageModelCore(ICausalLanguageModel owner, Device device, DType dtype, int vocabSize,
    Tensor embedding, Tensor finalNorm, Tensor lmHead, IDisposable[] layers, params Tensor[] alsoOwned)
{
    public Device Device { get; } = device;

    public DType DType { get; } = dtype;

    public int VocabSize { get; } = vocabSize;

    public Tensor Embedding { get; } = embedding;

    public Tensor FinalNorm { get; } = finalNorm;

    /// <summary>The LM head weight [V, H]; the embeddings themselves when tied.</summary>
    public Tensor LmHead { get; } = lmHead;

    public bool IsDisposed { get; private set; }

    /// <summary>The argument checks shared by the models' static Load methods.</summary>
    public static void CheckLoadArguments(WeightStore store, object config, Device device, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(device);
        if (!dtype.IsFloatingPoint())
        {
            throw new ArgumentException($"the compute dtype must be float32, float16 or bfloat16, not {dtype.Name()}", nameof(dtype));
        }
    }

    /// <summary>The LM head: the embeddings when tied, else lm_head.weight [V, H].</summary>
    public static Tensor LoadLmHead(CheckpointWeights weights, bool tieWordEmbeddings, Tensor embedding, long vocabSize, long hiddenSize)
    {
        if (tieWordEmbeddings)
        {
            return embedding;
        }
        if (weights.Contains("lm_head.weight"))
        {
            return weights.Load("lm_head.weight", vocabSize, hiddenSize);
        }
        throw weights.Missing("lm_head.weight", "the LM head (tie_word_embeddings is false)");
    }

    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, owner);

    /// <summary>The cache as <typeparamref name="TCache"/>, checked to come from this model and to have row
    /// <paramref name="row"/>; <paramref name="tokens"/> checked to be non-empty and in the vocabulary.</summary>
    public TCache PrefillCache<TCache>(IGenerationCache cache, int row, ReadOnlySpan<int> tokens)
        where TCache : class, IModelOwnedCache
    {
        var own = OwnCache<TCache>(cache);
        if ((uint)row >= (uint)own.BatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {own.BatchSize})");
        }
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("at least one token is needed", nameof(tokens));
        }
        CheckTokens(tokens);
        return own;
    }

    /// <summary>The cache as <typeparamref name="TCache"/>, checked to come from this model; <paramref name="tokens"/>
    /// checked to hold one in-vocabulary token per row.</summary>
    public TCache DecodeCache<TCache>(IGenerationCache cache, ReadOnlySpan<int> tokens)
        where TCache : class, IModelOwnedCache
    {
        var own = OwnCache<TCache>(cache);
        if (tokens.Length != own.BatchSize)
        {
            throw new ArgumentException($"one token per sequence is needed: {tokens.Length} tokens for a batch of {own.BatchSize}", nameof(tokens));
        }
        CheckTokens(tokens);
        return own;
    }

    /// <summary>Float32 logits [rows, V] of <paramref name="normed"/> [rows, H].</summary>
    public Tensor Logits(Tensor normed, long rows)
    {
        var logits = Tensor.Zeros(Device, DType.Float32, rows, VocabSize);
        try
        {
            return Ops.Gemm(normed, LmHead, logits, transposeB: true);
        }
        catch
        {
            logits.Dispose();
            throw;
        }
    }

    /// <summary>Float32 logits [1, V] of the last of the <paramref name="length"/> rows of <paramref name="normed"/> [length, H].</summary>
    public Tensor LastLogits(Tensor normed, long length, long hiddenSize)
    {
        using var last = Tensor.Zeros(Device, DType, 1, hiddenSize);
        TensorRows.Copy(normed, length - 1, last, 0, 1);
        return Logits(last, 1);
    }

    /// <summary>"TypeName(config, dtype on device)".</summary>
    public string Describe(string typeName, object config) => $"{typeName}({config}, {DType.Name()} on {Device})";

    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }
        IsDisposed = true;
        foreach (var layer in layers)
        {
            layer.Dispose();
        }
        if (!ReferenceEquals(LmHead, Embedding))
        {
            LmHead.Dispose();
        }
        Embedding.Dispose();
        FinalNorm.Dispose();
        foreach (var tensor in alsoOwned)
        {
            tensor.Dispose();
        }
    }

    private TCache OwnCache<TCache>(IGenerationCache cache) where TCache : class, IModelOwnedCache
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(cache);
        if (cache is not TCache own || !ReferenceEquals(own.Model, owner))
        {
            throw new ArgumentException("the cache was not created by this model", nameof(cache));
        }
        return own;
    }

    private void CheckTokens(ReadOnlySpan<int> tokens)
    {
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token,
                    string.Create(CultureInfo.InvariantCulture, $"token id {token} is outside the vocabulary [0, {VocabSize})"));
            }
        }
    }
}
