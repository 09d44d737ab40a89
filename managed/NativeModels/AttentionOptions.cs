namespace NativeModels;

/// <summary>Parameters of attention (nm_attention_params). See docs/attention.md for the masking rules.</summary>
public sealed record AttentionOptions
{
    /// <summary>Multiplies q·k before the softmax; &lt;= 0 means 1 / sqrt(head_dim) (the default).</summary>
    public float SoftmaxScale { get; init; }

    /// <summary>Causal mask, bottom-right aligned: query i of a sequence with Lq queries and Lk keys sits at position
    /// i + Lk - Lq and sees keys up to it.</summary>
    public bool Causal { get; init; }

    /// <summary>&gt;= 0: keys more than this many positions before the aligned position are masked; -1: no limit.</summary>
    public int WindowLeft { get; init; } = -1;

    /// <summary>&gt;= 0: keys more than this many positions after the aligned position are masked; -1: no limit
    /// (causal forces 0).</summary>
    public int WindowRight { get; init; } = -1;

    /// <summary>Causal attention with the default scale and no window.</summary>
    public static AttentionOptions CausalMask { get; } = new() { Causal = true };
}
