namespace NativeModels.Interop;

/// <summary>nm_status.</summary>
public enum NmStatus
{
    Ok = 0,
    InvalidArgument = 1,
    Shape = 2,
    DType = 3,
    Device = 4,
    OutOfMemory = 5,
    BackendUnavailable = 6,
    Cuda = 7,
    Internal = 8,
}

/// <summary>nm_dtype.</summary>
public enum NmDType
{
    F32 = 0,
    F16 = 1,
    BF16 = 2,
    I32 = 3,
}

/// <summary>nm_backend_kind.</summary>
public enum NmBackendKind
{
    Cpu = 0,
    Cuda = 1,
}

/// <summary>nm_activation.</summary>
public enum NmActivation
{
    None = 0,
    Silu = 1,
}
