using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Tensors;

public class TensorValidationTests : CpuTest
{
    [Fact]
    public void WrongElementTypeIsAnArgumentException()
    {
        using var t = Cpu.Zeros(DType.BFloat16, 4);
        var e = Assert.Throws<ArgumentException>(() => t.CopyFrom(new float[4]));
        Assert.Contains("bfloat16", e.Message);
        Assert.Throws<ArgumentException>(() => t.ToArray<float>());
        Assert.Throws<ArgumentException>(() => t.CopyTo(new Half[4]));
    }

    [Fact]
    public void WrongLengthIsAnArgumentException()
    {
        using var t = Cpu.Zeros(DType.Float32, 2, 3);
        var e = Assert.Throws<ArgumentException>(() => t.CopyFrom(new float[5]));
        Assert.Contains("6", e.Message);
        Assert.Throws<ArgumentException>(() => t.CopyTo(new float[7]));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(Cpu, new float[5], 2, 3));
    }

    [Fact]
    public void UnsupportedElementTypeIsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(Cpu, new double[2]));

    [Theory]
    [InlineData(new long[] { 2, 0 })]
    [InlineData(new long[] { -1, 3 })]
    public void NonPositiveDimensionIsANativeShapeError(long[] shape)
    {
        var e = Assert.ThrowsAny<NativeException>(() => Cpu.Zeros(DType.Float32, shape));
        Assert.True(e is ShapeMismatchException or NativeArgumentException, $"unexpected {e.GetType().Name}: {e.Message}");
        Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
    }

    [Fact]
    public void TooManyDimensionsIsANativeError() =>
        Assert.ThrowsAny<NativeException>(() => Cpu.Zeros(DType.Float32, 1, 1, 1, 1, 1, 1, 1, 1, 1));

    [Fact]
    public void UsingADisposedTensorThrowsObjectDisposed()
    {
        var t = Cpu.Zeros(DType.Float32, 2);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.ToArray<float>());
    }
}
