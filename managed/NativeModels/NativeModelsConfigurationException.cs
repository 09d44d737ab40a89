using NativeModels.Interop;

namespace NativeModels;

/// <summary>A configuration value (file, environment, command line) is invalid; the message names the key.</summary>
public sealed class NativeModelsConfigurationException : NativeModelsException
{
    public NativeModelsConfigurationException(string key, string message) : base($"{key}: {message}") => Key = key;

    /// <summary>The configuration key, e.g. "NativeModels:Backend".</summary>
    public string Key { get; }
}
