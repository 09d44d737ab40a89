using NativeModels.Tests.Support;
using NativeModels.Generation;
using NativeModels.Models;
using NativeModels.Tests.Mamba;

namespace NativeModels.Tests.Cuda;

/// <summary>
/// Every golden fixture folder (the reference implementations' logits and greedy tokens: tests/fixtures/mamba-authors,
/// llama-meta, and the Hugging Face families mamba and transformer once generated) run on the CUDA backend, within
/// the reference tolerances: float32 |ours - ref| ≤ 6e-4 · (1 + |ref|), bfloat16 ≤ 3e-2 · (1 + |ref|), and the float32
/// greedy tokens exactly. Skipped where no GPU can be used.
/// </summary>
public sealed class CudaGoldenTests : IDisposable
{
    private static readonly string[] Families = ["mamba-authors", "llama-meta", "mamba", "transformer"];
    private static readonly string[] Fixtures = ["fp32-untied", "fp32-tied", "bf16", "llama-gqa", "llama3-rope", "qwen3"];

    private readonly Lazy<Device> _gpu = new(() => Device.Create("cuda"));

    public void Dispose()
    {
        if (_gpu.IsValueCreated)
        {
            _gpu.Value.Dispose();
        }
    }

    private static IEnumerable<(string Family, string Fixture, string Directory)> AvailableFixtures()
    {
        foreach (string family in Families)
        {
            foreach (string fixture in Fixtures)
            {
                if (GoldenFixtures.Find(fixture, family) is { } directory)
                {
                    yield return (family, fixture, directory);
                }
            }
        }
    }

    private static void AssertWithin(double[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / (1 + Math.Abs(expected[i])));
        }
        Assert.True(worst <= tolerance, $"{what}: max |ours - ref| / (1 + |ref|) = {worst:G4} > {tolerance:G4}");
    }

    private float[] Logits(string directory, DType dtype, GoldenFile golden)
    {
        using var model = AutoModel.Load(directory, _gpu.Value, dtype);
        using var cache = model.CreateCache(1);
        using var logits = model.Prefill(cache, 0, golden.InputIds, allLogits: true);
        return golden.Stored(logits.ToArray<float>());
    }

    [CudaFact]
    public void CommittedFixturesArePresent()
    {
        var found = AvailableFixtures().Select(f => $"{f.Family}/{f.Fixture}").ToHashSet();
        Assert.Contains("mamba-authors/fp32-untied", found);
        Assert.Contains("llama-meta/llama3-rope", found);
    }

    [CudaFact]
    public void Float32LogitsAndGreedyTokensMatchTheReferences()
    {
        foreach (var (family, fixture, directory) in AvailableFixtures())
        {
            var golden = GoldenFile.Read(directory);
            AssertWithin(Array.ConvertAll(golden.Logits, v => (double)v), Logits(directory, DType.Float32, golden), 6e-4, $"{family}/{fixture} float32");

            using var model = AutoModel.Load(directory, _gpu.Value, DType.Float32);
            int[] generated = new TextGenerator(model).Generate(golden.InputIds,
                GenerationOptions.Greedy(golden.GreedyNewTokens.Length) with { StopTokenIds = [] });
            Assert.True(golden.GreedyNewTokens.SequenceEqual(generated),
                $"{family}/{fixture}: greedy [{string.Join(",", generated)}], reference [{string.Join(",", golden.GreedyNewTokens)}]");
        }
    }

    [CudaFact]
    public void BFloat16LogitsAreWithinTheReferenceTolerance()
    {
        // bf16 compute is compared where the weights are stored in bf16 (the reference computed from those values).
        foreach (var (family, fixture, directory) in AvailableFixtures())
        {
            var golden = GoldenFile.Read(directory);
            if (golden.StoredBFloat16)
            {
                AssertWithin(Array.ConvertAll(golden.Logits, v => (double)v), Logits(directory, DType.BFloat16, golden), 3e-2, $"{family}/{fixture} bfloat16");
            }
        }
    }
}
