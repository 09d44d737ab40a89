using NativeModels.Cli;
using NativeModels.Generation;
using NativeModels.Models.Mamba;
using NativeModels.Tests.IO;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;
using NativeModels.Tests.Tokenization;
using NativeModels.Tokenization;

namespace NativeModels.Tests.Generation;

/// <summary>Generation with a tokenizer: streamed text, EOS as the default stop token, and the CLI's text output.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class TokenizedGenerationTests : CpuTest, IDisposable
{
    private readonly EnvironmentVariableScope _environment = new EnvironmentVariableScope().ClearNativeModelsVariables();
    private readonly TinyMamba _tiny = TinyMamba.Create(new TinyMambaSpec { Vocab = 266, Seed = 71 });

    public TokenizedGenerationTests()
    {
        using var temp = new TempDirectory();
        TokenizerFixture.Write(temp);
        foreach (string file in Directory.GetFiles(temp.Path))
        {
            File.Copy(file, Path.Combine(_tiny.Directory, Path.GetFileName(file)));
        }
    }

    void IDisposable.Dispose()
    {
        _tiny.Dispose();
        _environment.Dispose();
        Dispose();
    }

    [Fact]
    public async Task StreamedTextIsTheDecodedTokens()
    {
        var tokenizer = TextTokenizer.Load(_tiny.Directory);
        using var model = MambaModel.Load(_tiny.Directory, Cpu);
        var generator = new TextGenerator(model, tokenizer);
        var options = new GenerationOptions { MaxNewTokens = 24, Sampling = new SamplingOptions { Temperature = 1f }, Seed = 5 };
        var ids = new List<int>();
        var text = new System.Text.StringBuilder();
        await foreach (var token in generator.GenerateAsync("hello the", options))
        {
            ids.Add(token.TokenId);
            text.Append(token.Text);
        }
        Assert.NotEmpty(ids);
        Assert.DoesNotContain(tokenizer.EosTokenId!.Value, ids);
        Assert.Equal(tokenizer.Decode([.. ids]), text.ToString());
    }

    [Fact]
    public void TheTokenizersEosStopsByDefault()
    {
        var tokenizer = TextTokenizer.Load(_tiny.Directory);
        int eos = tokenizer.EosTokenId!.Value;
        using var model = MambaModel.Load(_tiny.Directory, Cpu);
        int[] prompt = tokenizer.Encode("hello");
        var free = new TextGenerator(model).Generate(prompt, GenerationOptions.Greedy(6) with { StopTokenIds = [] });
        // With the tokenizer and no explicit stop tokens, generation ends before the first EOS (if the model produces one).
        var withTokenizer = new TextGenerator(model, tokenizer).Generate(prompt, GenerationOptions.Greedy(6));
        int cut = Array.IndexOf(free, eos);
        Assert.Equal(cut < 0 ? free : free[..cut], withTokenizer);
    }

    [Fact]
    public void CliGenerateStreamsText()
    {
        var tokenizer = TextTokenizer.Load(_tiny.Directory);
        using var model = MambaModel.Load(_tiny.Directory, Cpu);
        int[] expected = new TextGenerator(model, tokenizer).Generate(tokenizer.Encode("hello"), GenerationOptions.Greedy(8));

        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(["generate", "--model", _tiny.Directory, "--prompt", "hello", "--max-new-tokens", "8", "--backend", "cpu"], output, error);
        Assert.True(exitCode == 0, error.ToString());
        Assert.Equal(tokenizer.Decode(expected) + Environment.NewLine, output.ToString());
    }
}
