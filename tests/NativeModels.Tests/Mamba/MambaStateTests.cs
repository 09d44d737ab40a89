using NativeModels.Models.Mamba;
using NativeModels.Tests.Support;
using static NativeModels.Tests.Mamba.MambaTestSupport;

namespace NativeModels.Tests.Mamba;

/// <summary>MambaState: save, restore, continue exactly; corrupted or foreign states are refused clearly.</summary>
public class MambaStateTests : CpuTest
{
    private static int[] DecodeGreedy(MambaModel model, MambaCache cache, int first, int count)
    {
        var tokens = new List<int>();
        int token = first;
        for (int i = 0; i < count; i++)
        {
            using var logits = model.DecodeStep(cache, [token]);
            token = ArgMax(logits.ToArray<float>());
            tokens.Add(token);
        }
        return [.. tokens];
    }

    [Fact]
    public void SaveRestoreContinueEqualsUninterrupted()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 41 });
        using var model = MambaModel.Load(tiny.Directory, Cpu);

        // Uninterrupted: prompt, 4 steps, then 6 more.
        using var cache = model.CreateCache(1);
        int first;
        using (var logits = model.Prefill(cache, 0, Prompt))
        {
            first = ArgMax(logits.ToArray<float>());
        }
        int[] head = DecodeGreedy(model, cache, first, 4);
        byte[] saved = cache.SaveRow(0).ToBytes();
        int[] tail = DecodeGreedy(model, cache, head[^1], 6);

        // Interrupted: restore the saved bytes into a fresh cache (row 1 of 2), continue.
        var state = model.ReadState(saved);
        Assert.Equal(Prompt.Length + 4, state.TokenCount);
        using var other = model.CreateCache(2);
        other.RestoreRow(1, state);
        Assert.Equal(Prompt.Length + 4, other.TokenCount(1));
        other.SelectRows([1]);
        Assert.Equal(tail, DecodeGreedy(model, other, head[^1], 6));
    }

    [Fact]
    public void RestoredLogitsAreIdentical()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 42, UseBias = true });
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        using var cache = model.CreateCache(1);
        model.Prefill(cache, 0, Prompt).Dispose();
        var stream = new MemoryStream();
        cache.SaveRow(0).WriteTo(stream);
        using var expected = model.DecodeStep(cache, [4]);

        stream.Position = 0;
        var state = MambaState.ReadFrom(stream);
        using var restored = model.CreateCache(1);
        restored.RestoreRow(0, state);
        using var actual = model.DecodeStep(restored, [4]);
        Assert.Equal(expected.ToArray<float>(), actual.ToArray<float>());
    }

    [Fact]
    public void TheStateSizeDoesNotGrowWithTheSequence()
    {
        using var tiny = TinyMamba.Create();
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        using var cache = model.CreateCache(1);
        model.Prefill(cache, 0, [1]).Dispose();
        int small = cache.SaveRow(0).ToBytes().Length;
        model.Prefill(cache, 0, Enumerable.Range(0, 40).ToArray()).Dispose();
        Assert.Equal(small, cache.SaveRow(0).ToBytes().Length);
    }

    private static byte[] SavedState(MambaModel model)
    {
        using var cache = model.CreateCache(1);
        model.Prefill(cache, 0, Prompt).Dispose();
        return cache.SaveRow(0).ToBytes();
    }

    [Fact]
    public void CorruptedBytesAreRefused()
    {
        using var tiny = TinyMamba.Create();
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        byte[] bytes = SavedState(model);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[^5] ^= 0x40;
        Assert.Contains("checksum", Assert.Throws<MambaStateException>(() => model.ReadState(flipped)).Message);

        Assert.Contains("truncated", Assert.Throws<MambaStateException>(() => model.ReadState(bytes.AsSpan(0, bytes.Length - 3))).Message);
        Assert.Contains("truncated", Assert.Throws<MambaStateException>(() => model.ReadState(bytes.AsSpan(0, 20))).Message);

        byte[] badMagic = (byte[])bytes.Clone();
        badMagic[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<MambaStateException>(() => model.ReadState(badMagic)).Message);

        byte[] future = (byte[])bytes.Clone();
        future[8] = 99;
        Assert.Contains("version 99", Assert.Throws<MambaStateException>(() => model.ReadState(future)).Message);

        Assert.Throws<MambaStateException>(() => model.ReadState([]));
    }

    [Fact]
    public void AStateOfAnotherModelIsRefused()
    {
        using var small = TinyMamba.Create(new TinyMambaSpec { State = 4 });
        using var large = TinyMamba.Create(new TinyMambaSpec { State = 8 });
        using var smallModel = MambaModel.Load(small.Directory, Cpu);
        using var largeModel = MambaModel.Load(large.Directory, Cpu);
        byte[] bytes = SavedState(smallModel);
        var e = Assert.Throws<MambaStateException>(() => largeModel.ReadState(bytes));
        Assert.Contains("state_size 4 in the state, 8 in the model", e.Message);

        using var cache = largeModel.CreateCache(1);
        Assert.Throws<MambaStateException>(() => cache.RestoreRow(0, MambaState.FromBytes(bytes)));
    }

    [Fact]
    public void AStateOfAnotherDTypeIsRefused()
    {
        using var tiny = TinyMamba.Create();
        using var fp32 = MambaModel.Load(tiny.Directory, Cpu, DType.Float32);
        using var bf16 = MambaModel.Load(tiny.Directory, Cpu, DType.BFloat16);
        var e = Assert.Throws<MambaStateException>(() => bf16.ReadState(SavedState(fp32)));
        Assert.Contains("float32", e.Message);
        Assert.Contains("bfloat16", e.Message);
    }
}
