namespace NativeModels.Interop;

/// <summary>The loaded library reports an ABI version other than <see cref="NativeAbi.Version"/>.</summary>
public sealed class NativeAbiMismatchException : NativeModelsException
{
    public NativeAbiMismatchException(string libraryPath, uint actualVersion)
        : base($"native library at {libraryPath} has ABI {actualVersion}, these bindings need {NativeAbi.Version}")
    {
        LibraryPath = libraryPath;
        ActualVersion = actualVersion;
    }

    public string LibraryPath { get; }

    public uint ActualVersion { get; }
}
