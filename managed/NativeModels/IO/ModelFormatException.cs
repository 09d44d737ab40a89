using NativeModels.Interop;

namespace NativeModels.IO;

/// <summary>
/// A model file (safetensors, index, config.json, tokenizer.json) is missing, malformed or does not fit
/// what the model needs. The message always names the file and, where there is one, the tensor or key.
/// </summary>
public class ModelFormatException : NativeModelsException
{
    public ModelFormatException(string filePath, string? key, string message)
        : base(message)
    {
        FilePath = filePath;
        Key = key;
    }

    public ModelFormatException(string filePath, string? key, string message, Exception? innerException)
        : base(message, innerException)
    {
        FilePath = filePath;
        Key = key;
    }

    /// <summary>The file (or folder) the problem was found in.</summary>
    public string FilePath { get; }

    /// <summary>The tensor name or configuration key concerned, when there is one.</summary>
    public string? Key { get; }
}
