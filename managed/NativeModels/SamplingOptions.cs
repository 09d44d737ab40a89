namespace NativeModels;

/// <summary>Token sampling parameters (nm_sampling_params); the algorithm is in docs/sampling.md.</summary>
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding: argmax, lowest index on ties.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>&lt;= 0 means greedy.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>0: off. Keeps every token whose logit is &gt;= the k-th largest (ties kept).</summary>
    public int TopK { get; init; }

    /// <summary>&gt;= 1: off. Keeps the most probable tokens whose mass reaches TopP.</summary>
    public float TopP { get; init; } = 1f;
}
