namespace NativeModels;

/// <summary>Compute backend; values match nm_backend_kind.</summary>
public enum BackendKind
{
    Cpu = 0,
    Cuda = 1,
}
