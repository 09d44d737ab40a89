using System.Reflection;
using System.Runtime.InteropServices;

namespace NativeModels.Interop;

/// <summary>
/// Finds and loads libnativemodels for every [LibraryImport("nativemodels")] of this assembly.
/// An explicit path (<see cref="Configure"/>, else NATIVEMODELS_LIBRARY_PATH; a file or a directory) is the
/// only place tried when given: a wrong path is an error, never a silent fallback to another copy. Without
/// one: AppContext.BaseDirectory, runtimes/&lt;rid&gt;/native/ under it, then the OS search.
/// A library that loads must report ABI <see cref="NativeAbi.Version"/>.
/// </summary>
public static unsafe class NativeLibraryResolver
{
    /// <summary>Environment variable naming the library file or the directory holding it.</summary>
    public const string PathEnvironmentVariable = "NATIVEMODELS_LIBRARY_PATH";

    private static readonly Lock Sync = new();
    private static bool _registered;
    private static string? _configuredPath;
    private static IntPtr _handle;

    /// <summary>The file the library was loaded from, or null before it is loaded
    /// (the OS search reports only the file name it searched for).</summary>
    public static string? LoadedPath { get; private set; }

    /// <summary>The file name of the library on this OS (libnativemodels.so, libnativemodels.dylib, nativemodels.dll).</summary>
    public static string PlatformFileName =>
        OperatingSystem.IsWindows() ? $"{NativeAbi.LibraryName}.dll"
        : OperatingSystem.IsMacOS() ? $"lib{NativeAbi.LibraryName}.dylib"
        : $"lib{NativeAbi.LibraryName}.so";

    /// <summary>
    /// Sets the explicit library path (file or directory); null keeps the environment variable / default search.
    /// Must happen before the first native call: the library cannot be swapped once loaded
    /// (<see cref="NativeModelsException"/> then, unless it names the library already in use).
    /// </summary>
    public static void Configure(string? path)
    {
        EnsureRegistered();
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }
        string full = Path.GetFullPath(path);
        lock (Sync)
        {
            // Switching after the load would be silently ignored; say so instead.
            if (_handle != IntPtr.Zero && full != _configuredPath && !IsSameLibrary(full))
            {
                throw new NativeModelsException(
                    $"the native library is already loaded from {LoadedPath}; cannot switch to {full} (set the path before the first native call)");
            }
            _configuredPath = full;
        }
    }

    /// <summary>Installs the DllImport resolver for the Interop assembly (once; later calls do nothing).</summary>
    public static void EnsureRegistered()
    {
        lock (Sync)
        {
            if (_registered)
            {
                return;
            }
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
            _registered = true;
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeAbi.LibraryName)
        {
            return IntPtr.Zero;
        }
        lock (Sync)
        {
            if (_handle == IntPtr.Zero)
            {
                string? explicitPath = _configuredPath ?? Environment.GetEnvironmentVariable(PathEnvironmentVariable);
                _handle = Load(explicitPath, AppContext.BaseDirectory, useDefaultSearch: true, out string loadedFrom);
                LoadedPath = loadedFrom;
            }
            return _handle;
        }
    }

    /// <summary>
    /// The probing logic on its own: tries each candidate in order, checks the ABI of the first that loads.
    /// Throws <see cref="NativeLibraryLoadException"/> listing every attempt when none loads, or
    /// <see cref="NativeAbiMismatchException"/> when the library found has another ABI.
    /// </summary>
    public static IntPtr Load(string? explicitPath, string baseDirectory, bool useDefaultSearch, out string loadedFrom)
    {
        var attempts = new List<NativeLibraryLoadAttempt>();
        foreach (var (candidate, source) in Candidates(explicitPath, baseDirectory, useDefaultSearch))
        {
            IntPtr handle;
            try
            {
                // NativeLibrary.Load (not TryLoad) so the OS's reason (dlerror) is kept.
                handle = NativeLibrary.Load(candidate);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                attempts.Add(new NativeLibraryLoadAttempt(candidate, source, OsReason(e.Message)));
                continue;
            }
            CheckAbi(handle, candidate);
            loadedFrom = candidate;
            return handle;
        }
        throw new NativeLibraryLoadException(attempts);
    }

    /// <summary>The locations <see cref="Load"/> tries, in order, with where each comes from.</summary>
    public static IEnumerable<(string Path, string Source)> Candidates(string? explicitPath, string baseDirectory, bool useDefaultSearch)
    {
        string fileName = PlatformFileName;
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            string full = Path.GetFullPath(explicitPath);
            yield return (Directory.Exists(full) ? Path.Combine(full, fileName) : full,
                $"explicit path (NativeModels:NativeLibraryPath or {PathEnvironmentVariable})");
            yield break;
        }
        if (!string.IsNullOrEmpty(baseDirectory))
        {
            yield return (Path.Combine(baseDirectory, fileName), "application directory");
            foreach (string rid in RuntimeIdentifiers())
            {
                yield return (Path.Combine(baseDirectory, "runtimes", rid, "native", fileName), $"runtimes/{rid}/native");
            }
        }
        if (useDefaultSearch)
        {
            yield return (fileName, "operating system search");
        }
    }

    // The RID the host reports (may be distro-specific) and the portable one, without duplicates.
    private static IEnumerable<string> RuntimeIdentifiers()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string portable = $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        string current = RuntimeInformation.RuntimeIdentifier;
        yield return current;
        if (!string.Equals(current, portable, StringComparison.OrdinalIgnoreCase))
        {
            yield return portable;
        }
    }

    // The runtime's message is generic advice followed by the OS error (dlerror) on its last line: keep that line.
    private static string OsReason(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message : lines[^1];
    }

    private static void CheckAbi(IntPtr handle, string path)
    {
        if (!NativeLibrary.TryGetExport(handle, "nm_abi_version", out IntPtr export))
        {
            NativeLibrary.Free(handle);
            throw new NativeLibraryLoadException([new NativeLibraryLoadAttempt(path, "loaded", "the library does not export nm_abi_version; it is not libnativemodels")]);
        }
        uint version = ((delegate* unmanaged<uint>)export)();
        if (version != NativeAbi.Version)
        {
            NativeLibrary.Free(handle);
            throw new NativeAbiMismatchException(path, version);
        }
    }

    private static bool IsSameLibrary(string path)
    {
        string candidate = Directory.Exists(path) ? Path.Combine(path, PlatformFileName) : path;
        return LoadedPath is not null && string.Equals(Path.GetFullPath(candidate), Path.GetFullPath(LoadedPath), StringComparison.Ordinal);
    }
}
