using System.Runtime.InteropServices;
using NativeModels.Interop;

namespace NativeModels.Tests.Interop;

/// <summary>Sizes and field offsets of the blittable structs equal the C layout on LP64.</summary>
public class StructLayoutTests
{
    [Fact]
    public void DeviceInfoMatchesC()
    {
        Assert.Equal(320, Marshal.SizeOf<NmDeviceInfo>());
        Assert.Equal(256, (int)Marshal.OffsetOf<NmDeviceInfo>(nameof(NmDeviceInfo.TotalMemoryBytes)));
        Assert.Equal(264, (int)Marshal.OffsetOf<NmDeviceInfo>(nameof(NmDeviceInfo.FreeMemoryBytes)));
        Assert.Equal(272, (int)Marshal.OffsetOf<NmDeviceInfo>(nameof(NmDeviceInfo.ComputeCapabilityMajor)));
        Assert.Equal(288, (int)Marshal.OffsetOf<NmDeviceInfo>(nameof(NmDeviceInfo.RuntimeVersion)));
        Assert.Equal(292, (int)Marshal.OffsetOf<NmDeviceInfo>(nameof(NmDeviceInfo.Reserved)));
    }

    [Fact]
    public void TensorInfoMatchesC()
    {
        Assert.Equal(96, Marshal.SizeOf<NmTensorInfo>());
        Assert.Equal(8, (int)Marshal.OffsetOf<NmTensorInfo>(nameof(NmTensorInfo.Shape)));
        Assert.Equal(72, (int)Marshal.OffsetOf<NmTensorInfo>(nameof(NmTensorInfo.Numel)));
        Assert.Equal(80, (int)Marshal.OffsetOf<NmTensorInfo>(nameof(NmTensorInfo.NBytes)));
        Assert.Equal(88, (int)Marshal.OffsetOf<NmTensorInfo>(nameof(NmTensorInfo.Backend)));
        Assert.Equal(92, (int)Marshal.OffsetOf<NmTensorInfo>(nameof(NmTensorInfo.Device)));
    }

    [Fact]
    public void RopeParamsMatchesC()
    {
        Assert.Equal(24, Marshal.SizeOf<NmRopeParams>());
        Assert.Equal(16, (int)Marshal.OffsetOf<NmRopeParams>(nameof(NmRopeParams.InvFreq)));
    }

    [Fact]
    public void SamplingParamsMatchesC()
    {
        Assert.Equal(12, Marshal.SizeOf<NmSamplingParams>());
        Assert.Equal(8, (int)Marshal.OffsetOf<NmSamplingParams>(nameof(NmSamplingParams.TopP)));
    }

    [Fact]
    public void SsmOptionsMatchesC()
    {
        Assert.Equal(32, Marshal.SizeOf<NmSsmOptions>());
        Assert.Equal(16, (int)Marshal.OffsetOf<NmSsmOptions>(nameof(NmSsmOptions.DeltaBias)));
        Assert.Equal(24, (int)Marshal.OffsetOf<NmSsmOptions>(nameof(NmSsmOptions.DeltaSoftplus)));
    }

    [Fact]
    public void AttentionParamsMatchesC()
    {
        Assert.Equal(16, Marshal.SizeOf<NmAttentionParams>());
        Assert.Equal(12, (int)Marshal.OffsetOf<NmAttentionParams>(nameof(NmAttentionParams.WindowRight)));
    }
}
