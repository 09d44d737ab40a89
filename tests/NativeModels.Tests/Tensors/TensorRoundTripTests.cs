using NativeModels.Tests.Support;

namespace NativeModels.Tests.Tensors;

public class TensorRoundTripTests : CpuTest
{
    [Fact]
    public void Float32RoundTrips()
    {
        float[] data = [1.5f, -2f, 3.25f, float.MaxValue, float.Epsilon, -0f];
        using var t = Tensor.FromArray(Cpu, data, 2, 3);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal([2L, 3L], t.Shape);
        Assert.Equal(6, t.Numel);
        Assert.Equal(24, t.NBytes);
        Assert.Equal(data, t.ToArray<float>());
    }

    [Fact]
    public void HalfRoundTrips()
    {
        Half[] data = [(Half)1.5f, (Half)(-2f), Half.MaxValue, Half.Epsilon];
        using var t = Tensor.FromArray(Cpu, data);
        Assert.Equal(DType.Float16, t.DType);
        Assert.Equal(8, t.NBytes);
        Assert.Equal(data, t.ToArray<Half>());
        Assert.Equal([1.5f, -2f, 65504f, (float)Half.Epsilon], t.ToFloatArray());
    }

    [Fact]
    public void BFloat16RoundTrips()
    {
        BFloat16[] data = [(BFloat16)1.5f, (BFloat16)(-2f), (BFloat16)3.140625f, BFloat16.FromBits(0x7F7F)];
        using var t = Tensor.FromArray(Cpu, data, 4);
        Assert.Equal(DType.BFloat16, t.DType);
        Assert.Equal(data, t.ToArray<BFloat16>());
        Assert.Equal([1.5f, -2f, 3.140625f, (float)BFloat16.FromBits(0x7F7F)], t.ToFloatArray());
    }

    [Fact]
    public void Int32RoundTrips()
    {
        int[] data = [1, -2, int.MaxValue, int.MinValue, 0, 7];
        using var t = Tensor.FromArray(Cpu, data, 3, 2);
        Assert.Equal(DType.Int32, t.DType);
        Assert.Equal(data, t.ToArray<int>());
        Assert.Throws<InvalidOperationException>(() => t.ToFloatArray());
    }

    [Fact]
    public void ZerosAreZeroAndZeroClears()
    {
        using var t = Cpu.Zeros(DType.Float32, 2, 2);
        Assert.Equal(new float[4], t.ToArray<float>());
        t.CopyFrom(new float[] { 1, 2, 3, 4 });
        t.Zero();
        Assert.Equal(new float[4], t.ToArray<float>());
    }

    [Fact]
    public void ReshapeKeepsDataAndChecksCount()
    {
        using var t = F32([1, 2, 3, 4, 5, 6], 2, 3);
        t.Reshape(3, 2);
        Assert.Equal([3L, 2L], t.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.ToArray<float>());
        Assert.ThrowsAny<NativeModels.Interop.NativeException>(() => t.Reshape(4, 2));
    }

    [Fact]
    public void CopyFromTensorCopies()
    {
        using var source = F32([1, 2, 3], 3);
        using var destination = Cpu.Zeros(DType.Float32, 3);
        destination.CopyFrom(source);
        Assert.Equal([1f, 2, 3], destination.ToArray<float>());
    }

    [Fact]
    public void CopyFromTensorOfAnotherDeviceWorks()
    {
        using var other = Device.Create("cpu");
        using var source = Tensor.FromArray(other, [4f, 5f]);
        using var destination = Cpu.Zeros(DType.Float32, 2);
        destination.CopyFrom(source);
        Assert.Equal([4f, 5f], destination.ToArray<float>());
    }

    [Fact]
    public void MemoryAccountingSeesTensors()
    {
        ulong before = Cpu.MemoryInUse;
        using (var t = Cpu.Zeros(DType.Float32, 1024))
        {
            Assert.True(Cpu.MemoryInUse >= before + 4096);
        }
        Assert.Equal(before, Cpu.MemoryInUse);
        Assert.True(Cpu.PeakMemory >= before + 4096);
    }

    [Fact]
    public void CpuDeviceReportsItsBackend()
    {
        Assert.Equal(BackendKind.Cpu, Cpu.Backend);
        Assert.Equal(0, Cpu.Index);
        Assert.Equal("cpu", Cpu.ToString());
        Cpu.Synchronize();
    }
}
