using NativeModels.Generation;
using NativeModels.IO;
using NativeModels.Models;
using NativeModels.Models.Transformer;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Transformer;

/// <summary>Full-sequence logits of tiny random Llama / Qwen3 checkpoints against the double-precision reference.</summary>
public class TransformerForwardTests : CpuTest
{
    public static readonly int[] Prompt = [3, 17, 42, 5, 9, 21, 0, 33, 8, 60, 11];

    public static TheoryData<string> Specs => [.. Variants.Keys];

    public static readonly Dictionary<string, TinyTransformerSpec> Variants = new()
    {
        ["llama-gqa"] = new TinyTransformerSpec(),
        ["llama-mha"] = new TinyTransformerSpec { KvHeads = 4, Seed = 5 },
        ["llama-mqa"] = new TinyTransformerSpec { KvHeads = 1, Seed = 6 },
        ["llama3-rope"] = new TinyTransformerSpec { RopeScaling = "llama3", Theta = 500000f, Seed = 7 },
        ["llama3-rope-parameters"] = new TinyTransformerSpec { RopeScaling = "llama3", RopeParameters = true, Seed = 8 },
        ["linear-rope"] = new TinyTransformerSpec { RopeScaling = "linear", RopeFactor = 2.0, Seed = 9 },
        ["llama-tied"] = new TinyTransformerSpec { Tied = true, Seed = 10 },
        ["llama-biases"] = new TinyTransformerSpec { AttentionBias = true, MlpBias = true, Seed = 11 },
        ["llama-bf16-weights"] = new TinyTransformerSpec { StoredAs = SafetensorsDType.BF16, Seed = 12 },
        ["llama-head-dim-16"] = new TinyTransformerSpec { HeadDim = 16, Seed = 13 },
        ["qwen3"] = new TinyTransformerSpec { ModelType = "qwen3", HeadDim = 12, Seed = 14 },
        ["qwen3-tied-bias"] = new TinyTransformerSpec { ModelType = "qwen3", HeadDim = 8, Tied = true, AttentionBias = true, Seed = 15 },
        ["qwen3-sliding"] = new TinyTransformerSpec { ModelType = "qwen3", HeadDim = 8, SlidingWindow = 3, MaxWindowLayers = 1, Seed = 16 },
    };

    internal static float[] Forward(TransformerModel model, int[] tokens)
    {
        using var logits = model.Forward(tokens);
        Assert.Equal([tokens.Length, model.VocabSize], logits.Shape);
        return logits.ToArray<float>();
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Fp32LogitsMatchTheReference(string variant)
    {
        using var tiny = TinyTransformer.Create(Variants[variant]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        MambaTestSupport.AssertClose(TransformerReference.Logits(tiny, Prompt), Forward(model, Prompt), 1e-4, variant);
    }

    [Theory]
    [InlineData("llama-bf16-weights")]
    [InlineData("qwen3")]
    public void Bf16ComputeIsClose(string variant)
    {
        using var tiny = TinyTransformer.Create(Variants[variant]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu, DType.BFloat16);
        double error = MambaTestSupport.MaxAbsError(TransformerReference.Logits(tiny, Prompt), Forward(model, Prompt));
        Assert.True(error < 0.15, $"bf16 max abs error {error}");
    }

    [Fact]
    public void Llama3ScalingChangesTheFrequenciesLikeHuggingFace()
    {
        // theta 10000, head_dim 8: wavelengths 6.3 (kept), 63 (smoothed), 628 and 6283 (divided by the factor).
        var spec = Variants["llama3-rope-parameters"];
        using var tiny = TinyTransformer.Create(spec);
        var config = TransformerConfig.Load(tiny.Directory);
        Assert.Equal(RopeScalingKind.Llama3, config.RopeScaling);
        float[] actual = config.InverseFrequencies();
        double[] expected = TransformerReference.InverseFrequencies(spec);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Abs(expected[i]) + 1e-12, $"inv_freq[{i}] {actual[i]} vs {expected[i]}");
        }
        // Low frequencies are divided by the factor, the highest is kept: the scaling is not a no-op here.
        var plain = TransformerReference.InverseFrequencies(spec with { RopeScaling = null });
        Assert.Equal(plain[0], expected[0], 12);
        Assert.Equal(plain[^1] / spec.RopeFactor, expected[^1], 12);
        Assert.Contains(Enumerable.Range(0, plain.Length), i => expected[i] != plain[i] && expected[i] != plain[i] / spec.RopeFactor);
    }

    [Theory]
    [InlineData("llama", typeof(TransformerModel))]
    [InlineData("qwen3", typeof(TransformerModel))]
    public void AutoModelPicksTheTransformer(string modelType, Type expected)
    {
        using var tiny = TinyTransformer.Create(new TinyTransformerSpec { ModelType = modelType, HeadDim = 8 });
        using var model = AutoModel.Load(tiny.Directory, Cpu);
        Assert.IsType(expected, model);
        Assert.Equal(modelType, model.ModelType);
        Assert.Contains(modelType, AutoModel.SupportedModelTypes);
        using var cache = model.CreateCache(1);
        using var logits = model.Prefill(cache, 0, Prompt, allLogits: true);
        MambaTestSupport.AssertClose(TransformerReference.Logits(tiny, Prompt), logits.ToArray<float>(), 1e-4, modelType);
    }

    [Fact]
    public void PrefillWithoutAllLogitsReturnsTheLastRow()
    {
        using var tiny = TinyTransformer.Create();
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        using var cache = model.CreateCache(1);
        using var last = model.Prefill(cache, 0, Prompt);
        Assert.Equal([1L, tiny.Spec.Vocab], last.Shape);
        double[] all = TransformerReference.Logits(tiny, Prompt);
        MambaTestSupport.AssertClose(all[^tiny.Spec.Vocab..], last.ToArray<float>(), 1e-4, "last row");
        Assert.Equal(Prompt.Length, cache.TokenCount(0));
    }

    [Fact]
    public void TokensOutsideTheVocabularyAreRefused()
    {
        using var tiny = TinyTransformer.Create();
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([1, 64]).Dispose());
    }

    [Fact]
    public void GreedyGenerationMatchesTheReference()
    {
        using var tiny = TinyTransformer.Create(Variants["qwen3"]);
        using var model = TransformerModel.Load(tiny.Directory, Cpu);
        int[] prompt = [4, 9, 1];
        int[] generated = new TextGenerator(model).Generate(prompt, GenerationOptions.Greedy(12) with { StopTokenIds = [] });
        Assert.Equal(TransformerReference.Greedy(tiny, prompt, 12), generated);
    }
}
