using NativeModels.Generation;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Tensors;

/// <summary>Row-level copies, gathers and zeroing (on the device through nm_tensor_copy_bytes / nm_tensor_zero_bytes).</summary>
public class TensorRowsTests : CpuTest
{
    [Fact]
    public void CopyGatherAndZeroRows()
    {
        using var source = F32([1, 2, 3, 4, 5, 6], 3, 2);
        using var destination = Tensor.Zeros(Cpu, DType.Float32, 4, 2);
        TensorRows.Copy(source, 1, destination, 2, 2);
        Assert.Equal([0, 0, 0, 0, 3, 4, 5, 6], destination.ToArray<float>());

        using var gathered = TensorRows.Gather(source, [2, 0, 2]);
        Assert.Equal([3L, 2L], gathered.Shape);
        Assert.Equal([5, 6, 1, 2, 5, 6], gathered.ToArray<float>());

        TensorRows.Zero(destination, 2, 1);
        Assert.Equal([0, 0, 0, 0, 0, 0, 5, 6], destination.ToArray<float>());
    }

    [Fact]
    public void CopiesAcrossDevices()
    {
        using var other = Device.Create("cpu");
        using var source = F32([1, 2, 3, 4], 2, 2);
        using var destination = Tensor.Zeros(other, DType.Float32, 2, 2);
        TensorRows.Copy(source, 1, destination, 0, 1);
        Assert.Equal([3, 4, 0, 0], destination.ToArray<float>());
    }

    [Fact]
    public void BadRowsAreNamed()
    {
        using var source = F32([1, 2, 3, 4], 2, 2);
        using var destination = Tensor.Zeros(Cpu, DType.Float32, 2, 2);
        using var narrow = Tensor.Zeros(Cpu, DType.Float32, 2, 1);
        Assert.Contains("rows [1, 3) are outside [0, 2)",
            Assert.Throws<ArgumentOutOfRangeException>(() => TensorRows.Copy(source, 1, destination, 0, 2)).Message);
        Assert.Contains("rows of 8 and 4 bytes", Assert.Throws<ArgumentException>(() => TensorRows.Copy(source, 0, narrow, 0, 1)).Message);
        Assert.Contains("row 2 is outside [0, 2)", Assert.Throws<ArgumentOutOfRangeException>(() => TensorRows.Gather(source, [0, 2])).Message);
        Assert.Contains("rows [2, 3) are outside [0, 2)", Assert.Throws<ArgumentOutOfRangeException>(() => TensorRows.Zero(source, 2, 1)).Message);
    }
}
