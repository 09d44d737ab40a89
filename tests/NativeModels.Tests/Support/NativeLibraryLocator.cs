using NativeModels.Interop;

namespace NativeModels.Tests.Support;

/// <summary>The file of the native library the tests run against.</summary>
public static class NativeLibraryLocator
{
    public static string LoadedLibraryPath()
    {
        // Any native call makes the resolver load the library and record where from.
        _ = NativeMethods.nm_abi_version();
        string path = NativeLibraryResolver.LoadedPath ?? Path.Combine(AppContext.BaseDirectory, NativeLibraryResolver.PlatformFileName);
        Assert.True(File.Exists(path), $"native library file {path} not found");
        return path;
    }
}
