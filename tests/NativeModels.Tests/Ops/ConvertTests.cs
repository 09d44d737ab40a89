using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class ConvertTests : CpuTest
{
    [Fact]
    public void Float32ToBFloat16AndBackRoundsToNearestEven()
    {
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: even → 1. 1 + 3·2^-8 is halfway too: even → 1 + 2^-6.
        float[] data = [1f, 1.00390625f, 1.01171875f, -2.5f, 3.14159265f, 1e-3f, 65504f];
        using var f32 = F32(data, data.Length);
        using var bf16 = NativeModels.Ops.Convert(f32, DType.BFloat16);
        using var back = NativeModels.Ops.Convert(bf16, DType.Float32);
        float[] roundTripped = back.ToArray<float>();

        Assert.Equal(1f, roundTripped[1]);
        Assert.Equal(1.015625f, roundTripped[2]);
        Assert.Equal(data.Select(v => (float)(BFloat16)v).ToArray(), roundTripped);
        // The managed BFloat16 conversion agrees bit for bit with the native one.
        Assert.Equal(data.Select(v => (BFloat16)v).ToArray(), bf16.ToArray<BFloat16>());
    }

    [Fact]
    public void Float32ToFloat16MatchesHalf()
    {
        float[] data = [1f, 0.1f, -65504f, 1e-5f, 2049f];
        using var f32 = F32(data, data.Length);
        using var f16 = NativeModels.Ops.Convert(f32, DType.Float16);
        Assert.Equal(data.Select(v => (Half)v).ToArray(), f16.ToArray<Half>());
    }

    [Fact]
    public void DifferentElementCountIsAnError()
    {
        using var f32 = F32([1, 2, 3], 3);
        using var bf16 = Cpu.Zeros(DType.BFloat16, 2);
        Assert.ThrowsAny<NativeModels.Interop.NativeException>(() => NativeModels.Ops.Convert(f32, bf16));
    }
}
