using NativeModels.IO;
using NativeModels.Models;
using NativeModels.Models.Mamba;
using NativeModels.Tests.Support;
using static NativeModels.Tests.Mamba.MambaTestSupport;

namespace NativeModels.Tests.Mamba;

/// <summary>MambaModel's logits against the naive double-precision reference, for the checkpoint variants.</summary>
public class MambaForwardTests : CpuTest
{
    public static TheoryData<string> Variants => ["default", "tied", "bias", "state4", "state16", "rank3", "noConvBias", "residualNotFp32"];

    private static TinyMambaSpec Spec(string variant) => variant switch
    {
        "default" => new TinyMambaSpec(),
        "tied" => new TinyMambaSpec { Tied = true, Seed = 7 },
        "bias" => new TinyMambaSpec { UseBias = true, Seed = 8 },
        "state4" => new TinyMambaSpec { State = 4, Seed = 9 },
        "state16" => new TinyMambaSpec { State = 16, Layers = 3, Seed = 10 },
        "rank3" => new TinyMambaSpec { TimeStepRank = 3, Seed = 11 },
        "noConvBias" => new TinyMambaSpec { UseConvBias = false, Kernel = 3, Seed = 12 },
        "residualNotFp32" => new TinyMambaSpec { ResidualInFp32 = false, Seed = 13 },
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Fp32LogitsMatchTheReference(string variant)
    {
        using var tiny = TinyMamba.Create(Spec(variant));
        using var model = MambaModel.Load(tiny.Directory, Cpu, DType.Float32);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(model, Prompt), 1e-4, variant);
    }

    [Fact]
    public void ASingleTokenWorks()
    {
        using var tiny = TinyMamba.Create();
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        AssertClose(MambaReference.Logits(tiny, [7]), ForwardLogits(model, [7]), 1e-4, "one token");
    }

    [Fact]
    public void Bf16StoredWeightsLoadIntoFp32()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { StoredAs = SafetensorsDType.BF16, Seed = 21 });
        using var model = MambaModel.Load(tiny.Directory, Cpu, DType.Float32);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(model, Prompt), 1e-4, "bf16 weights, fp32 compute");
    }

    [Fact]
    public void Bf16ComputeStaysClose()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { StoredAs = SafetensorsDType.BF16, Seed = 22 });
        using var model = MambaModel.Load(tiny.Directory, Cpu, DType.BFloat16);
        var expected = MambaReference.Logits(tiny, Prompt);
        double scale = Math.Max(1, expected.Max(Math.Abs));
        AssertClose(expected, ForwardLogits(model, Prompt), 3e-2 * scale, "bf16 compute");
    }

    [Fact]
    public void Fp16StoredWeightsLoad()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { StoredAs = SafetensorsDType.F16, Seed = 23 });
        using var model = MambaModel.Load(tiny.Directory, Cpu, DType.Float32);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(model, Prompt), 1e-4, "fp16 weights");
    }

    [Fact]
    public void OriginalEmbeddingNameIsAccepted()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { OriginalEmbeddingName = true, Tied = true, Seed = 24 });
        Assert.True(tiny.Weights.ContainsKey("backbone.embedding.weight"));
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(model, Prompt), 1e-4, "backbone.embedding.weight");
    }

    [Fact]
    public void ShardedCheckpointsLoad()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Shards = 3, Seed = 25 });
        Assert.True(File.Exists(Path.Combine(tiny.Directory, "model.safetensors.index.json")));
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(model, Prompt), 1e-4, "sharded");
    }

    [Fact]
    public void AutoModelLoadsMamba()
    {
        using var tiny = TinyMamba.Create();
        using var model = AutoModel.Load(tiny.Directory, Cpu, DType.Float32);
        var mamba = Assert.IsType<MambaModel>(model);
        Assert.Equal("mamba", model.ModelType);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(mamba, Prompt), 1e-4, "AutoModel");
    }

    [Fact]
    public void ConfigValuesAreRead()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { Hidden = 40, Intermediate = 80 });
        var config = MambaConfig.Load(tiny.Directory);
        Assert.Equal(40, config.HiddenSize);
        Assert.Equal(80, config.IntermediateSize);
        Assert.Equal(3, config.TimeStepRank); // "auto" = ceil(40 / 16)
        Assert.Equal(8, config.StateSize);
        Assert.Equal(4, config.ConvKernel);
        Assert.Equal(50, config.VocabSize);
        Assert.True(config.ResidualInFp32);
        Assert.False(config.TieWordEmbeddings);
        Assert.Equal(0, config.EosTokenId);
    }

    [Fact]
    public void MissingBiasKeysAreInferredFromTheCheckpoint()
    {
        using var tiny = TinyMamba.Create(new TinyMambaSpec { UseBias = true, Seed = 26 },
            editConfig: c => { c.Remove("use_bias"); c.Remove("use_conv_bias"); });
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        Assert.True(model.Config.UseBias);
        Assert.True(model.Config.UseConvBias);
        AssertClose(MambaReference.Logits(tiny, Prompt), ForwardLogits(model, Prompt), 1e-4, "inferred biases");
    }

    [Fact]
    public void IntermediateSizeDefaultsToExpandTimesHidden()
    {
        using var tiny = TinyMamba.Create(editConfig: c => c.Remove("intermediate_size"));
        Assert.Equal(32, MambaConfig.Load(tiny.Directory).IntermediateSize);
    }

    [Fact]
    public void TokensOutsideTheVocabularyAreRejected()
    {
        using var tiny = TinyMamba.Create();
        using var model = MambaModel.Load(tiny.Directory, Cpu);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([1, 50]));
        Assert.Contains("token id 50", e.Message);
    }
}
