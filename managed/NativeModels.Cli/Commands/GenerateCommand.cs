using System.CommandLine;
using NativeModels.Generation;
using NativeModels.Interop;
using NativeModels.Models;
using NativeModels.Tokenization;

namespace NativeModels.Cli.Commands;

/// <summary>`nativemodels generate`: streams a continuation of a prompt (text or token ids) to stdout.</summary>
public static class GenerateCommand
{
    /// <summary>Exit code after Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int CancelledExitCode = 130;

    public sealed record Settings
    {
        public string? ModelDirectory { get; init; }
        public string? Prompt { get; init; }
        public string? Ids { get; init; }
        public int MaxNewTokens { get; init; } = 128;
        public bool Greedy { get; init; }
        public float? Temperature { get; init; }
        public int? TopK { get; init; }
        public float? TopP { get; init; }
        public ulong Seed { get; init; }
        public bool PrintIds { get; init; }
    }

    public static Command Create(CommonOptions common)
    {
        var model = new Option<string>("--model") { Description = "Model directory (config.json + safetensors [+ tokenizer.json])", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text (needs tokenizer.json in the model directory)" };
        var ids = new Option<string?>("--ids") { Description = "Prompt token ids, e.g. 1,2,3 (no tokenizer needed)" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most (default 128)", DefaultValueFactory = _ => 128 };
        var greedy = new Option<bool>("--greedy") { Description = "Greedy decoding (the default when no sampling option is given)" };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature (> 0; 0 = greedy)" };
        var topK = new Option<int?>("--top-k") { Description = "Keep the k most likely tokens (0 = off)" };
        var topP = new Option<float?>("--top-p") { Description = "Nucleus sampling mass (1 = off)" };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed (default 0): the same seed gives the same text" };
        var printIds = new Option<bool>("--print-ids") { Description = "Print the generated token ids instead of text" };

        var command = new Command("generate", "Generate a continuation of a prompt and stream it to stdout (Ctrl+C stops).");
        foreach (var option in new Option[] { model, prompt, ids, maxNewTokens, greedy, temperature, topK, topP, seed, printIds })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var invocation = parseResult.InvocationConfiguration;
            var settings = new Settings
            {
                ModelDirectory = parseResult.GetValue(model),
                Prompt = parseResult.GetValue(prompt),
                Ids = parseResult.GetValue(ids),
                MaxNewTokens = parseResult.GetValue(maxNewTokens),
                Greedy = parseResult.GetValue(greedy),
                Temperature = parseResult.GetValue(temperature),
                TopK = parseResult.GetValue(topK),
                TopP = parseResult.GetValue(topP),
                Seed = parseResult.GetValue(seed),
                PrintIds = parseResult.GetValue(printIds),
            };
            try
            {
                return await RunAsync(common.Load(parseResult), settings, invocation.Output, cancellationToken).ConfigureAwait(false);
            }
            catch (NativeModelsException e)
            {
                invocation.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            catch (DllNotFoundException e)
            {
                invocation.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Generates and streams to <paramref name="output"/>; returns the exit code (130 when cancelled).</summary>
    public static async Task<int> RunAsync(NativeModelsOptions options, Settings settings, TextWriter output,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        string directory = ModelCommandHelpers.ModelDirectory(settings.ModelDirectory);
        if ((settings.Prompt is null) == (settings.Ids is null))
        {
            throw new CliUsageException("give exactly one of --prompt TEXT and --ids 1,2,3");
        }
        if (settings.MaxNewTokens < 0)
        {
            throw new CliUsageException($"--max-new-tokens must be >= 0, got {settings.MaxNewTokens}");
        }
        var sampling = Sampling(settings);

        TextTokenizer? tokenizer = TextTokenizer.Exists(directory) ? TextTokenizer.Load(directory) : null;
        int[] prompt;
        if (settings.Ids is not null)
        {
            prompt = ModelCommandHelpers.ParseIds(settings.Ids);
        }
        else
        {
            if (tokenizer is null)
            {
                throw new CliUsageException($"--prompt needs {TextTokenizer.FileName} in {directory}; use --ids without a tokenizer");
            }
            prompt = tokenizer.Encode(settings.Prompt!);
            if (prompt.Length == 0)
            {
                throw new CliUsageException("--prompt: the prompt encodes to no tokens");
            }
        }

        using var device = options.CreateDevice();
        using var model = AutoModel.Load(directory, device, options.GetDType());
        var generator = new TextGenerator(model, tokenizer);
        var generation = new GenerationOptions { MaxNewTokens = settings.MaxNewTokens, Sampling = sampling, Seed = settings.Seed };
        bool printIds = settings.PrintIds || tokenizer is null;
        bool first = true;
        try
        {
            await foreach (var token in generator.GenerateAsync([prompt], generation, cancellationToken).ConfigureAwait(false))
            {
                if (printIds)
                {
                    output.Write(first ? token.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture)
                        : " " + token.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    output.Write(token.Text);
                }
                first = false;
                output.Flush();
            }
        }
        catch (ArgumentException e)
        {
            // Invalid input the library refused (a token id outside the vocabulary, ...): one line.
            throw ModelCommandHelpers.UsageError(e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.WriteLine();
            output.Flush();
            return CancelledExitCode;
        }
        output.WriteLine();
        return 0;
    }

    private static SamplingOptions Sampling(Settings settings)
    {
        bool sampling = settings.Temperature is not null || settings.TopK is not null || settings.TopP is not null;
        if (settings.Greedy && sampling)
        {
            throw new CliUsageException("--greedy cannot be combined with --temperature, --top-k or --top-p");
        }
        if (!sampling)
        {
            return SamplingOptions.Greedy;
        }
        float temperature = settings.Temperature ?? 1f;
        if (!(temperature >= 0) || float.IsInfinity(temperature))
        {
            throw new CliUsageException($"--temperature must be >= 0, got {temperature}");
        }
        int topK = settings.TopK ?? 0;
        if (topK < 0)
        {
            throw new CliUsageException($"--top-k must be >= 0, got {topK}");
        }
        float topP = settings.TopP ?? 1f;
        if (!(topP > 0 && topP <= 1))
        {
            throw new CliUsageException($"--top-p must be in (0, 1], got {topP}");
        }
        return new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP };
    }
}
