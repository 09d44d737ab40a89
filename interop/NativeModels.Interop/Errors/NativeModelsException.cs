namespace NativeModels.Interop;

/// <summary>Base of every error NativeModels raises itself, so callers can catch them all at once.</summary>
public class NativeModelsException : Exception
{
    public NativeModelsException(string message) : base(message) { }

    public NativeModelsException(string message, Exception? innerException) : base(message, innerException) { }
}
