using NativeModels.Generation;
using NativeModels.Models.Mamba;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Generation;

/// <summary>The architecture-neutral generator, driven by a tiny Mamba.</summary>
public sealed class TextGeneratorTests : CpuTest, IDisposable
{
    private readonly TinyMamba _tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 51 });
    private readonly MambaModel _model;
    private readonly TextGenerator _generator;

    public TextGeneratorTests()
    {
        _model = MambaModel.Load(_tiny.Directory, Cpu);
        _generator = new TextGenerator(_model);
    }

    void IDisposable.Dispose()
    {
        _model.Dispose();
        _tiny.Dispose();
        Dispose();
    }

    private static readonly int[][] Prompts = [[1, 2, 3, 4, 5], [7], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11], [30, 31]];

    [Fact]
    public void GreedyGenerationMatchesTheReference()
    {
        int[] generated = _generator.Generate(Prompts[0], GenerationOptions.Greedy(12) with { StopTokenIds = [] });
        Assert.Equal(MambaReference.Greedy(_tiny, Prompts[0], 12), generated);
    }

    [Fact]
    public void BatchedGreedyEqualsEachPromptAlone()
    {
        var options = GenerationOptions.Greedy(10) with { StopTokenIds = [] };
        int[][] batched = _generator.Generate(Prompts, options);
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(_generator.Generate(Prompts[i], options), batched[i]);
            Assert.Equal(10, batched[i].Length);
        }
    }

    [Fact]
    public void BatchedGreedyWithDifferentStopsEqualsEachPromptAlone()
    {
        // Stop on a token some sequences produce early: they leave the batch, the others go on unchanged.
        var all = _generator.Generate(Prompts, GenerationOptions.Greedy(10) with { StopTokenIds = [] });
        int stop = all[0][2];
        var options = GenerationOptions.Greedy(10) with { StopTokenIds = [stop] };
        int[][] batched = _generator.Generate(Prompts, options);
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(_generator.Generate(Prompts[i], options), batched[i]);
        }
        Assert.Equal(all[0][..2], batched[0]);
    }

    [Fact]
    public void SeededSamplingIsReproducible()
    {
        var options = new GenerationOptions
        {
            MaxNewTokens = 16,
            Sampling = new SamplingOptions { Temperature = 1.5f, TopK = 20, TopP = 0.95f },
            Seed = 1234,
            StopTokenIds = [],
        };
        int[][] first = _generator.Generate(Prompts, options);
        int[][] second = _generator.Generate(Prompts, options);
        Assert.Equal(first, second);
        int[][] otherSeed = _generator.Generate(Prompts, options with { Seed = 99 });
        Assert.NotEqual(first, otherSeed);
        int[] greedy = _generator.Generate(Prompts[0], GenerationOptions.Greedy(16) with { StopTokenIds = [] });
        Assert.NotEqual(greedy, first[0]);
    }

    [Fact]
    public void MaxNewTokensLimitsEverySequence()
    {
        Assert.All(_generator.Generate(Prompts, GenerationOptions.Greedy(3) with { StopTokenIds = [] }), ids => Assert.Equal(3, ids.Length));
        Assert.All(_generator.Generate(Prompts, GenerationOptions.Greedy(0)), ids => Assert.Empty(ids));
    }

    [Fact]
    public void AStopTokenEndsTheSequenceAndIsNotReturned()
    {
        int[] free = _generator.Generate(Prompts[2], GenerationOptions.Greedy(8) with { StopTokenIds = [] });
        int stop = free[3];
        int firstStop = Array.IndexOf(free, stop);
        int[] stopped = _generator.Generate(Prompts[2], GenerationOptions.Greedy(8) with { StopTokenIds = [stop, 999] });
        Assert.Equal(free[..firstStop], stopped);
    }

    [Fact]
    public async Task StreamingYieldsTokensInOrderWithSequenceIndices()
    {
        var options = GenerationOptions.Greedy(5) with { StopTokenIds = [] };
        var expected = _generator.Generate(Prompts, options);
        var streamed = Prompts.Select(_ => new List<int>()).ToArray();
        await foreach (var token in _generator.GenerateAsync(Prompts, options))
        {
            Assert.Equal(streamed[token.SequenceIndex].Count, token.Index);
            Assert.Equal(string.Empty, token.Text);
            streamed[token.SequenceIndex].Add(token.TokenId);
        }
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(expected[i], streamed[i]);
        }
    }

    [Fact]
    public async Task CancellationStopsTheStream()
    {
        using var cts = new CancellationTokenSource();
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _generator.GenerateAsync(Prompts, GenerationOptions.Greedy(1000) with { StopTokenIds = [] }, cts.Token))
            {
                if (++received == 6)
                {
                    cts.Cancel();
                }
            }
        });
        Assert.InRange(received, 6, 6 + Prompts.Length);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => _generator.Generate(Prompts, GenerationOptions.Greedy(4), cancelled.Token));
    }

    [Fact]
    public void ResumingFromASavedStateEqualsUninterruptedGeneration()
    {
        var options = GenerationOptions.Greedy(14) with { StopTokenIds = [] };
        int[] prompt = Prompts[0];
        int[] uninterrupted = _generator.Generate(prompt, options);

        // Consume prompt + the first 5 generated tokens but the last of them, save, resume with that pending token.
        using var cache = _model.CreateCache(1);
        _model.Prefill(cache, 0, [.. prompt, .. uninterrupted[..4]]).Dispose();
        byte[] saved = cache.SaveRow(0).ToBytes();
        var state = _model.ReadState(saved);
        int[][] resumed = _generator.Generate([new GenerationRequest([uninterrupted[4]], state)], options with { MaxNewTokens = 9 });
        Assert.Equal(uninterrupted[5..], resumed[0]);
    }

    [Fact]
    public void EmptyPromptsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => _generator.Generate([[1], []], GenerationOptions.Greedy(2)));
    }

    [Fact]
    public void ATextPromptNeedsATokenizer()
    {
        Assert.Throws<InvalidOperationException>(() => _generator.GenerateAsync("hello"));
    }
}
