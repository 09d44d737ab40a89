using NativeModels.Interop;

namespace NativeModels.Tests.Interop;

public class NativeStatusTests
{
    [Fact]
    public void OkDoesNotThrow() => NativeStatus.Check(0);

    [Theory]
    [InlineData(NmStatus.InvalidArgument, typeof(NativeArgumentException))]
    [InlineData(NmStatus.Shape, typeof(ShapeMismatchException))]
    [InlineData(NmStatus.DType, typeof(DTypeMismatchException))]
    [InlineData(NmStatus.Device, typeof(DeviceMismatchException))]
    [InlineData(NmStatus.OutOfMemory, typeof(NativeOutOfMemoryException))]
    [InlineData(NmStatus.BackendUnavailable, typeof(BackendUnavailableException))]
    [InlineData(NmStatus.Cuda, typeof(CudaException))]
    [InlineData(NmStatus.Internal, typeof(NativeException))]
    [InlineData((NmStatus)42, typeof(NativeException))]
    public void EachStatusMapsToItsException(NmStatus status, Type expected)
    {
        var e = Assert.ThrowsAny<NativeException>(() => NativeStatus.Check((int)status));
        Assert.Equal(expected, e.GetType());
        Assert.Equal(status, e.Status);
        Assert.IsAssignableFrom<NativeModelsException>(e);
        Assert.Contains(NativeStatus.Name(status), e.Message);
    }

    [Fact]
    public void ExceptionCarriesTheNativeMessage()
    {
        // nm_context_create with a bad spec fails with a message naming the problem.
        var e = Assert.ThrowsAny<NativeException>(() => Device.Create("quantum:7"));
        Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
        Assert.Contains(e.NativeMessage, e.Message);
    }
}
