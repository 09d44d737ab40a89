using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class RopeTests : CpuTest
{
    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => 0.25f * i - 1f).ToArray();

    [Fact]
    public void PositionZeroIsTheIdentity()
    {
        // [tokens = 2, heads = 2, head_dim = 4]
        float[] data = Ramp(16);
        using var x = F32(data, 2, 2, 4);
        using var y = NativeModels.Ops.Rope(x, [0, 0], new RopeOptions());
        TestAssert.Close(data, y.ToArray<float>());

        using var g = NativeModels.Ops.Rope(x, [0, 0], new RopeOptions { Interleaved = true });
        TestAssert.Close(data, g.ToArray<float>());
    }

    [Fact]
    public void RotatesNeoXPairsByPositionTimesFrequency()
    {
        // head_dim 4: pairs (0, 2) at inv_freq 1 and (1, 3) at inv_freq theta^(-1/2) = 0.01.
        using var x = F32([1, 1, 0, 0], 1, 1, 4);
        using var y = NativeModels.Ops.Rope(x, [3], new RopeOptions { Theta = 10000f });
        float a0 = 3f, a1 = 3f * 0.01f;
        TestAssert.Close([MathF.Cos(a0), MathF.Cos(a1), MathF.Sin(a0), MathF.Sin(a1)], y.ToArray<float>(), 1e-4f);
    }

    [Fact]
    public void RotatesInterleavedPairs()
    {
        using var x = F32([1, 0, 1, 0], 1, 1, 4);
        using var y = NativeModels.Ops.Rope(x, [3], new RopeOptions { Theta = 10000f, Interleaved = true });
        float a0 = 3f, a1 = 3f * 0.01f;
        TestAssert.Close([MathF.Cos(a0), MathF.Sin(a0), MathF.Cos(a1), MathF.Sin(a1)], y.ToArray<float>(), 1e-4f);
    }

    [Fact]
    public void PartialRotaryDimCopiesTheRest()
    {
        using var x = F32([1, 0, 5, 6], 1, 1, 4);
        using var y = NativeModels.Ops.Rope(x, [1], new RopeOptions { RotaryDim = 2 });
        TestAssert.Close([MathF.Cos(1), MathF.Sin(1), 5, 6], y.ToArray<float>(), 1e-4f);
    }

    [Fact]
    public void ExplicitInverseFrequenciesAndScaling()
    {
        using var x = F32([1, 0], 1, 1, 2);
        using var invFreq = F32([0.5f], 1);
        using var y = NativeModels.Ops.Rope(x, [2], new RopeOptions { InverseFrequencies = invFreq, AttentionScaling = 2f });
        TestAssert.Close([2 * MathF.Cos(1), 2 * MathF.Sin(1)], y.ToArray<float>(), 1e-4f);
    }
}
