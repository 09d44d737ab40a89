namespace NativeModels.Interop;

/// <summary>
/// libnativemodels could not be loaded from any candidate location. The message lists every
/// path tried with the operating system's reason. A DllNotFoundException, as the runtime would throw.
/// </summary>
public sealed class NativeLibraryLoadException : DllNotFoundException
{
    public NativeLibraryLoadException(IReadOnlyList<NativeLibraryLoadAttempt> attempts)
        : base(FormatMessage(attempts))
    {
        Attempts = attempts;
    }

    /// <summary>Every location tried, in order.</summary>
    public IReadOnlyList<NativeLibraryLoadAttempt> Attempts { get; }

    private static string FormatMessage(IReadOnlyList<NativeLibraryLoadAttempt> attempts)
    {
        var text = new System.Text.StringBuilder();
        text.Append("could not load the native library '").Append(NativeAbi.LibraryName)
            .Append("'; set NATIVEMODELS_LIBRARY_PATH to the file or its directory. Tried:");
        foreach (var attempt in attempts)
        {
            text.AppendLine().Append("  ").Append(attempt.Path).Append(" (").Append(attempt.Source).Append("): ").Append(attempt.Error);
        }
        return text.ToString();
    }
}

/// <summary>One failed attempt of the resolver: what it tried, why, and the OS error.</summary>
public sealed record NativeLibraryLoadAttempt(string Path, string Source, string Error);
