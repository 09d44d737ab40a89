using System.CommandLine;
using NativeModels.Cli.Commands;

namespace NativeModels.Cli;

/// <summary>Builds the command tree and runs it. Add a command: write Commands/XxxCommand.cs and list it here.</summary>
public static class CliApp
{
    public static RootCommand CreateRootCommand()
    {
        var common = new CommonOptions();
        var root = new RootCommand("NativeModels: run models on the nativemodels CPU/CUDA library.");
        common.AddTo(root);
        root.Subcommands.Add(InfoCommand.Create(common));
        root.Subcommands.Add(GenerateCommand.Create(common));
        root.Subcommands.Add(ForwardCommand.Create(common));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var parseResult = CreateRootCommand().Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Our own handler (CommandRunner) prints a one-line error; unexpected bugs still get a stack trace.
            EnableDefaultExceptionHandler = true,
        };
        return parseResult.Invoke(invocation);
    }
}
