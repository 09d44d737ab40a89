using NativeModels.Generation;
using NativeModels.Models;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Transformer;

/// <summary>
/// Against transformers' LlamaForCausalLM / Qwen3ForCausalLM themselves: tiny models saved with save_pretrained and
/// their logits and greedy continuations, made by tests/fixtures/transformer/make_goldens.py. Skipped until that
/// script has been run.
/// </summary>
public class HuggingFaceTransformerGoldenTests : TransformerGoldenChecks
{
    private const string Family = "transformer";

    public HuggingFaceTransformerGoldenTests() : base(Family) { }

    [GoldenFact("llama-gqa", Family)]
    public void LlamaGqaLogits() => CheckLogits("llama-gqa");

    [GoldenFact("llama-gqa", Family)]
    public void LlamaGqaGreedy() => CheckGreedy("llama-gqa");

    [GoldenFact("llama3-rope", Family)]
    public void Llama3RopeLogits() => CheckLogits("llama3-rope");

    [GoldenFact("llama3-rope", Family)]
    public void Llama3RopeGreedy() => CheckGreedy("llama3-rope");

    [GoldenFact("qwen3", Family)]
    public void Qwen3Logits() => CheckLogits("qwen3");

    [GoldenFact("qwen3", Family)]
    public void Qwen3Greedy() => CheckGreedy("qwen3");
}

/// <summary>
/// Against Meta's reference Llama (meta-llama/llama-models models/llama3/model.py): tiny models converted to the
/// Hugging Face layout, made by tests/fixtures/llama-meta/make_goldens.py (committed). The llama3-rope prompt is 384
/// tokens long because llama3 scaling only changes frequencies with wavelengths beyond 2048 positions.
/// </summary>
public class MetaLlamaGoldenTests : TransformerGoldenChecks
{
    private const string Family = "llama-meta";

    public MetaLlamaGoldenTests() : base(Family) { }

    [GoldenFact("llama-gqa", Family)]
    public void LlamaGqaLogits() => CheckLogits("llama-gqa");

    [GoldenFact("llama-gqa", Family)]
    public void LlamaGqaGreedy() => CheckGreedy("llama-gqa");

    [GoldenFact("llama3-rope", Family)]
    public void Llama3RopeLogits() => CheckLogits("llama3-rope");

    [GoldenFact("llama3-rope", Family)]
    public void Llama3RopeGreedy() => CheckGreedy("llama3-rope");
}

/// <summary>Checks a model folder holding config.json, weights and golden.json: model_type, input ids, the logits of
/// the positions from logits_first_position (default 0) on, and the greedy continuation.</summary>
public abstract class TransformerGoldenChecks(string family) : CpuTest
{
    protected void CheckLogits(string fixture)
    {
        string directory = GoldenFixtures.Find(fixture, family)!;
        var golden = GoldenFile.Read(directory);
        using var model = AutoModel.Load(directory, Cpu, DType.Float32);
        Assert.Equal(golden.ModelType, model.ModelType);
        Assert.Equal(golden.Vocab, model.VocabSize);
        using var cache = model.CreateCache(1);
        using var logits = model.Prefill(cache, 0, golden.InputIds, allLogits: true);
        float[] ours = golden.Stored(logits.ToArray<float>());
        MambaTestSupport.AssertClose(Array.ConvertAll(golden.Logits, v => (double)v), ours, 1e-4, fixture);
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
