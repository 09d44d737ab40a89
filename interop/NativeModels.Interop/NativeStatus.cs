namespace NativeModels.Interop;

/// <summary>Turns nm_status codes into exceptions.</summary>
public static class NativeStatus
{
    /// <summary>Throws the exception matching <paramref name="status"/> unless it is NM_OK.
    /// Call it right after the native call, on the same thread: it reads nm_last_error().</summary>
    public static void Check(int status)
    {
        if (status != (int)NmStatus.Ok)
        {
            throw CreateException(status);
        }
    }

    /// <summary>The exception for a failed status, carrying the current nm_last_error() text.</summary>
    public static NativeException CreateException(int status)
    {
        string message = NativeMethods.ReadString(NativeMethods.nm_last_error());
        var code = (NmStatus)status;
        return code switch
        {
            NmStatus.InvalidArgument => new NativeArgumentException(code, message),
            NmStatus.Shape => new ShapeMismatchException(code, message),
            NmStatus.DType => new DTypeMismatchException(code, message),
            NmStatus.Device => new DeviceMismatchException(code, message),
            NmStatus.OutOfMemory => new NativeOutOfMemoryException(code, message),
            NmStatus.BackendUnavailable => new BackendUnavailableException(code, message),
            NmStatus.Cuda => new CudaException(code, message),
            _ => new NativeException(code, message),
        };
    }

    /// <summary>The C name of a status ("NM_ERR_SHAPE"), without a native call
    /// (so it can never disturb nm_last_error()).</summary>
    public static string Name(NmStatus status) => status switch
    {
        NmStatus.Ok => "NM_OK",
        NmStatus.InvalidArgument => "NM_ERR_INVALID_ARGUMENT",
        NmStatus.Shape => "NM_ERR_SHAPE",
        NmStatus.DType => "NM_ERR_DTYPE",
        NmStatus.Device => "NM_ERR_DEVICE",
        NmStatus.OutOfMemory => "NM_ERR_OUT_OF_MEMORY",
        NmStatus.BackendUnavailable => "NM_ERR_BACKEND_UNAVAILABLE",
        NmStatus.Cuda => "NM_ERR_CUDA",
        NmStatus.Internal => "NM_ERR_INTERNAL",
        _ => $"nm_status {(int)status}",
    };
}
