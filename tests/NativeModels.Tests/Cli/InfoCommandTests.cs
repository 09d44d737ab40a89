using NativeModels.Cli;
using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Cli;

/// <summary>Runs the CLI in-process (it reads NATIVEMODELS__* variables, hence the collection).</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class InfoCommandTests : IDisposable
{
    private readonly EnvironmentVariableScope _environment = new EnvironmentVariableScope().ClearNativeModelsVariables();

    public void Dispose() => _environment.Dispose();

    private static (int ExitCode, string Output, string Error) RunCli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void InfoPrintsVersionsAndBackends()
    {
        var (exitCode, output, error) = RunCli("info", "--backend", "cpu");
        Assert.True(exitCode == 0, $"exit code {exitCode}: {error}");
        Assert.Contains($"ABI:      {NativeAbi.Version}", output);
        Assert.Contains(NativeLibraryInfo.Version, output);
        Assert.Contains("cpu   available", output);
        Assert.Contains("cuda  ", output);
        Assert.Contains("selected: cpu", output);
    }

    [Fact]
    public void InfoHandlerWritesToTheGivenWriter()
    {
        var output = new StringWriter();
        int exitCode = NativeModels.Cli.Commands.InfoCommand.Run(NativeModelsOptions.Load(["--backend", "cpu"]), output);
        Assert.Equal(0, exitCode);
        Assert.Contains("cpu", output.ToString());
        Assert.Contains(NativeAbi.Version.ToString(), output.ToString());
    }

    [Fact]
    public void ABadOptionIsOneErrorLineAndANonZeroExitCode()
    {
        var (exitCode, _, error) = RunCli("info", "--backend", "tpu");
        Assert.NotEqual(0, exitCode);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: NativeModels:Backend", lines[0]);
        Assert.DoesNotContain(" at ", error);
    }
}
