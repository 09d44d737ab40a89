using NativeModels.Interop;

namespace NativeModels;

/// <summary>Properties of one CUDA GPU (nm_device_info).</summary>
public sealed record CudaDeviceInfo(
    int Index,
    string Name,
    ulong TotalMemory,
    ulong FreeMemory,
    Version ComputeCapability,
    int MultiprocessorCount,
    int DriverVersion,
    int RuntimeVersion)
{
    /// <summary>The driver's CUDA version as "major.minor" (12040 → "12.4").</summary>
    public string DriverVersionText => FormatCudaVersion(DriverVersion);

    /// <summary>The CUDA runtime the backend was built with, as "major.minor".</summary>
    public string RuntimeVersionText => FormatCudaVersion(RuntimeVersion);

    /// <summary>Formats CUDA's encoded version (1000 * major + 10 * minor): 12040 → "12.4".</summary>
    public static string FormatCudaVersion(int version) =>
        version <= 0 ? "unknown" : $"{version / 1000}.{version % 1000 / 10}";

    internal static CudaDeviceInfo FromNative(int index, in NmDeviceInfo info) => new(
        index,
        info.GetName(),
        info.TotalMemoryBytes,
        info.FreeMemoryBytes,
        new Version(info.ComputeCapabilityMajor, info.ComputeCapabilityMinor),
        info.MultiprocessorCount,
        info.DriverVersion,
        info.RuntimeVersion);
}
