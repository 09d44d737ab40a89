using NativeModels.IO;
using NativeModels.Models;
using NativeModels.Models.Transformer;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Transformer;

/// <summary>Bad configs and checkpoints fail at load with messages that name the key or the tensor.</summary>
public class TransformerLoadErrorTests : CpuTest
{
    private ModelFormatException LoadFails(TinyTransformer tiny) =>
        Assert.ThrowsAny<ModelFormatException>(() => TransformerModel.Load(tiny.Directory, Cpu).Dispose());

    [Theory]
    [InlineData("hidden_size")]
    [InlineData("intermediate_size")]
    [InlineData("num_hidden_layers")]
    [InlineData("num_attention_heads")]
    [InlineData("vocab_size")]
    public void MissingRequiredKeysAreNamed(string key)
    {
        using var tiny = TinyTransformer.Create(editConfig: c => c.Remove(key));
        var e = LoadFails(tiny);
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Theory]
    [InlineData("hidden_size", -32)]
    [InlineData("num_key_value_heads", 3)]
    [InlineData("num_key_value_heads", 0)]
    [InlineData("head_dim", 7)]
    [InlineData("rms_norm_eps", -1.0)]
    [InlineData("rope_theta", 0.0)]
    [InlineData("hidden_act", "gelu")]
    [InlineData("attention_bias", "yes")]
    [InlineData("tie_word_embeddings", 2)]
    [InlineData("partial_rotary_factor", 1.5)]
    [InlineData("rope_scaling", "llama3")]
    public void WrongValuesAreNamed(string key, object value)
    {
        using var tiny = TinyTransformer.Create(editConfig: c => c[key] = value);
        var e = LoadFails(tiny);
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void UnsupportedRopeTypesAreNamed()
    {
        using var tiny = TinyTransformer.Create(new TinyTransformerSpec { RopeScaling = "yarn" });
        var e = LoadFails(tiny);
        Assert.Equal("rope_scaling.rope_type", e.Key);
        Assert.Contains("yarn", e.Message);
    }

    [Fact]
    public void MissingRopeScalingKeysAreNamed()
    {
        using var tiny = TinyTransformer.Create(new TinyTransformerSpec { RopeScaling = "llama3" },
            editConfig: c => ((Dictionary<string, object?>)c["rope_scaling"]!).Remove("low_freq_factor"));
        var e = LoadFails(tiny);
        Assert.Equal("rope_scaling.low_freq_factor", e.Key);
    }

    [Fact]
    public void AnotherModelTypeIsRefused()
    {
        using var tiny = TinyTransformer.Create(editConfig: c => c["model_type"] = "mistral");
        var e = LoadFails(tiny);
        Assert.Contains("mistral", e.Message);
        var auto = Assert.ThrowsAny<ModelFormatException>(() => AutoModel.Load(tiny.Directory, Cpu).Dispose());
        Assert.Contains("llama", auto.Message);
        Assert.Contains("qwen3", auto.Message);
    }

    [Theory]
    [InlineData("model.layers.1.self_attn.k_proj.weight")]
    [InlineData("model.norm.weight")]
    [InlineData("lm_head.weight")]
    [InlineData("model.embed_tokens.weight")]
    [InlineData("model.layers.0.mlp.down_proj.weight")]
    public void MissingTensorsAreNamed(string name)
    {
        using var tiny = TinyTransformer.Create(editWeights: w => w.Remove(name));
        var e = LoadFails(tiny);
        Assert.Equal(name, e.Key);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void MissingQkNormIsNamedForQwen3()
    {
        const string name = "model.layers.0.self_attn.k_norm.weight";
        using var tiny = TinyTransformer.Create(new TinyTransformerSpec { ModelType = "qwen3", HeadDim = 8 }, editWeights: w => w.Remove(name));
        Assert.Equal(name, LoadFails(tiny).Key);
    }

    [Fact]
    public void MissingBiasesAreNamedWhenAttentionBiasIsSet()
    {
        using var tiny = TinyTransformer.Create(editConfig: c => c["attention_bias"] = true);
        Assert.Equal("model.layers.0.self_attn.q_proj.bias", LoadFails(tiny).Key);
    }

    [Fact]
    public void WrongShapesAreNamed()
    {
        const string name = "model.layers.0.self_attn.v_proj.weight";
        using var tiny = TinyTransformer.Create(editWeights: w => w[name] = ([32, 32], new float[32 * 32]));
        var e = LoadFails(tiny);
        Assert.Equal(name, e.Key);
        Assert.Contains("[32, 32]", e.Message);
        Assert.Contains("[16, 32]", e.Message);
    }
}
