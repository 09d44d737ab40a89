using NativeModels.Interop;

namespace NativeModels.Tests.Interop;

public class ResolverTests
{
    [Fact]
    public void AWrongExplicitPathIsAnErrorNotAFallback()
    {
        string bogusFile = Path.Combine(Path.GetTempPath(), "nativemodels-no-such-dir", "libnativemodels.so");
        string inUseDirectory = Path.GetDirectoryName(NativeModels.Tests.Support.NativeLibraryLocator.LoadedLibraryPath())!;

        // A loadable library sits in the base directory, yet the explicit path alone is tried.
        var e = Assert.Throws<NativeLibraryLoadException>(() =>
            NativeLibraryResolver.Load(bogusFile, inUseDirectory, useDefaultSearch: false, out _));

        Assert.Single(e.Attempts);
        Assert.Contains(bogusFile, e.Message);
        Assert.Contains(NativeLibraryResolver.PathEnvironmentVariable, e.Message);
    }

    [Fact]
    public void FailureListsEveryPathTriedWithTheOsError()
    {
        string bogusBase = Path.Combine(Path.GetTempPath(), "nativemodels-no-such-base");

        var e = Assert.Throws<NativeLibraryLoadException>(() =>
            NativeLibraryResolver.Load(null, bogusBase, useDefaultSearch: false, out _));

        Assert.IsAssignableFrom<DllNotFoundException>(e);
        Assert.Contains(Path.Combine(bogusBase, NativeLibraryResolver.PlatformFileName), e.Message);
        Assert.Contains(Path.Combine(bogusBase, "runtimes"), e.Message);
        Assert.True(e.Attempts.Count >= 2);  // app directory + runtimes/<rid> (+ the portable rid when different)
        Assert.All(e.Attempts, attempt =>
        {
            Assert.False(string.IsNullOrWhiteSpace(attempt.Error));
            Assert.Contains(attempt.Error, e.Message);
        });
    }

    [Fact]
    public void ExplicitDirectoryMeansTheLibraryFileInIt()
    {
        string directory = Path.GetTempPath();
        var candidates = NativeLibraryResolver.Candidates(directory, "/base", useDefaultSearch: true).ToList();

        Assert.Equal(Path.Combine(Path.GetFullPath(directory), NativeLibraryResolver.PlatformFileName), Assert.Single(candidates).Path);
    }

    [Fact]
    public void WithoutAnExplicitPathTheAppDirectoryRuntimesAndOsSearchAreTried()
    {
        var candidates = NativeLibraryResolver.Candidates(null, "/base", useDefaultSearch: true).ToList();

        Assert.Equal(Path.Combine("/base", NativeLibraryResolver.PlatformFileName), candidates[0].Path);
        Assert.Contains(candidates, c => c.Path.Contains("/base/runtimes/") && c.Path.EndsWith("/native/" + NativeLibraryResolver.PlatformFileName));
        Assert.Equal(NativeLibraryResolver.PlatformFileName, candidates[^1].Path);
    }

    [Fact]
    public void AFileThatIsNotTheLibraryIsReported()
    {
        // A real shared object without nm_abi_version (libc's math library) must be refused, not used.
        string? libm = new[] { "/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6" }
            .FirstOrDefault(File.Exists);
        if (libm is null)
        {
            return;
        }
        var e = Assert.Throws<NativeLibraryLoadException>(() =>
            NativeLibraryResolver.Load(libm, "", useDefaultSearch: false, out _));
        Assert.Contains("nm_abi_version", e.Message);
    }

    [Fact]
    public void LoadsAndChecksTheLibraryInUse()
    {
        // The file the resolver already loaded (next to the tests, or NATIVEMODELS_LIBRARY_PATH): loading it
        // again by its explicit path gives the same handle, and passes the ABI check.
        string inUse = NativeModels.Tests.Support.NativeLibraryLocator.LoadedLibraryPath();
        IntPtr handle = NativeLibraryResolver.Load(inUse, "", useDefaultSearch: false, out string path);
        Assert.NotEqual(IntPtr.Zero, handle);
        Assert.Equal(Path.GetFullPath(inUse), path);
    }
}
