namespace NativeModels;

/// <summary>Optional inputs of the selective scan and the selective state update (nm_ssm_options).
/// Tensors must live on the device the operator runs on.</summary>
public sealed record SsmOptions
{
    /// <summary>[D] or null: y += DSkip[d] * u (Mamba's D).</summary>
    public Tensor? DSkip { get; init; }

    /// <summary>Gate shaped like u ([B, L, D] for the scan, [B, D] for the update) or null: y *= silu(z).</summary>
    public Tensor? Z { get; init; }

    /// <summary>[D] or null: added to delta before the softplus (Mamba's dt_proj.bias).</summary>
    public Tensor? DeltaBias { get; init; }

    /// <summary>delta = softplus(delta + DeltaBias) = log1p(exp(.)), identity above 20.</summary>
    public bool DeltaSoftplus { get; init; }
}
