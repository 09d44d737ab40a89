namespace NativeModels.Tests.Tensors;

/// <summary>A tensor keeps its context alive: any dispose or finalization order is safe.</summary>
public class DisposeOrderTests
{
    [Fact]
    public void DisposingTheDeviceBeforeItsTensorIsSafe()
    {
        var device = Device.Create("cpu");
        var tensor = Tensor.FromArray(device, [1f, 2f, 3f]);
        device.Dispose();
        // The context is still alive underneath the tensor.
        Assert.Equal([1f, 2f, 3f], tensor.ToArray<float>());
        tensor.Dispose();
        tensor.Dispose();
        device.Dispose();
    }

    [Fact]
    public void NewTensorsOnADisposedDeviceAreRefused()
    {
        var device = Device.Create("cpu");
        device.Dispose();
        Assert.Throws<ObjectDisposedException>(() => device.Zeros(DType.Float32, 2));
    }

    [Fact]
    public void FinalizersInAnyOrderAreSafe()
    {
        CreateGarbage();
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private static void CreateGarbage()
    {
        for (int i = 0; i < 20; i++)
        {
            var device = Device.Create("cpu");
            for (int j = 0; j < 5; j++)
            {
                _ = device.Zeros(DType.Float32, 16);
            }
        }
    }
}
