using NativeModels.IO;
using NativeModels.Models;
using NativeModels.Models.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Mamba;

/// <summary>Bad configs and checkpoints fail at load with messages that name the key or the tensor.</summary>
public class MambaLoadErrorTests : CpuTest
{
    private ModelFormatException LoadFails(TinyMamba tiny)
    {
        var e = Assert.ThrowsAny<ModelFormatException>(() => MambaModel.Load(tiny.Directory, Cpu).Dispose());
        return e;
    }

    [Theory]
    [InlineData("hidden_size")]
    [InlineData("num_hidden_layers")]
    [InlineData("vocab_size")]
    public void MissingRequiredKeysAreNamed(string key)
    {
        using var tiny = TinyMamba.Create(editConfig: c => c.Remove(key));
        var e = LoadFails(tiny);
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Theory]
    [InlineData("hidden_size", -16)]
    [InlineData("state_size", 0)]
    [InlineData("conv_kernel", "four")]
    [InlineData("time_step_rank", "big")]
    [InlineData("intermediate_size", 1.5)]
    [InlineData("layer_norm_epsilon", -1.0)]
    [InlineData("residual_in_fp32", "yes")]
    [InlineData("conv_kernel", 1)]
    public void WrongValuesAreNamed(string key, object value)
    {
        using var tiny = TinyMamba.Create(editConfig: c => c[key] = value);
        var e = LoadFails(tiny);
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void TimeStepRankErrorMentionsAuto()
    {
        using var tiny = TinyMamba.Create(editConfig: c => c["time_step_rank"] = "big");
        var e = LoadFails(tiny);
        Assert.Contains("\"auto\"", e.Message);
        Assert.Contains("\"big\"", e.Message);
    }

    [Fact]
    public void AnotherModelTypeIsRefused()
    {
        using var tiny = TinyMamba.Create(editConfig: c => c["model_type"] = "mamba2");
        var e = LoadFails(tiny);
        Assert.Contains("mamba2", e.Message);
    }

    [Fact]
    public void AutoModelListsTheSupportedTypes()
    {
        using var tiny = TinyMamba.Create(editConfig: c => c["model_type"] = "gpt_neox");
        var e = Assert.ThrowsAny<ModelFormatException>(() => AutoModel.Load(tiny.Directory, Cpu, DType.Float32).Dispose());
        Assert.Contains("gpt_neox", e.Message);
        Assert.Contains("supported model types: mamba", e.Message);
    }

    [Theory]
    [InlineData("backbone.layers.1.mixer.in_proj.weight")]
    [InlineData("backbone.layers.0.mixer.x_proj.weight")]
    [InlineData("backbone.layers.0.mixer.conv1d.weight")]
    [InlineData("backbone.layers.1.mixer.A_log")]
    [InlineData("backbone.layers.0.mixer.dt_proj.weight")]
    [InlineData("backbone.norm_f.weight")]
    [InlineData("lm_head.weight")]
    public void WrongWeightShapesAreNamed(string name)
    {
        using var tiny = TinyMamba.Create(editWeights: w =>
        {
            var (shape, data) = w[name];
            long[] wrong = (long[])shape.Clone();
            wrong[0] += 1;
            long rest = shape.Skip(1).Aggregate(1L, (p, d) => p * d);
            w[name] = (wrong, data.Concat(new float[rest]).ToArray());
        });
        var e = LoadFails(tiny);
        Assert.Equal(name, e.Key);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void AStateSizeThatDisagreesWithTheWeightsIsNamed()
    {
        using var tiny = TinyMamba.Create(editConfig: c => c["state_size"] = 6);
        var e = LoadFails(tiny);
        Assert.Contains("state_size=6", e.Message);
    }

    [Theory]
    [InlineData("backbone.layers.0.mixer.D")]
    [InlineData("backbone.layers.1.mixer.out_proj.weight")]
    [InlineData("backbone.embeddings.weight")]
    [InlineData("lm_head.weight")]
    public void MissingWeightsAreNamed(string name)
    {
        using var tiny = TinyMamba.Create(editWeights: w => w.Remove(name));
        var e = LoadFails(tiny);
        Assert.Equal(name, e.Key);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void ANonFloatComputeDTypeIsRefused()
    {
        using var tiny = TinyMamba.Create();
        Assert.Throws<ArgumentException>(() => MambaModel.Load(tiny.Directory, Cpu, DType.Int32));
    }
}
