namespace NativeModels.Tests.Support;

/// <summary>Base for tests that run on a fresh CPU device each.</summary>
public abstract class CpuTest : IDisposable
{
    protected CpuTest() => Cpu = Device.Create("cpu");

    protected Device Cpu { get; }

    protected Tensor F32(float[] data, params long[] shape) => Tensor.FromArray(Cpu, data, shape);

    public void Dispose()
    {
        Cpu.Dispose();
        GC.SuppressFinalize(this);
    }
}
