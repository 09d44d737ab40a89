using System.CommandLine;
using NativeModels.IO;
using NativeModels.Models;

namespace NativeModels.Cli.Commands;

/// <summary>`nativemodels forward`: the logits of every position of a token sequence, written to a safetensors file.</summary>
public static class ForwardCommand
{
    public static Command Create(CommonOptions common)
    {
        var model = new Option<string>("--model") { Description = "Model directory (config.json + safetensors)", Required = true };
        var ids = new Option<string>("--ids") { Description = "Input token ids, e.g. 1,2,3", Required = true };
        var output = new Option<string>("--out") { Description = "Output .safetensors file (tensor 'logits', float32 [T, vocab])", Required = true };
        var command = new Command("forward", "Run a model over token ids and save the logits of every position.");
        command.Options.Add(model);
        command.Options.Add(ids);
        command.Options.Add(output);
        command.SetAction(parseResult =>
        {
            var invocation = parseResult.InvocationConfiguration;
            return CommandRunner.Run(invocation.Error, () => Run(common.Load(parseResult), parseResult.GetValue(model),
                parseResult.GetValue(ids), parseResult.GetValue(output), invocation.Output));
        });
        return command;
    }

    /// <summary>Writes the logits file; returns the exit code.</summary>
    public static int Run(NativeModelsOptions options, string? modelDirectory, string? idsText, string? outputPath, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        string directory = ModelCommandHelpers.ModelDirectory(modelDirectory);
        int[] tokens = ModelCommandHelpers.ParseIds(idsText ?? string.Empty);
        if (string.IsNullOrWhiteSpace(outputPath))
        {
            throw new CliUsageException("--out: an output file is required");
        }

        using var device = options.CreateDevice();
        using var model = AutoModel.Load(directory, device, options.GetDType());
        using var cache = model.CreateCache(1);
        using var logits = ModelCommandHelpers.RejectBadInput(() => model.Prefill(cache, 0, tokens, allLogits: true));
        float[] values = logits.ToArray<float>();
        long[] shape = [tokens.Length, model.VocabSize];
        SafetensorsWriter.WriteFloat32(outputPath, [("logits", shape, values)]);
        output.WriteLine($"wrote logits [{shape[0]}, {shape[1]}] to {outputPath}");
        return 0;
    }
}
