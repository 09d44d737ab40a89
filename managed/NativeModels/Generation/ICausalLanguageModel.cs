namespace NativeModels.Generation;

/// <summary>
/// What the generator needs from an architecture: per-sequence prefill into one row of a batched cache, and a decode
/// step for every row of the cache at once. Logits come back as float32 tensors owned by the caller.
/// </summary>
public interface ICausalLanguageModel : IDisposable
{
    /// <summary>The config.json model_type ("mamba", ...).</summary>
    string ModelType { get; }

    Device Device { get; }

    /// <summary>The compute dtype.</summary>
    DType DType { get; }

    /// <summary>Rows of the logits.</summary>
    int VocabSize { get; }

    /// <summary>A cache (recurrent state, KV cache, ...) for <paramref name="batchSize"/> sequences, all empty.</summary>
    IGenerationCache CreateCache(int batchSize);

    /// <summary>
    /// <see cref="CreateCache(int)"/> with a size hint: no sequence is expected to hold more than
    /// <paramref name="maxTokensPerSequence"/> tokens (prompt + generated), which lets a KV cache preallocate just that.
    /// A hint only: a cache must still accept longer sequences (it may grow). Architectures whose state does not
    /// depend on the length ignore it.
    /// </summary>
    IGenerationCache CreateCache(int batchSize, long maxTokensPerSequence) => CreateCache(batchSize);

    /// <summary>
    /// Feeds <paramref name="tokens"/> (at least one) to the sequence in row <paramref name="row"/> of
    /// <paramref name="cache"/>, continuing from whatever that row already holds, and returns float32 logits: [1, V] for
    /// the last token, or [T, V] for every token when <paramref name="allLogits"/>.
    /// </summary>
    Tensor Prefill(IGenerationCache cache, int row, ReadOnlySpan<int> tokens, bool allLogits = false);

    /// <summary>Feeds one token to every row of the cache (tokens.Length == cache.BatchSize); float32 logits [B, V].</summary>
    Tensor DecodeStep(IGenerationCache cache, ReadOnlySpan<int> tokens);
}
