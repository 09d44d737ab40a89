using System.Text.Json;
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
public class HuggingFaceTransformerGoldenTests : CpuTest
{
    private const string Family = "transformer";

    private sealed record Golden(string ModelType, int[] InputIds, float[] Logits, int Vocab, int[] GreedyNewTokens);

    private static Golden Read(string directory)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "golden.json")));
        var root = json.RootElement;
        int[] ids = root.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var rows = root.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();
        Assert.Equal(ids.Length, rows.Length);
        int[] greedy = root.GetProperty("greedy_new_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return new Golden(root.GetProperty("model_type").GetString()!, ids, rows.SelectMany(r => r).ToArray(), rows[0].Length, greedy);
    }

    private void CheckLogits(string fixture)
    {
        string directory = GoldenFixtures.Find(fixture, Family)!;
        var golden = Read(directory);
        using var model = AutoModel.Load(directory, Cpu, DType.Float32);
        Assert.Equal(golden.ModelType, model.ModelType);
        Assert.Equal(golden.Vocab, model.VocabSize);
        using var cache = model.CreateCache(1);
        using var logits = model.Prefill(cache, 0, golden.InputIds, allLogits: true);
        MambaTestSupport.AssertClose(Array.ConvertAll(golden.Logits, v => (double)v), logits.ToArray<float>(), 1e-4, fixture);
    }

    private void CheckGreedy(string fixture)
    {
        string directory = GoldenFixtures.Find(fixture, Family)!;
        var golden = Read(directory);
        using var model = AutoModel.Load(directory, Cpu, DType.Float32);
        int[] generated = new TextGenerator(model).Generate(golden.InputIds,
            GenerationOptions.Greedy(golden.GreedyNewTokens.Length) with { StopTokenIds = [] });
        Assert.Equal(golden.GreedyNewTokens, generated);
    }

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
