using NativeModels.IO;
using NativeModels.Models;
using NativeModels.Tests.IO;

namespace NativeModels.Tests.Models;

public class ModelConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private ModelConfig Config(string json)
    {
        _dir.WriteText("config.json", json);
        return ModelConfig.Load(_dir.Path);
    }

    private const string Mamba = """
        {"model_type": "mamba", "hidden_size": 768, "num_hidden_layers": 24, "layer_norm_epsilon": 1e-05,
         "use_conv_bias": true, "time_step_rank": "auto", "expand": 2, "pad_token_id": 0, "sliding_window": null,
         "rope_scaling": {"type": "linear", "factor": 2.0}, "tie_word_embeddings": false, "vocab_size": 5.0e4}
        """;

    [Fact]
    public void TypedAccessors()
    {
        var config = Config(Mamba);
        Assert.Equal("mamba", config.ModelType);
        Assert.Equal(768, config.GetInt("hidden_size"));
        Assert.Equal(50000, config.GetInt("vocab_size"));
        Assert.Equal(16, config.GetInt("state_size", 16));
        Assert.Equal(1e-5f, config.GetFloat("layer_norm_epsilon"));
        Assert.Equal(2f, config.GetFloat("expand"));
        Assert.Equal(0.5f, config.GetFloat("missing", 0.5f));
        Assert.True(config.GetBool("use_conv_bias", false));
        Assert.False(config.GetBool("tie_word_embeddings", true));
        Assert.True(config.GetBool("missing", true));
        Assert.Equal("auto", config.GetString("time_step_rank"));
        Assert.Null(config.GetString("missing"));
        Assert.True(config.Has("hidden_size"));
        Assert.False(config.Has("sliding_window")); // null counts as missing
        Assert.Equal(7, config.GetInt("sliding_window", 7));
        Assert.Equal(0, config.GetInteger("pad_token_id"));
        Assert.Equal(-1, config.GetInteger("missing", -1));
        Assert.Equal(2.0, config.Root.GetProperty("rope_scaling").GetProperty("factor").GetDouble());
        Assert.Equal(_dir.File("config.json"), config.Path);
    }

    private void Fails(ModelConfig config, Action<ModelConfig> read, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => read(config));
        Assert.Contains(message, e.Message);
        Assert.Contains(_dir.File("config.json"), e.Message);
    }

    [Fact]
    public void NamedErrors()
    {
        var config = Config("""{"hidden_size": -3, "n": 1.5, "s": "x", "b": 1, "big": 3000000000, "f": "1e-5", "zero": 0}""");
        Fails(config, c => c.GetInt("num_hidden_layers"), "config.json: 'num_hidden_layers' is missing");
        Fails(config, c => c.GetInt("hidden_size"), "config.json: 'hidden_size' must be a positive integer, got -3");
        Fails(config, c => c.GetInt("hidden_size", 4), "'hidden_size' must be a positive integer, got -3");
        Fails(config, c => c.GetInt("zero"), "'zero' must be a positive integer, got 0");
        Fails(config, c => c.GetInt("n"), "'n' must be a positive integer, got 1.5");
        Fails(config, c => c.GetInt("s"), "'s' must be a positive integer, got \"x\"");
        Fails(config, c => c.GetInt("big"), "'big' must be a positive integer, got 3000000000");
        Fails(config, c => c.GetInteger("n"), "'n' must be an integer, got 1.5");
        Fails(config, c => c.GetFloat("f"), "'f' must be a finite number, got \"1e-5\"");
        Fails(config, c => c.GetFloat("missing"), "'missing' is missing");
        Fails(config, c => c.GetBool("b", false), "'b' must be true or false, got 1");
        Fails(config, c => c.GetString("b"), "'b' must be a string, got 1");
        Assert.Equal(-3, config.GetInteger("hidden_size"));
        Assert.Equal("", config.ModelType);
    }

    [Fact]
    public void MissingFile()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(_dir.Path));
        Assert.Equal($"config.json: not found in {_dir.Path}", e.Message);
    }

    [Fact]
    public void InvalidJsonNamesTheLine()
    {
        _dir.WriteText("config.json", "{\n  \"hidden_size\": 4,\n  \"n_layer\": ,\n}");
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(_dir.Path));
        Assert.Contains("config.json: invalid JSON at line 3", e.Message);
        Assert.Contains(_dir.File("config.json"), e.Message);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    public void NotAnObject(string json)
    {
        _dir.WriteText("config.json", json);
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(_dir.Path));
        Assert.Contains("must hold a JSON object", e.Message);
    }

    [Fact]
    public void ModelTypeMustBeAString()
    {
        var config = Config("{\"model_type\": 3}");
        Fails(config, c => _ = c.ModelType, "'model_type' must be a string");
    }
}
