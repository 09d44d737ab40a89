using NativeModels.Models.Mamba;
using NativeModels.Tests.Support;
using static NativeModels.Tests.Mamba.MambaTestSupport;

namespace NativeModels.Tests.Mamba;

/// <summary>The recurrent paths (prefill with a state, decode steps, batched rows) agree with one long prefill.</summary>
public class MambaDecodeTests : CpuTest
{
    [Fact]
    public void PrefillThenDecodeEqualsOneLongPrefill()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { UseBias = true, Seed = 31 });
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        float[] full = ForwardLogits(model, Prompt);
        int v = model.VocabSize;

        using var cache = model.CreateCache(1);
        using (var first = model.Prefill(cache, 0, Prompt.AsSpan(0, 4)))
        {
            TestAssert.Close(full.AsSpan(3 * v, v), first.ToArray<float>(), 1e-4f);
        }
        for (int t = 4; t < Prompt.Length; t++)
        {
            using var step = model.DecodeStep(cache, [Prompt[t]]);
            Assert.Equal([1, v], step.Shape);
            TestAssert.Close(full.AsSpan(t * v, v), step.ToArray<float>(), 1e-4f);
        }
        Assert.Equal(Prompt.Length, cache.TokenCount(0));
    }

    [Fact]
    public void ChunkedPrefillEqualsOnePrefill()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 32 });
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        float[] full = ForwardLogits(model, Prompt);
        int v = model.VocabSize;
        using var cache = model.CreateCache(1);
        model.Prefill(cache, 0, Prompt.AsSpan(0, 2)).Dispose();
        model.Prefill(cache, 0, Prompt.AsSpan(2, 5)).Dispose();
        using var rest = model.Prefill(cache, 0, Prompt.AsSpan(7), allLogits: true);
        TestAssert.Close(full.AsSpan(7 * v), rest.ToArray<float>(), 1e-4f);
    }

    [Fact]
    public void BatchedDecodeEqualsEachSequenceAlone()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 33 });
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        int v = model.VocabSize;
        int[][] prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10], [11]];
        int[] next = [12, 13, 14];

        var alone = new float[prompts.Length][];
        for (int b = 0; b < prompts.Length; b++)
        {
            alone[b] = ForwardLogits(model, [.. prompts[b], next[b]]).AsSpan(prompts[b].Length * v, v).ToArray();
        }

        using var cache = model.CreateCache(prompts.Length);
        for (int b = 0; b < prompts.Length; b++)
        {
            model.Prefill(cache, b, prompts[b]).Dispose();
        }
        using var logits = model.DecodeStep(cache, next);
        float[] batched = logits.ToArray<float>();
        for (int b = 0; b < prompts.Length; b++)
        {
            TestAssert.Close(alone[b], batched.AsSpan(b * v, v), 1e-4f);
            Assert.Equal(prompts[b].Length + 1, cache.TokenCount(b));
        }

        // Dropping the middle row keeps the others intact.
        cache.SelectRows([2, 0]);
        Assert.Equal(2, cache.BatchSize);
        using var after = model.DecodeStep(cache, [20, 21]);
        float[] expected2 = ForwardLogits(model, [.. prompts[2], next[2], 20]).AsSpan((prompts[2].Length + 1) * v, v).ToArray();
        float[] expected0 = ForwardLogits(model, [.. prompts[0], next[0], 21]).AsSpan((prompts[0].Length + 1) * v, v).ToArray();
        float[] got = after.ToArray<float>();
        TestAssert.Close(expected2, got.AsSpan(0, v), 1e-4f);
        TestAssert.Close(expected0, got.AsSpan(v, v), 1e-4f);
    }

    [Fact]
    public void ResetRowEmptiesASequence()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 34 });
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        using var cache = model.CreateCache(2);
        model.Prefill(cache, 1, [5, 6, 7]).Dispose();
        cache.ResetRow(1);
        Assert.Equal(0, cache.TokenCount(1));
        using var logits = model.Prefill(cache, 1, [9]);
        TestAssert.Close(ForwardLogits(model, [9]), logits.ToArray<float>(), 1e-5f);
    }

    [Fact]
    public void ACacheOfAnotherModelIsRefused()
    {
        using var tiny = TinyMamba.Create();
        using var a = MambaModel.Load(tiny.Directory, Cpu);
        using var b = MambaModel.Load(tiny.Directory, Cpu);
        using var cache = a.CreateCache(1);
        Assert.Throws<ArgumentException>(() => b.Prefill(cache, 0, [1]));
    }
}
