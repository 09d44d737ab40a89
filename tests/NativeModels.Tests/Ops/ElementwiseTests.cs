using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class ElementwiseTests : CpuTest
{
    private static float Silu(float x) => x / (1 + MathF.Exp(-x));

    [Fact]
    public void SiluMatchesTheFormula()
    {
        float[] data = [0, 1, -1, 2, -5];
        using var x = F32(data, 5);
        using var y = NativeModels.Ops.Silu(x);
        TestAssert.Close(data.Select(Silu).ToArray(), y.ToArray<float>());
        Assert.Equal(0.7310586f, y.ToArray<float>()[1], 5);
    }

    [Fact]
    public void GeluExactAndTanh()
    {
        using var x = F32([0, 1, -1], 3);
        using var exact = NativeModels.Ops.Gelu(x);
        TestAssert.Close([0, 0.8413447f, -0.1586553f], exact.ToArray<float>());
        using var approx = NativeModels.Ops.Gelu(x, tanhApproximation: true);
        TestAssert.Close([0, 0.8411920f, -0.1588080f], approx.ToArray<float>());
    }

    [Fact]
    public void SwiGluWithSeparateUp()
    {
        using var gate = F32([1, 2], 1, 2);
        using var up = F32([3, 4], 1, 2);
        using var y = NativeModels.Ops.SwiGlu(gate, up);
        TestAssert.Close([Silu(1) * 3, Silu(2) * 4], y.ToArray<float>());
    }

    [Fact]
    public void SwiGluPacked()
    {
        // Two rows of [gate | up] with F = 2.
        using var packed = F32([1, 2, 3, 4, -1, 0, 5, 6], 2, 4);
        using var y = NativeModels.Ops.SwiGlu(packed, up: null);
        Assert.Equal([2L, 2L], y.Shape);
        TestAssert.Close([Silu(1) * 3, Silu(2) * 4, Silu(-1) * 5, 0], y.ToArray<float>());
    }

    [Fact]
    public void AddBroadcastsASuffixAndAScalar()
    {
        using var a = F32([1, 2, 3, 4, 5, 6], 2, 3);
        using var row = F32([10, 20, 30], 3);
        using var sum = NativeModels.Ops.Add(a, row);
        TestAssert.Close([11, 22, 33, 14, 25, 36], sum.ToArray<float>());

        using var scalar = F32([100], 1);
        using var shifted = NativeModels.Ops.Add(a, scalar);
        TestAssert.Close([101, 102, 103, 104, 105, 106], shifted.ToArray<float>());
    }

    [Fact]
    public void AddInPlace()
    {
        using var a = F32([1, 2], 2);
        using var b = F32([3, 4], 2);
        NativeModels.Ops.Add(a, b, output: a);
        TestAssert.Close([4, 6], a.ToArray<float>());
    }

    [Fact]
    public void MulBroadcasts()
    {
        using var a = F32([1, 2, 3, 4], 2, 2);
        using var b = F32([2, -1], 2);
        using var y = NativeModels.Ops.Mul(a, b);
        TestAssert.Close([2, -2, 6, -4], y.ToArray<float>());
    }

    [Fact]
    public void IncompatibleBroadcastIsAShapeError()
    {
        using var a = F32([1, 2, 3, 4, 5, 6], 2, 3);
        using var b = F32([1, 2], 2);
        Assert.Throws<ShapeMismatchException>(() => NativeModels.Ops.Add(a, b));
    }

    [Fact]
    public void Scale()
    {
        using var x = F32([1, -2, 3], 3);
        using var y = NativeModels.Ops.Scale(x, 0.5f);
        TestAssert.Close([0.5f, -1f, 1.5f], y.ToArray<float>());
    }

    [Fact]
    public void MixedFloatDtypesAccumulateInFloat32()
    {
        using var a = Tensor.FromArray(Cpu, new[] { (Half)1.5f, (Half)2f });
        using var b = Tensor.FromArray(Cpu, new[] { (BFloat16)0.5f, (BFloat16)1f });
        using var y = NativeModels.Ops.Add(a, b, output: Cpu.Zeros(DType.Float32, 2));
        TestAssert.Close([2f, 3f], y.ToArray<float>());
    }

    [Fact]
    public void TensorsOfAnotherDeviceAreRejectedByTheNativeLibrary()
    {
        using var other = Device.Create("cpu");
        using var a = F32([1, 2], 2);
        using var b = Tensor.FromArray(other, [3f, 4f]);
        var e = Assert.Throws<DeviceMismatchException>(() => NativeModels.Ops.Add(a, b));
        Assert.Equal(NmStatus.Device, e.Status);
    }
}
