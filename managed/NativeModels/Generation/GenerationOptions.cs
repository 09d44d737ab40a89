namespace NativeModels.Generation;

/// <summary>How to generate: length, sampling, seed and stop tokens.</summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate per sequence at most (a stop token ends a sequence earlier).</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Temperature / top-k / top-p; temperature &lt;= 0 is greedy (the default).</summary>
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    /// <summary>Seed of the sampler. Token k of a generation (k = 0 comes from the prompt's logits) is drawn with
    /// (Seed, step k, row of the sequence in the batch), so the same prompts, options and seed give the same tokens.</summary>
    public ulong Seed { get; init; }

    /// <summary>Tokens that end a sequence; they are not part of its output. Null: the tokenizer's EOS token when a
    /// tokenizer is given, else none. Empty: no stop token.</summary>
    public IReadOnlyCollection<int>? StopTokenIds { get; init; }

    /// <summary>Greedy decoding of up to <paramref name="maxNewTokens"/> tokens.</summary>
    public static GenerationOptions Greedy(int maxNewTokens) => new() { MaxNewTokens = maxNewTokens };

    internal void Validate()
    {
        if (MaxNewTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "MaxNewTokens must be >= 0");
        }
        ArgumentNullException.ThrowIfNull(Sampling, nameof(Sampling));
    }
}
