using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class SampleTests : CpuTest
{
    [Fact]
    public void GreedyTiesGoToTheLowestIndex()
    {
        using var logits = F32([1, 3, 3, 2, 0, 5, 5, 5], 2, 4);
        Assert.Equal([1, 1], NativeModels.Ops.Sample(logits, SamplingOptions.Greedy));
    }

    [Fact]
    public void OneDimensionalLogitsGiveOneToken()
    {
        using var logits = F32([0, 2, 1], 3);
        Assert.Equal([1], NativeModels.Ops.Sample(logits, SamplingOptions.Greedy));
    }

    [Fact]
    public void SameSeedAndStepGiveTheSameTokens()
    {
        using var logits = F32(ReferenceSampler.RandomLogits(8 * 64, 1), 8, 64);
        var options = new SamplingOptions { Temperature = 1f };
        Assert.Equal(NativeModels.Ops.Sample(logits, options, seed: 42, step: 3), NativeModels.Ops.Sample(logits, options, seed: 42, step: 3));
    }

    [Fact]
    public void DifferentSeedsDifferAcrossManyDraws()
    {
        using var logits = F32(new float[32], 32);
        var options = new SamplingOptions { Temperature = 1f };
        var tokens = Enumerable.Range(0, 64).Select(seed => NativeModels.Ops.Sample(logits, options, (ulong)seed)[0]).ToHashSet();
        Assert.True(tokens.Count > 8, $"64 seeds over 32 equally likely tokens gave only {tokens.Count} distinct tokens");
    }

    [Fact]
    public void TopKOfOneIsGreedy()
    {
        using var logits = F32(ReferenceSampler.RandomLogits(4 * 50, 2), 4, 50);
        int[] greedy = NativeModels.Ops.Sample(logits, SamplingOptions.Greedy);
        for (ulong seed = 0; seed < 10; seed++)
        {
            Assert.Equal(greedy, NativeModels.Ops.Sample(logits, new SamplingOptions { Temperature = 1.5f, TopK = 1 }, seed));
        }
    }

    [Fact]
    public void TopKKeepsOnlyTheLargestLogits()
    {
        using var logits = F32([0, 5, 1, 4, 2, 3], 6);
        var options = new SamplingOptions { Temperature = 100f, TopK = 2 };
        for (ulong seed = 0; seed < 50; seed++)
        {
            Assert.Contains(NativeModels.Ops.Sample(logits, options, seed)[0], new[] { 1, 3 });
        }
    }

    [Theory]
    [InlineData(1f, 0, 1f)]
    [InlineData(0.7f, 0, 1f)]
    [InlineData(1f, 5, 1f)]
    [InlineData(1f, 0, 0.9f)]
    [InlineData(0.8f, 10, 0.5f)]
    public void MatchesTheSpecifiedAlgorithm(float temperature, int topK, float topP)
    {
        const int rows = 6, vocabulary = 100;
        float[] data = ReferenceSampler.RandomLogits(rows * vocabulary, 3);
        data[7] = float.NaN;
        data[vocabulary + 3] = float.NegativeInfinity;
        using var logits = F32(data, rows, vocabulary);
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP };
        for (ulong step = 0; step < 20; step++)
        {
            Assert.Equal(ReferenceSampler.Sample(data, rows, options, seed: 1234, step), NativeModels.Ops.Sample(logits, options, 1234, step));
        }
    }

    [Fact]
    public void PositiveInfinityIsTheOnlyCandidate()
    {
        float[] data = [1, 2, float.PositiveInfinity, 3];
        using var logits = F32(data, 4);
        var options = new SamplingOptions { Temperature = 1f };
        for (ulong seed = 0; seed < 20; seed++)
        {
            Assert.Equal([2], NativeModels.Ops.Sample(logits, options, seed));
            Assert.Equal(ReferenceSampler.Sample(data, 1, options, seed, 0), NativeModels.Ops.Sample(logits, options, seed));
        }
    }

    [Fact]
    public void ARowWithoutFiniteValuesIsAnArgumentError()
    {
        using var logits = F32([float.NegativeInfinity, float.NaN], 2);
        var e = Assert.Throws<NativeArgumentException>(() => NativeModels.Ops.Sample(logits, new SamplingOptions()));
        Assert.Contains("logits", e.Message);
    }

    [Fact]
    public void NonPositiveTopPIsAnArgumentError()
    {
        using var logits = F32([1, 2], 2);
        Assert.Throws<NativeArgumentException>(() => NativeModels.Ops.Sample(logits, new SamplingOptions { TopP = 0f }));
    }
}
