using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class NormalizationTests : CpuTest
{
    // rmsnorm([3, 4]): mean of squares 12.5, so x / sqrt(12.5).
    private static readonly float Rms = MathF.Sqrt(12.5f);
    private static readonly float[] Normalized = [3 / Rms, 4 / Rms];
    private const float Silu1 = 0.7310585786f;

    [Fact]
    public void RmsNormWithoutWeight()
    {
        using var x = F32([3, 4], 1, 2);
        using var y = NativeModels.Ops.RmsNorm(x, weight: null, eps: 0f);
        TestAssert.Close(Normalized, y.ToArray<float>());
    }

    [Fact]
    public void RmsNormWithWeightAndZeroCenteredWeight()
    {
        using var x = F32([3, 4, 3, 4], 2, 2);
        using var w = F32([2, 0.5f], 2);
        using var y = NativeModels.Ops.RmsNorm(x, w, eps: 0f);
        float[] expected = [2 * Normalized[0], 0.5f * Normalized[1], 2 * Normalized[0], 0.5f * Normalized[1]];
        TestAssert.Close(expected, y.ToArray<float>());

        using var centered = F32([1, -0.5f], 2);
        using var z = NativeModels.Ops.RmsNorm(x, centered, eps: 0f, zeroCentered: true);
        TestAssert.Close(expected, z.ToArray<float>());
    }

    [Fact]
    public void RmsNormInPlace()
    {
        using var x = F32([3, 4], 2);
        NativeModels.Ops.RmsNorm(x, null, eps: 0f, output: x);
        TestAssert.Close(Normalized, x.ToArray<float>());
    }

    [Fact]
    public void RmsNormGatedAfterAndBeforeNorm()
    {
        using var x = F32([3, 4], 1, 2);
        using var z = F32([1, 1], 1, 2);
        using var after = NativeModels.Ops.RmsNormGated(x, z, weight: null, eps: 0f);
        TestAssert.Close([Normalized[0] * Silu1, Normalized[1] * Silu1], after.ToArray<float>());

        // Gating first multiplies x by a constant, which the norm removes.
        using var before = NativeModels.Ops.RmsNormGated(x, z, weight: null, eps: 0f, gateBeforeNorm: true);
        TestAssert.Close(Normalized, before.ToArray<float>());
    }

    [Fact]
    public void RmsNormGatedOverGroups()
    {
        using var x = F32([3, 4, 30, 40], 1, 4);
        using var z = F32([1, 1, 1, 1], 1, 4);
        using var w = F32([1, 1, 2, 2], 4);
        using var y = NativeModels.Ops.RmsNormGated(x, z, w, eps: 0f, groupSize: 2, gateBeforeNorm: true);
        TestAssert.Close([Normalized[0], Normalized[1], 2 * Normalized[0], 2 * Normalized[1]], y.ToArray<float>());
    }

    [Fact]
    public void L2Norm()
    {
        using var x = F32([3, 4, 0, 2], 2, 2);
        using var y = NativeModels.Ops.L2Norm(x, eps: 0f);
        TestAssert.Close([0.6f, 0.8f, 0f, 1f], y.ToArray<float>());
    }

    [Fact]
    public void SoftmaxOverTheLastDim()
    {
        using var x = F32([1, 2, 3, 0, 0, 0], 2, 3);
        using var y = NativeModels.Ops.Softmax(x);
        float sum = 1 + MathF.E + MathF.E * MathF.E;
        TestAssert.Close([1 / sum, MathF.E / sum, MathF.E * MathF.E / sum, 1 / 3f, 1 / 3f, 1 / 3f], y.ToArray<float>());
    }

    [Fact]
    public void SoftmaxAppliesTheScaleFirst()
    {
        using var x = F32([0, MathF.Log(2) / 2], 2);
        using var y = NativeModels.Ops.Softmax(x, scale: 2f);
        TestAssert.Close([1 / 3f, 2 / 3f], y.ToArray<float>());
    }
}
