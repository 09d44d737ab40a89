using NativeModels.Cli;
using NativeModels.IO;
using NativeModels.Tests.Mamba;
using NativeModels.Tests.Support;
using NativeModels.Tests.Transformer;

namespace NativeModels.Tests.Cli;

/// <summary>`nativemodels forward` and `nativemodels generate` on a tiny Llama checkpoint (picked by AutoModel), in-process.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class TransformerCommandTests : IDisposable
{
    private readonly EnvironmentVariableScope _environment = new EnvironmentVariableScope().ClearNativeModelsVariables();
    private readonly TinyTransformer _tiny = TinyTransformer.Create(new TinyTransformerSpec { RopeScaling = "llama3", Seed = 71 });

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
        Assert.Contains("logits [8, 64]", output);
        using var written = SafetensorsFile.Open(file);
        float[] logits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(written.GetBytes("logits")).ToArray();
        MambaTestSupport.AssertClose(TransformerReference.Logits(_tiny, ids), logits, 1e-4, "forward --out");
    }

    [Fact]
    public void GeneratePrintIdsPrintsTheGreedyIds()
    {
        var (exitCode, output, error) = RunCli("generate", "--model", _tiny.Directory, "--ids", "7,8,9", "--max-new-tokens", "10",
            "--greedy", "--print-ids", "--backend", "cpu");
        Assert.True(exitCode == 0, $"exit code {exitCode}: {error}");
        Assert.Equal(string.Join(" ", TransformerReference.Greedy(_tiny, [7, 8, 9], 10)), output.Trim());
    }
}
