namespace NativeModels;

/// <summary>Parameters of rotary position embedding (nm_rope_params).</summary>
public sealed record RopeOptions
{
    /// <summary>Base of the frequencies: inv_freq[i] = Theta^(-2i/RotaryDim) unless <see cref="InverseFrequencies"/> is given.</summary>
    public float Theta { get; init; } = 10000f;

    /// <summary>Rotated dims per head (even, &lt;= head_dim); the rest are copied. 0 = the whole head.</summary>
    public int RotaryDim { get; init; }

    /// <summary>cos and sin are multiplied by it: 1 for plain RoPE, the mscale of YaRN/longrope.</summary>
    public float AttentionScaling { get; init; } = 1f;

    /// <summary>false: NeoX rotate-half pairs (i, i + d/2); true: GPT-J pairs (2i, 2i+1).</summary>
    public bool Interleaved { get; init; }

    /// <summary>Optional float32 [RotaryDim/2] tensor on the same device, for scaled variants (llama3, linear, ...).</summary>
    public Tensor? InverseFrequencies { get; init; }
}
