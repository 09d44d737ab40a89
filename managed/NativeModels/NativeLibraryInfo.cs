using NativeModels.Interop;

namespace NativeModels;

/// <summary>What the loaded native library reports about itself.</summary>
public static class NativeLibraryInfo
{
    /// <summary>nm_version(): "MAJOR.MINOR.PATCH".</summary>
    public static string Version => NativeMethods.ReadString(NativeMethods.nm_version());

    /// <summary>nm_abi_version() (the resolver has already checked it equals <see cref="NativeAbi.Version"/>).</summary>
    public static uint AbiVersion => NativeMethods.nm_abi_version();

    /// <summary>nm_build_info(): compiler, BLAS, CUDA version and architectures.</summary>
    public static string BuildInfo => NativeMethods.ReadString(NativeMethods.nm_build_info());

    /// <summary>The file the library was loaded from (after the first native call).</summary>
    public static string? LoadedPath => NativeLibraryResolver.LoadedPath;

    /// <summary>Sets the library file or directory to load; call before any other native call.</summary>
    public static void Configure(string? path) => NativeLibraryResolver.Configure(path);
}
