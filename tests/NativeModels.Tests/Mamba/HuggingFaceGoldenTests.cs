using NativeModels.Generation;
using NativeModels.Models;
using NativeModels.Models.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Mamba;

/// <summary>
/// Against transformers' MambaForCausalLM itself: tiny models saved with save_pretrained and their logits and greedy
/// continuations, made by tests/fixtures/mamba/make_goldens.py. Skipped until that script has been run.
/// </summary>
public class HuggingFaceGoldenTests : MambaGoldenChecks
{
    public HuggingFaceGoldenTests() : base("mamba") { }

    [GoldenFact("fp32-untied")]
    public void Fp32UntiedLogits() => CheckLogits("fp32-untied", DType.Float32, 1e-4);

    [GoldenFact("fp32-untied")]
    public void Fp32UntiedGreedy() => CheckGreedy("fp32-untied");

    [GoldenFact("fp32-tied")]
    public void Fp32TiedLogits() => CheckLogits("fp32-tied", DType.Float32, 1e-4);

    [GoldenFact("fp32-tied")]
    public void Fp32TiedGreedy() => CheckGreedy("fp32-tied");

    // The golden logits of the bf16 checkpoint are computed by transformers in float32 from the stored bf16 weights.
    [GoldenFact("bf16")]
    public void Bf16WeightsInFp32Logits() => CheckLogits("bf16", DType.Float32, 1e-4);

    [GoldenFact("bf16")]
    public void Bf16ComputeLogits() => CheckLogits("bf16", DType.BFloat16, 3e-2);

    [GoldenFact("bf16")]
    public void Bf16Greedy() => CheckGreedy("bf16");
}

/// <summary>
/// Against the Mamba authors' own model (state-spaces/mamba MambaLMHeadModel, its pure-PyTorch path): tiny models
/// stored under the authors' weight names, made by tests/fixtures/mamba-authors/make_goldens.py (committed).
/// </summary>
public class AuthorsReferenceGoldenTests : MambaGoldenChecks
{
    private const string Family = "mamba-authors";

    public AuthorsReferenceGoldenTests() : base(Family) { }

    [GoldenFact("fp32-untied", Family)]
    public void Fp32UntiedLogits() => CheckLogits("fp32-untied", DType.Float32, 1e-4);

    [GoldenFact("fp32-untied", Family)]
    public void Fp32UntiedGreedy() => CheckGreedy("fp32-untied");

    [GoldenFact("fp32-tied", Family)]
    public void Fp32TiedLogits() => CheckLogits("fp32-tied", DType.Float32, 1e-4);

    [GoldenFact("fp32-tied", Family)]
    public void Fp32TiedGreedy() => CheckGreedy("fp32-tied");

    [GoldenFact("bf16", Family)]
    public void Bf16WeightsInFp32Logits() => CheckLogits("bf16", DType.Float32, 1e-4);

    [GoldenFact("bf16", Family)]
    public void Bf16ComputeLogits() => CheckLogits("bf16", DType.BFloat16, 3e-2);

    [GoldenFact("bf16", Family)]
    public void Bf16Greedy() => CheckGreedy("bf16");
}

/// <summary>Checks a model folder holding config.json, weights and golden.json (input ids, logits, greedy tokens).</summary>
public abstract class MambaGoldenChecks(string family) : CpuTest
{
    protected void CheckLogits(string fixture, DType dtype, double tolerance)
    {
        string directory = GoldenFixtures.Find(fixture, family)!;
        var golden = GoldenFile.Read(directory);
        using var model = AutoModel.Load(directory, Cpu, dtype);
        Assert.Equal(golden.Vocab, model.VocabSize);
        using var cache = model.CreateCache(1);
        using var logits = model.Prefill(cache, 0, golden.InputIds, allLogits: true);
        MambaTestSupport.AssertClose(Array.ConvertAll(golden.Logits, v => (double)v), golden.Stored(logits.ToArray<float>()), tolerance, $"{fixture} {dtype.Name()}");
    }

    protected void CheckGreedy(string fixture)
    {
        string directory = GoldenFixtures.Find(fixture, family)!;
        var golden = GoldenFile.Read(directory);
        using var model = AutoModel.Load(directory, Cpu, DType.Float32);
        int[] generated = new TextGenerator(model).Generate(golden.InputIds,
            GenerationOptions.Greedy(golden.GreedyNewTokens.Length) with { StopTokenIds = [] });
        Assert.Equal(golden.GreedyNewTokens, generated);
    }
}
