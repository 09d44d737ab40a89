using NativeModels.Cli;
using NativeModels.Generation;
using NativeModels.IO;
using NativeModels.Models.Mamba;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Cli;

/// <summary>`nativemodels forward` and `nativemodels generate` on a tiny Mamba checkpoint, in-process.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ModelCommandTests : IDisposable
{
    private readonly EnvironmentVariableScope _environment = new EnvironmentVariableScope().ClearNativeModelsVariables();
    private readonly TinyMamba _tiny = TinyMamba.Create(new TinyMambaSpec { Seed = 61 });

    public void Dispose()
    {
        _tiny.Dispose();
        _environment.Dispose();
    }

    private static (int ExitCode, string Output, string Error) RunCli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void ForwardWritesTheLogitsOfEveryPosition()
    {
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        string file = Path.Combine(_tiny.Directory, "out.safetensors");
        var (exitCode, output, error) = RunCli("forward", "--model", _tiny.Directory, "--ids", string.Join(",", ids), "--out", file, "--backend", "cpu");
        Assert.True(exitCode == 0, $"exit code {exitCode}: {error}");
        Assert.Contains("logits [8, 50]", output);

        using var written = SafetensorsFile.Open(file);
        var entry = written.GetEntry("logits");
        Assert.Equal(SafetensorsDType.F32, entry.DType);
        Assert.Equal([8L, 50L], entry.Shape);
        float[] logits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(written.GetBytes("logits")).ToArray();
        MambaTestSupport.AssertClose(MambaReference.Logits(_tiny, ids), logits, 1e-4, "forward --out");
    }

    [Fact]
    public void GeneratePrintIdsPrintsTheGreedyIds()
    {
        int[] prompt = [7, 8, 9];
        var (exitCode, output, error) = RunCli("generate", "--model", _tiny.Directory, "--ids", "7,8,9", "--max-new-tokens", "10",
            "--greedy", "--print-ids", "--backend", "cpu");
        Assert.True(exitCode == 0, $"exit code {exitCode}: {error}");
        // No tokenizer here, so no stop token: exactly 10 ids.
        Assert.Equal(string.Join(" ", MambaReference.Greedy(_tiny, prompt, 10)), output.Trim());
    }

    [Fact]
    public void GenerateWithASeedIsReproducibleAndMatchesTheLibrary()
    {
        string[] args = ["generate", "--model", _tiny.Directory, "--ids", "1,2", "--max-new-tokens", "12", "--temperature", "1.2",
            "--top-k", "10", "--seed", "77", "--print-ids", "--backend", "cpu"];
        var first = RunCli(args);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(first.Output, RunCli(args).Output);

        using var device = Device.CreateCpu();
        using var model = MambaModel.Load(_tiny.Directory, device);
        int[] expected = new TextGenerator(model).Generate([1, 2], new GenerationOptions
        {
            MaxNewTokens = 12,
            Sampling = new SamplingOptions { Temperature = 1.2f, TopK = 10 },
            Seed = 77,
        });
        Assert.Equal(string.Join(" ", expected), first.Output.Trim());
    }

    [Theory]
    [InlineData("generate", "--ids", "1,x")]
    [InlineData("generate", "--prompt", "hello")]
    [InlineData("generate", "--greedy", "--temperature", "0.5", "--ids", "1")]
    [InlineData("generate")]
    [InlineData("forward", "--ids", "1,2,999", "--out", "OUT")]
    public void ErrorsAreOneLineAndANonZeroExitCode(params string[] args)
    {
        string[] full = [.. args.Select(a => a == "OUT" ? Path.Combine(_tiny.Directory, "x.safetensors") : a), "--model", _tiny.Directory, "--backend", "cpu"];
        var (exitCode, _, error) = RunCli(full);
        Assert.NotEqual(0, exitCode);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
    }

    [Fact]
    public void AMissingModelDirectoryIsOneErrorLine()
    {
        var (exitCode, _, error) = RunCli("generate", "--model", "/nonexistent/model", "--ids", "1", "--backend", "cpu");
        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: --model: directory '/nonexistent/model' not found", error);
    }
}
