namespace NativeModels.Interop;

/// <summary>Constants of the C ABI these bindings were written against (nativemodels.h).</summary>
public static class NativeAbi
{
    /// <summary>NM_ABI_VERSION: the loaded library must report exactly this from nm_abi_version().</summary>
    public const uint Version = 1;

    /// <summary>The name used in every [LibraryImport]; the resolver maps it to a file.</summary>
    public const string LibraryName = "nativemodels";

    /// <summary>NM_MAX_DIMS.</summary>
    public const int MaxDims = 8;
}
