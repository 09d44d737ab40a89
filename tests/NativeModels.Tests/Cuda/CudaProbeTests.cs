using NativeModels.Interop;

namespace NativeModels.Tests.Cuda;

public class CudaProbeTests
{
    [Fact]
    public void ProbeReportsAvailabilityOrAReason()
    {
        var probe = Device.Probe(BackendKind.Cuda);
        if (probe.Available)
        {
            Assert.True(probe.DeviceCount >= 1);
        }
        else
        {
            Assert.Equal(0, probe.DeviceCount);
            Assert.False(string.IsNullOrWhiteSpace(probe.Reason));
            Assert.Empty(Device.GetCudaDevices());
            Assert.Throws<BackendUnavailableException>(() => Device.Create("cuda"));
        }
    }

    [Fact]
    public void CpuIsAlwaysAvailable()
    {
        var probe = Device.Probe(BackendKind.Cpu);
        Assert.True(probe.Available, probe.Reason);
        Assert.Equal(1, probe.DeviceCount);
        Assert.True(Device.CpuThreads >= 1);
    }

    [Fact]
    public void CudaVersionsAreFormattedAsMajorMinor()
    {
        Assert.Equal("12.4", CudaDeviceInfo.FormatCudaVersion(12040));
        Assert.Equal("11.8", CudaDeviceInfo.FormatCudaVersion(11080));
        Assert.Equal("13.0", CudaDeviceInfo.FormatCudaVersion(13000));
    }

    [CudaFact]
    public void DevicesHaveNamesMemoryAndVersions()
    {
        var devices = Device.GetCudaDevices();
        Assert.NotEmpty(devices);
        foreach (var gpu in devices)
        {
            Assert.False(string.IsNullOrWhiteSpace(gpu.Name));
            Assert.True(gpu.TotalMemory > 0);
            Assert.True(gpu.FreeMemory <= gpu.TotalMemory);
            Assert.True(gpu.ComputeCapability.Major >= 3);
            Assert.True(gpu.MultiprocessorCount > 0);
            Assert.True(gpu.DriverVersion >= 10000);
            Assert.True(gpu.RuntimeVersion >= 10000);
        }
    }
}
