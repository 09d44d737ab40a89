namespace NativeModels;

/// <summary>Activation fused into the causal conv1d operators; values match nm_activation.</summary>
public enum Activation
{
    None = 0,
    Silu = 1,
}
