namespace NativeModels.Interop;

/// <summary>
/// A native call returned a status other than NM_OK. Subclasses name the common statuses;
/// this class itself is used for NM_ERR_INTERNAL and unknown codes.
/// </summary>
public class NativeException : NativeModelsException
{
    public NativeException(NmStatus status, string nativeMessage)
        : base(FormatMessage(status, nativeMessage))
    {
        Status = status;
        NativeMessage = nativeMessage;
    }

    /// <summary>The nm_status the call returned.</summary>
    public NmStatus Status { get; }

    /// <summary>The text of nm_last_error() right after the failing call.</summary>
    public string NativeMessage { get; }

    private static string FormatMessage(NmStatus status, string nativeMessage)
    {
        string text = string.IsNullOrEmpty(nativeMessage) ? "native call failed without a message" : nativeMessage;
        return $"{text} ({NativeStatus.Name(status)})";
    }
}

/// <summary>NM_ERR_INVALID_ARGUMENT: a NULL pointer, a bad enum or parameter value.</summary>
public sealed class NativeArgumentException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);

/// <summary>NM_ERR_SHAPE: tensor shapes that do not fit together.</summary>
public sealed class ShapeMismatchException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);

/// <summary>NM_ERR_DTYPE: an unsupported or mismatched data type.</summary>
public sealed class DTypeMismatchException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);

/// <summary>NM_ERR_DEVICE: a tensor from another context or backend.</summary>
public sealed class DeviceMismatchException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);

/// <summary>NM_ERR_OUT_OF_MEMORY (host or device memory).</summary>
public sealed class NativeOutOfMemoryException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);

/// <summary>NM_ERR_BACKEND_UNAVAILABLE: backend not built, or its driver/GPU/library is missing.</summary>
public sealed class BackendUnavailableException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);

/// <summary>NM_ERR_CUDA: a CUDA or cuBLAS call failed.</summary>
public sealed class CudaException(NmStatus status, string nativeMessage) : NativeException(status, nativeMessage);
