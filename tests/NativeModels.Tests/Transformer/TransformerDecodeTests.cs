using NativeModels.Generation;
using NativeModels.Models.Transformer;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Transformer;

/// <summary>The KV cache: decode, chunked prefill, batches, memory accounting, growth, saved states.</summary>
public class TransformerDecodeTests : CpuTest
{
    private static readonly int[] Prompt = TransformerForwardTests.Prompt;

    private static float[] Row(float[] all, int row, int vocab) => all.AsSpan(row * vocab, vocab).ToArray();

    private static double[] Expected(float[] all, int row, int vocab) => Array.ConvertAll(Row(all, row, vocab), x => (double)x);

    [Theory]
    [InlineData("llama-gqa")]
    [InlineData("qwen3")]
    [InlineData("qwen3-sliding")]
    [InlineData("llama3-rope")]
    public void PrefillThenDecodeEqualsOneLongPrefill(string variant)
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants[variant]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int v = model.VocabSize;
        float[] full = TransformerForwardTests.Forward(model, Prompt);
        using var cache = model.CreateCache(1);
        using (var first = model.Prefill(cache, 0, Prompt.AsSpan(0, 4)))
        {
            MambaTestSupport.AssertClose(Expected(full, 3, v), first.ToArray<float>(), 1e-5, "prefill");
        }
        for (int i = 4; i < Prompt.Length; i++)
        {
            using var step = model.DecodeStep(cache, [Prompt[i]]);
            MambaTestSupport.AssertClose(Expected(full, i, v), step.ToArray<float>(), 1e-5, $"{variant} decode {i}");
        }
        Assert.Equal(Prompt.Length, cache.TokenCount(0));
    }

    [Theory]
    [InlineData("llama-gqa")]
    [InlineData("qwen3-sliding")]
    public void ChunkedPrefillEqualsOnePrefill(string variant)
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants[variant]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int v = model.VocabSize;
        float[] full = TransformerForwardTests.Forward(model, Prompt);
        using var cache = model.CreateCache(1);
        using var a = model.Prefill(cache, 0, Prompt.AsSpan(0, 5), allLogits: true);
        using var b = model.Prefill(cache, 0, Prompt.AsSpan(5), allLogits: true);
        float[] chunked = [.. a.ToArray<float>(), .. b.ToArray<float>()];
        MambaTestSupport.AssertClose(Array.ConvertAll(full, x => (double)x), chunked, 1e-5, "chunked");
    }

    [Fact]
    public void BatchedGreedyGenerationEqualsEachPromptAlone()
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants["llama-gqa"]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int[][] prompts = [[5, 6, 7, 8, 9, 10, 11], [1], [40, 41, 42], [13, 14, 15, 16]];
        var generator = new TextGenerator(model);
        var options = GenerationOptions.Greedy(9) with { StopTokenIds = [] };
        int[][] together = generator.Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(generator.Generate(prompts[i], options), together[i]);
            Assert.Equal(TransformerReference.Greedy(tiny, prompts[i], 9), together[i]);
        }
    }

    [Fact]
    public void BatchesKeepWorkingWhenRowsFinishEarly()
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants["qwen3"]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int[][] prompts = [[5, 6, 7], [1, 2, 3, 4, 9], [8]];
        var generator = new TextGenerator(model);
        // A stop token that some sequences produce: they leave the batch, the others go on with remapped slots.
        int[] alone0 = generator.Generate(prompts[0], GenerationOptions.Greedy(10) with { StopTokenIds = [] });
        int stop = alone0[2];
        var options = GenerationOptions.Greedy(10) with { StopTokenIds = [stop] };
        int[][] together = generator.Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(generator.Generate(prompts[i], options), together[i]);
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.BFloat16)]
    public void KvCacheBytesAreReported(DType dtype)
    {
        var spec = TransformerForwardTests.Variants["llama-gqa"];
        using var tiny = TinyTransformer.Create(spec);
        using var model = TransformerModel.Load(tiny.Directory, Cpu, dtype);
        using var cache = model.CreateCache(3, 40);
        long perToken = 2L * spec.Layers * spec.KvHeads * spec.Dh * dtype.Size();
        Assert.Equal(perToken, model.KvBytesPerToken);
        Assert.Equal(perToken, cache.BytesPerToken);
        Assert.Equal(40, cache.Capacity);
        Assert.Equal(perToken * 40, cache.BytesPerSlot);
        Assert.Equal(3 * perToken * 40, cache.Bytes);
        Assert.Equal([3L, 40L, spec.KvHeads, spec.Dh], cache.KeyCache(0).Shape);
        Assert.Equal(cache.KeyCache(1).NBytes + cache.ValueCache(1).NBytes, 3 * perToken * 40 / spec.Layers);
        // Without a hint: min(max_position_embeddings, DefaultCacheCapacity).
        using var unhinted = model.CreateCache(1);
        Assert.Equal(spec.MaxPositions, unhinted.Capacity);
        model.DefaultCacheCapacity = 16;
        using var bounded = model.CreateCache(1);
        Assert.Equal(16, bounded.Capacity);
    }

    [Fact]
    public void TheCacheGrowsPastItsCapacity()
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants["llama-gqa"]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int v = model.VocabSize;
        float[] full = TransformerForwardTests.Forward(model, Prompt);
        using var cache = model.CreateCache(2, 3);
        using (model.Prefill(cache, 1, [7, 7]))
        {
        }
        using (var first = model.Prefill(cache, 0, Prompt.AsSpan(0, 5)))
        {
            MambaTestSupport.AssertClose(Expected(full, 4, v), first.ToArray<float>(), 1e-5, "prefill past capacity");
        }
        Assert.True(cache.Capacity >= 5);
        for (int i = 5; i < Prompt.Length; i++)
        {
            using var step = model.DecodeStep(cache, [Prompt[i], 7]);
            MambaTestSupport.AssertClose(Expected(full, i, v), Row(step.ToArray<float>(), 0, v), 1e-5, $"decode {i}");
        }
        Assert.Equal(2 + Prompt.Length - 5, cache.TokenCount(1));
    }

    [Fact]
    public void TheSizeHintSetsTheCapacity()
    {
        using var tiny = TinyTransformer.Create();
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        var cache = ((ICausalLanguageModel)model).CreateCache(2, Prompt.Length + 5);
        using (cache)
        {
            Assert.Equal(Prompt.Length + 5, ((TransformerCache)cache).Capacity);
        }
    }

    [Fact]
    public void SavedStatesContinueExactly()
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants["qwen3"]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int v = model.VocabSize;
        float[] full = TransformerForwardTests.Forward(model, Prompt);
        byte[] saved;
        using (var cache = model.CreateCache(1))
        {
            using (model.Prefill(cache, 0, Prompt.AsSpan(0, 6)))
            {
            }
            saved = cache.SaveRow(0).ToBytes();
        }
        var state = model.ReadState(saved);
        Assert.Equal(6, state.TokenCount);
        using var restored = model.CreateCache(2, 4);
        restored.RestoreRow(1, state);
        using var rest = model.Prefill(restored, 1, Prompt.AsSpan(6), allLogits: true);
        MambaTestSupport.AssertClose(Array.ConvertAll(full[(6 * v)..], x => (double)x), rest.ToArray<float>(), 1e-5, "restored");

        using var other = TinyTransformer.Create(TransformerForwardTests.Variants["llama-gqa"]);
        using var otherModel = TransformerModel.Load(other.Directory, Cpu);
        Assert.Throws<TransformerStateException>(() => otherModel.ReadState(saved));
    }

    [Fact]
    public void SelectRowsWithRepeatsCopiesSlots()
    {
        using var tiny = TinyTransformer.Create();
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int v = model.VocabSize;
        float[] full = TransformerForwardTests.Forward(model, Prompt);
        using var cache = model.CreateCache(2);
        using (model.Prefill(cache, 0, [9, 9, 9]))
        {
        }
        using (model.Prefill(cache, 1, Prompt.AsSpan(0, 8)))
        {
        }
        cache.SelectRows([1, 1]);
        Assert.NotEqual(cache.SlotOf(0), cache.SlotOf(1));
        using var step = model.DecodeStep(cache, [Prompt[8], Prompt[8]]);
        float[] logits = step.ToArray<float>();
        MambaTestSupport.AssertClose(Expected(full, 8, v), Row(logits, 0, v), 1e-5, "row 0");
        MambaTestSupport.AssertClose(Expected(full, 8, v), Row(logits, 1, v), 1e-5, "row 1");
    }
}
