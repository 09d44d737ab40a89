using System.Runtime.CompilerServices;
using NativeModels.Tokenization;

namespace NativeModels.Generation;

/// <summary>
/// Generates tokens for a batch of sequences with any <see cref="ICausalLanguageModel"/>: every prompt is prefilled on
/// its own (so prompts may differ in length) into its row of one batched cache, then all unfinished sequences are
/// decoded together, one token each per step; finished sequences leave the batch. With a tokenizer, every generated
/// token carries the text it completes (streaming detokenisation) and the tokenizer's EOS token stops a sequence by
/// default.
/// </summary>
public sealed class TextGenerator
{
    private readonly ICausalLanguageModel _model;
    private readonly TextTokenizer? _tokenizer;

    public TextGenerator(ICausalLanguageModel model, TextTokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _tokenizer = tokenizer;
    }

    public ICausalLanguageModel Model => _model;

    public TextTokenizer? Tokenizer => _tokenizer;

    /// <summary>Streams the tokens of every sequence as they are produced (interleaved: one token of each unfinished
    /// sequence per step). Cancelling stops before the next model call and throws <see cref="OperationCanceledException"/>.</summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<GenerationRequest> requests,
        GenerationOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var token in Stream(requests, options, cancellationToken))
        {
            yield return token;
            // Let the consumer (and a Ctrl+C handler) run between tokens.
            await Task.Yield();
        }
    }

    /// <summary><see cref="GenerateAsync(IReadOnlyList{GenerationRequest}, GenerationOptions?, CancellationToken)"/> for prompts of token ids.</summary>
    public IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int[]> prompts, GenerationOptions? options = null,
        CancellationToken cancellationToken = default) =>
        GenerateAsync(ToRequests(prompts), options, cancellationToken);

    /// <summary>One text prompt, encoded with the tokenizer (which must be present).</summary>
    public IAsyncEnumerable<GeneratedToken> GenerateAsync(string prompt, GenerationOptions? options = null,
        CancellationToken cancellationToken = default) =>
        GenerateAsync([new GenerationRequest(Encode(prompt))], options, cancellationToken);

    /// <summary>Generates to the end and returns the generated ids of every sequence (stop tokens excluded).</summary>
    public int[][] Generate(IReadOnlyList<GenerationRequest> requests, GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var outputs = new List<int>[requests.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = [];
        }
        foreach (var token in Stream(requests, options, cancellationToken))
        {
            outputs[token.SequenceIndex].Add(token.TokenId);
        }
        return Array.ConvertAll(outputs, o => o.ToArray());
    }

    /// <summary>Generates to the end for prompts of token ids.</summary>
    public int[][] Generate(IReadOnlyList<int[]> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Generate(ToRequests(prompts), options, cancellationToken);

    /// <summary>Generates to the end for one prompt.</summary>
    public int[] Generate(int[] prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Generate([prompt], options, cancellationToken)[0];

    /// <summary>The synchronous core: a lazy sequence of tokens in the order they are produced.</summary>
    public IEnumerable<GeneratedToken> Stream(IReadOnlyList<GenerationRequest> requests, GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        options ??= new GenerationOptions();
        options.Validate();
        for (int i = 0; i < requests.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(requests[i], $"{nameof(requests)}[{i}]");
            if (requests[i].Prompt is null || requests[i].Prompt.Count == 0)
            {
                throw new ArgumentException($"prompt {i} is empty: at least one token is needed", nameof(requests));
            }
        }
        return StreamCore(requests, options, StopTokens(options), cancellationToken);
    }

    private IEnumerable<GeneratedToken> StreamCore(IReadOnlyList<GenerationRequest> requests, GenerationOptions options,
        HashSet<int> stopTokens, CancellationToken cancellationToken)
    {
        int n = requests.Count;
        if (n == 0 || options.MaxNewTokens == 0)
        {
            yield break;
        }
        cancellationToken.ThrowIfCancellationRequested();

        long longest = 0;
        foreach (var request in requests)
        {
            longest = Math.Max(longest, request.Prompt.Count + (request.InitialState?.TokenCount ?? 0));
        }
        using var cache = _model.CreateCache(n, longest + options.MaxNewTokens);
        int[] tokens;
        using (var firstLogits = Tensor.Zeros(_model.Device, DType.Float32, n, _model.VocabSize))
        {
            for (int i = 0; i < n; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (requests[i].InitialState is { } state)
                {
                    cache.RestoreRow(i, state);
                }
                int[] prompt = [.. requests[i].Prompt];
                using var logits = _model.Prefill(cache, i, prompt);
                TensorRows.Copy(logits, 0, firstLogits, i, 1);
            }
            tokens = Ops.Sample(firstLogits, options.Sampling, options.Seed, 0);
        }

        // active[r] = index of the sequence in cache row r.
        var active = Enumerable.Range(0, n).ToList();
        var produced = new int[n];
        var detokenizers = _tokenizer is null ? null : Enumerable.Range(0, n).Select(_ => _tokenizer.CreateStreamingDetokenizer()).ToArray();
        ulong step = 0;
        while (true)
        {
            var keepRows = new List<int>(active.Count);
            var nextTokens = new List<int>(active.Count);
            for (int row = 0; row < active.Count; row++)
            {
                int sequence = active[row];
                int token = tokens[row];
                if (stopTokens.Contains(token))
                {
                    continue;
                }
                bool last = produced[sequence] + 1 >= options.MaxNewTokens;
                string text = detokenizers is null ? string.Empty
                    : last ? detokenizers[sequence].Append(token) + detokenizers[sequence].Flush()
                    : detokenizers[sequence].Append(token);
                yield return new GeneratedToken(sequence, produced[sequence]++, token, text);
                if (!last)
                {
                    keepRows.Add(row);
                    nextTokens.Add(token);
                }
            }
            if (keepRows.Count == 0)
            {
                yield break;
            }
            if (keepRows.Count < active.Count)
            {
                cache.SelectRows([.. keepRows]);
                active = keepRows.Select(r => active[r]).ToList();
            }
            cancellationToken.ThrowIfCancellationRequested();
            step++;
            using var logits = _model.DecodeStep(cache, [.. nextTokens]);
            tokens = Ops.Sample(logits, options.Sampling, options.Seed, step);
        }
    }

    private HashSet<int> StopTokens(GenerationOptions options)
    {
        if (options.StopTokenIds is not null)
        {
            return [.. options.StopTokenIds];
        }
        var stop = new HashSet<int>();
        if (_tokenizer is not null && _tokenizer.EosTokenId is int eos)
        {
            stop.Add(eos);
        }
        return stop;
    }

    private int[] Encode(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (_tokenizer is null)
        {
            throw new InvalidOperationException("a text prompt needs a tokenizer; pass token ids instead");
        }
        return _tokenizer.Encode(prompt);
    }

    private static List<GenerationRequest> ToRequests(IReadOnlyList<int[]> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return prompts.Select(p => new GenerationRequest(p)).ToList();
    }
}
