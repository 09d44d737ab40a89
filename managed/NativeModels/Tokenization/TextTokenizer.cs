using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using NativeModels.IO;

namespace NativeModels.Tokenization;

/// <summary>
/// The tokenizer of a Hugging Face model folder: <c>tokenizer.json</c> (parsed here with JsonDocument; no
/// reflection), with the BOS/EOS tokens from <c>tokenizer_config.json</c> or <c>special_tokens_map.json</c>.
/// Byte-level BPE (GPT-2, GPT-NeoX/Mamba, Llama 3, Qwen) is encoded as Hugging Face <c>tokenizers</c> does it:
/// added tokens are cut out of the text first (leftmost-longest; non-normalized ones before normalization, normalized
/// ones after), the normalizer (NFC) and the pre-tokenizers (Split, ByteLevel) run on the rest, and each word goes
/// through the BPE merges of Microsoft.ML.Tokenizers' BpeTokenizer (or straight to its id with <c>ignore_merges</c>).
/// Decoding follows the ByteLevel decoder. Checked against the reference library by the goldens of
/// tests/fixtures/tokenizer. Anything in tokenizer.json that would make the ids differ from the reference and is
/// not implemented is refused when loading, with a <see cref="NotSupportedException"/> naming it.
/// </summary>
public sealed class TextTokenizer
{
    public const string FileName = "tokenizer.json";
    public const string ConfigFileName = "tokenizer_config.json";
    public const string SpecialTokensMapFileName = "special_tokens_map.json";

    /// <summary>GPT-2's pre-tokenization pattern (ByteLevel pre-tokenizer with use_regex).</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int>? _wholeWords;
    private readonly string?[] _idToToken;
    private readonly byte[]?[] _tokenBytes;
    private readonly bool[] _isSpecial;
    private readonly bool _normalizeNfc;
    private readonly AddedTokenMatcher _rawAddedTokens;
    private readonly AddedTokenMatcher _normalizedAddedTokens;
    private readonly PreTokenizerPipeline _preTokenizer;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    private TextTokenizer(string path, BpeTokenizer bpe, Dictionary<string, int>? wholeWords, string?[] idToToken,
        bool[] isSpecial, bool normalizeNfc, AddedTokenMatcher rawAddedTokens, AddedTokenMatcher normalizedAddedTokens,
        PreTokenizerPipeline preTokenizer, int[] prefixIds, int[] suffixIds, int? bos, int? eos)
    {
        Path = path;
        _bpe = bpe;
        _wholeWords = wholeWords;
        _idToToken = idToToken;
        _tokenBytes = idToToken.Select(t => t is null ? null : ByteLevelAlphabet.DecodeToken(t)).ToArray();
        _isSpecial = isSpecial;
        _normalizeNfc = normalizeNfc;
        _rawAddedTokens = rawAddedTokens;
        _normalizedAddedTokens = normalizedAddedTokens;
        _preTokenizer = preTokenizer;
        _prefixIds = prefixIds;
        _suffixIds = suffixIds;
        BosTokenId = bos;
        EosTokenId = eos;
    }

    /// <summary>Full path of the tokenizer.json read.</summary>
    public string Path { get; }

    public int? BosTokenId { get; }

    public int? EosTokenId { get; }

    /// <summary>One more than the largest token id (vocabulary and added tokens).</summary>
    public int VocabularySize => _idToToken.Length;

    /// <summary>The underlying Microsoft.ML.Tokenizers BPE model: it applies the merges to one pre-tokenized word
    /// (it has no pre-tokenizer, normalizer or added tokens of its own; <see cref="Encode"/> does those).</summary>
    public Tokenizer InnerTokenizer => _bpe;

    /// <summary>Whether <paramref name="modelDirectory"/> holds a tokenizer.json.</summary>
    public static bool Exists(string modelDirectory) =>
        !string.IsNullOrEmpty(modelDirectory) && File.Exists(System.IO.Path.Combine(modelDirectory, FileName));

    /// <summary>Reads the tokenizer of <paramref name="modelDirectory"/>. Malformed files throw
    /// <see cref="ModelFormatException"/>; tokenizer kinds not handled throw <see cref="NotSupportedException"/>.</summary>
    public static TextTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        string directory = System.IO.Path.GetFullPath(modelDirectory);
        string path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new ModelFormatException(path, null, $"{FileName}: not found in {directory}");
        }
        using var document = ReadJson(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, null, $"must hold a JSON object, got {root.ValueKind}");
        }
        return Build(directory, path, root);
    }

    /// <summary>Token ids of <paramref name="text"/>; with <paramref name="addSpecialTokens"/> the tokens the
    /// post-processor (or add_bos_token / add_eos_token) puts around a sequence are added. Lone surrogates count as
    /// U+FFFD, as in any conversion to UTF-8.</summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = CodePoints.ReplaceLoneSurrogates(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_prefixIds);
        }
        var pieces = new List<TextPiece>();
        _rawAddedTokens.Split(text, pieces);
        var normalizedPieces = new List<TextPiece>();
        var words = new List<string>();
        foreach (var piece in pieces)
        {
            if (piece.IsToken)
            {
                ids.Add(piece.TokenId);
                continue;
            }
            string normalized = _normalizeNfc ? Nfc.Normalize(piece.Text) : piece.Text;
            normalizedPieces.Clear();
            _normalizedAddedTokens.Split(normalized, normalizedPieces);
            foreach (var part in normalizedPieces)
            {
                if (part.IsToken)
                {
                    ids.Add(part.TokenId);
                    continue;
                }
                words.Clear();
                _preTokenizer.Split(part.Text, words);
                foreach (string word in words)
                {
                    EncodeWord(word, ids);
                }
            }
        }
        if (addSpecialTokens)
        {
            ids.AddRange(_suffixIds);
        }
        return [.. ids];
    }

    private void EncodeWord(string word, List<int> ids)
    {
        // ignore_merges (Llama 3): a word that is a vocabulary entry is that token, whatever the merges would do.
        if (_wholeWords is not null && _wholeWords.TryGetValue(ByteLevelAlphabet.Spell(word), out int id))
        {
            ids.Add(id);
            return;
        }
        ids.AddRange(_bpe.EncodeToIds(word.AsSpan(), considerPreTokenization: false, considerNormalization: false));
    }

    /// <summary>The text of <paramref name="ids"/> (invalid UTF-8 byte sequences become U+FFFD). Ids without a
    /// token (padding rows of a larger embedding) decode to nothing; negative ids throw.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            AppendTokenBytes(id, skipSpecialTokens, bytes);
        }
        return new UTF8Encoding(false, false).GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>A detokenizer for one generated sequence (special tokens are kept, as <see cref="Decode"/> does by default).</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer() => new(this, skipSpecialTokens: false);

    /// <summary>A detokenizer for one generated sequence.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens) => new(this, skipSpecialTokens);

    /// <summary>The token string of <paramref name="id"/> as the vocabulary spells it, or null.</summary>
    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>Whether <paramref name="id"/> is an added token marked special.</summary>
    public bool IsSpecialToken(int id) => id >= 0 && id < _isSpecial.Length && _isSpecial[id];

    internal void AppendTokenBytes(int id, bool skipSpecialTokens, List<byte> bytes)
    {
        if (id < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "token ids are non-negative");
        }
        if (id >= _tokenBytes.Length || _tokenBytes[id] is not { } tokenBytes)
        {
            return;
        }
        if (skipSpecialTokens && _isSpecial[id])
        {
            return;
        }
        bytes.AddRange(tokenBytes);
    }

    // ---- loading -------------------------------------------------------------------------------------------

    private static TextTokenizer Build(string directory, string path, JsonElement root)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, "model", "'model' is missing or not an object");
        }
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! :
            model.TryGetProperty("merges", out _) ? "BPE" : "(none)";
        if (type != "BPE")
        {
            throw new NotSupportedException($"{path}: tokenizer model type '{type}' is not supported (only byte-level BPE is)");
        }

        bool byteLevelPre = ContainsType(root, "pre_tokenizer", "ByteLevel");
        bool byteLevelDecoder = ContainsType(root, "decoder", "ByteLevel");
        bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        if (!byteLevelPre && !byteLevelDecoder)
        {
            throw new NotSupportedException(byteFallback
                ? $"{path}: BPE with byte_fallback (SentencePiece / Llama-2 style) is not supported yet; only byte-level BPE is"
                : $"{path}: BPE without a ByteLevel pre-tokenizer or decoder is not supported; only byte-level BPE is");
        }
        if (OptionalString(model, "continuing_subword_prefix") is { Length: > 0 } || OptionalString(model, "end_of_word_suffix") is { Length: > 0 })
        {
            throw new NotSupportedException($"{path}: BPE with continuing_subword_prefix / end_of_word_suffix is not supported");
        }

        // Vocabulary.
        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, "model.vocab", "'model.vocab' is missing or not an object");
        }
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int maxId = -1;
        foreach (var item in vocabElement.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.Number || !item.Value.TryGetInt32(out int id) || id < 0)
            {
                throw Error(path, item.Name, $"vocabulary id of '{item.Name}' must be a non-negative integer, got {item.Value.GetRawText()}");
            }
            if (!vocab.TryAdd(item.Name, id))
            {
                throw Error(path, item.Name, $"vocabulary token '{item.Name}' appears twice");
            }
            maxId = Math.Max(maxId, id);
        }
        if (vocab.Count == 0)
        {
            throw Error(path, "model.vocab", "'model.vocab' is empty");
        }

        // Merges: "a b" strings or ["a", "b"] pairs.
        var merges = new List<string>();
        if (model.TryGetProperty("merges", out var mergesElement) && mergesElement.ValueKind != JsonValueKind.Null)
        {
            if (mergesElement.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, "model.merges", $"'model.merges' must be an array, got {mergesElement.ValueKind}");
            }
            int index = 0;
            foreach (var merge in mergesElement.EnumerateArray())
            {
                string? left, right;
                if (merge.ValueKind == JsonValueKind.String)
                {
                    string text = merge.GetString()!;
                    int space = text.IndexOf(' ', StringComparison.Ordinal);
                    if (space <= 0 || space == text.Length - 1 || text.IndexOf(' ', space + 1) >= 0)
                    {
                        throw Error(path, "model.merges", $"merge {index} must be two tokens separated by one space, got \"{text}\"");
                    }
                    left = text[..space];
                    right = text[(space + 1)..];
                }
                else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2 &&
                         merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
                {
                    left = merge[0].GetString()!;
                    right = merge[1].GetString()!;
                    if (left.Length == 0 || right.Length == 0 || left.Contains(' ') || right.Contains(' '))
                    {
                        throw new NotSupportedException($"{path}: merge {index} [\"{left}\", \"{right}\"] has an empty part or a space, which byte-level BPE does not use");
                    }
                }
                else
                {
                    throw Error(path, "model.merges", $"merge {index} must be \"a b\" or [\"a\", \"b\"], got {merge.GetRawText()}");
                }
                if (!vocab.ContainsKey(left) || !vocab.ContainsKey(right) || !vocab.ContainsKey(left + right))
                {
                    throw Error(path, "model.merges", $"merge {index} (\"{left}\", \"{right}\") uses a token missing from the vocabulary");
                }
                merges.Add(left + " " + right);
                index++;
            }
        }

        // Added tokens (special or not): cut out of the text before anything else.
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var addedTokens = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        int maxAdded = -1;
        if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind != JsonValueKind.Null)
        {
            if (addedElement.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, "added_tokens", $"'added_tokens' must be an array, got {addedElement.ValueKind}");
            }
            foreach (var token in addedElement.EnumerateArray())
            {
                if (token.ValueKind != JsonValueKind.Object ||
                    !token.TryGetProperty("id", out var idElement) || !idElement.TryGetInt32(out int fileId) || fileId < 0 ||
                    !token.TryGetProperty("content", out var contentElement) || contentElement.ValueKind != JsonValueKind.String ||
                    string.IsNullOrEmpty(contentElement.GetString()))
                {
                    throw Error(path, "added_tokens", $"added token {token.GetRawText()} needs a non-negative 'id' and a non-empty 'content'");
                }
                string content = contentElement.GetString()!;
                bool special = Flag(token, "special", false);
                // Hugging Face tokenizers does not take the id from the file: a content already added or in the
                // vocabulary keeps that id, any other one gets the next id after the vocabulary and the tokens added
                // so far (a different id in the file only earns a warning there). Same here, so that a file whose
                // ids have gaps still gives the ids the reference gives.
                int id = added.TryGetValue(content, out int known) ? known
                    : vocab.TryGetValue(content, out int inVocabulary) ? inVocabulary
                    : maxAdded >= vocab.Count ? maxAdded + 1 : vocab.Count;
                added[content] = id;
                maxAdded = Math.Max(maxAdded, id);
                // Hugging Face's AddedToken defaults: normalized unless special, no stripping, not single-word. A
                // content given twice keeps the later flags (and stays special once it was).
                special |= addedTokens.TryGetValue(content, out var previous) && previous.Special;
                addedTokens[content] = new AddedToken(id, content, special, Flag(token, "single_word", false), Flag(token, "lstrip", false),
                    Flag(token, "rstrip", false), Flag(token, "normalized", !special));
                maxId = Math.Max(maxId, id);
            }
        }

        // Id → token table. The reference keeps a normalized added token in its normalized form here, which is what
        // its decoder then turns into bytes.
        bool nfc = ReadNormalizer(path, root);
        var idToToken = new string?[maxId + 1];
        var isSpecial = new bool[maxId + 1];
        foreach (var (token, id) in vocab)
        {
            if (idToToken[id] is { } other)
            {
                throw Error(path, token, $"vocabulary id {id} is given to both '{other}' and '{token}'");
            }
            idToToken[id] = token;
        }
        foreach (var token in addedTokens.Values)
        {
            idToToken[token.Id] = nfc && token.Normalized ? Nfc.Normalize(token.Content) : token.Content;
            isSpecial[token.Id] = token.Special;
        }

        // The model's options that change ids.
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
        {
            throw new NotSupportedException($"{path}: BPE dropout ({dropout.GetRawText()}) is not supported: it makes encoding random");
        }
        bool allBytes = Enumerable.Range(0, 256).All(b => vocab.ContainsKey(ByteLevelAlphabet.ToChar((byte)b).ToString()));
        if (byteFallback && !allBytes)
        {
            throw new NotSupportedException($"{path}: byte_fallback with a byte-level vocabulary that lacks some of the 256 byte tokens is not supported");
        }
        string? unknownToken = OptionalString(model, "unk_token");
        if (unknownToken is not null && !allBytes && !vocab.ContainsKey(unknownToken))
        {
            throw Error(path, "model.unk_token", $"unk_token '{unknownToken}' is not in the vocabulary");
        }
        bool fuseUnknown = Flag(model, "fuse_unk", false);
        bool ignoreMerges = Flag(model, "ignore_merges", false);

        // Pre-tokenizers, decoder, post-processor.
        var preTokenizer = ReadPreTokenizer(path, root);
        ReadDecoder(path, root);

        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            UnknownToken = allBytes ? null : unknownToken,
            FuseUnknownTokens = fuseUnknown,
        };
        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw Error(path, null, $"Microsoft.ML.Tokenizers refused the BPE model: {e.Message}", e);
        }

        // Added tokens are looked for in the text as it is (normalized: false) or after normalization (normalized:
        // true, their content normalized too).
        var rawAdded = new AddedTokenMatcher(addedTokens.Values.Where(a => !a.Normalized), a => a.Content);
        var normalizedAdded = new AddedTokenMatcher(addedTokens.Values.Where(a => a.Normalized), a => nfc ? Nfc.Normalize(a.Content) : a.Content);

        // BOS / EOS and the tokens added around a sequence.
        var specialLookup = new Func<string, int?>(text =>
            added.TryGetValue(text, out int a) ? a : vocab.TryGetValue(text, out int v) ? v : null);
        var (bos, eos, addBos, addEos, _) = ReadSpecialTokenConfig(directory, specialLookup);
        var (prefix, suffix) = ReadPostProcessor(path, root, specialLookup);
        if (prefix is null)
        {
            prefix = addBos && bos is int b ? [b] : [];
            suffix = addEos && eos is int e ? [e] : [];
        }
        return new TextTokenizer(path, bpe, ignoreMerges ? vocab : null, idToToken, isSpecial, nfc, rawAdded, normalizedAdded,
            preTokenizer, prefix, suffix!, bos, eos);
    }

    private static bool Flag(JsonElement element, string name, bool fallback) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => fallback,
        } : fallback;

    private static bool ReadNormalizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null)
        {
            return false;
        }
        string? type = OptionalString(normalizer, "type");
        if (type == "NFC")
        {
            return true;
        }
        if (type == "Sequence" && normalizer.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            bool nfc = false;
            foreach (var item in list.EnumerateArray())
            {
                string? inner = OptionalString(item, "type");
                if (inner == "NFC")
                {
                    nfc = true;
                }
                else
                {
                    throw new NotSupportedException($"{path}: normalizer '{inner}' is not supported (only NFC is)");
                }
            }
            return nfc;
        }
        throw new NotSupportedException($"{path}: normalizer '{type}' is not supported (only NFC is)");
    }

    /// <summary>The pre-tokenizers: Split (regex or string, any behavior, invert) and ByteLevel (add_prefix_space,
    /// use_regex), alone or in a Sequence whose last step is the one ByteLevel.</summary>
    private static PreTokenizerPipeline ReadPreTokenizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
        {
            throw new NotSupportedException($"{path}: a byte-level BPE without a pre_tokenizer is not supported");
        }
        var items = new List<JsonElement>();
        if (OptionalString(pre, "type") == "Sequence")
        {
            if (!pre.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, "pre_tokenizer", "Sequence pre-tokenizer without a 'pretokenizers' array");
            }
            items.AddRange(list.EnumerateArray());
        }
        else
        {
            items.Add(pre);
        }
        var steps = new List<PreTokenizerStep>();
        for (int i = 0; i < items.Count; i++)
        {
            var item = items[i];
            string? type = OptionalString(item, "type");
            switch (type)
            {
                case "ByteLevel":
                    if (i != items.Count - 1)
                    {
                        // The reference maps the bytes to the byte alphabet inside this step, so anything after it
                        // would see 'Ġ' where the text has a space.
                        throw new NotSupportedException($"{path}: a ByteLevel pre-tokenizer that is not the last of the sequence is not supported");
                    }
                    bool useRegex = Flag(item, "use_regex", true);
                    steps.Add(new ByteLevelStep(Flag(item, "add_prefix_space", true),
                        useRegex ? new SplitStep(CompilePattern(path, Gpt2Pattern), SplitBehavior.Isolated, invert: false) : null));
                    break;
                case "Split":
                    steps.Add(ReadSplit(path, item));
                    break;
                default:
                    throw new NotSupportedException($"{path}: pre-tokenizer '{type}' is not supported (ByteLevel and Split are)");
            }
        }
        if (steps.Count == 0 || steps[^1] is not ByteLevelStep)
        {
            throw new NotSupportedException($"{path}: a BPE whose pre-tokenizer does not end with ByteLevel is not supported; only byte-level BPE is");
        }
        return new PreTokenizerPipeline(steps);
    }

    private static SplitStep ReadSplit(string path, JsonElement item)
    {
        string? behaviorName = OptionalString(item, "behavior");
        SplitBehavior behavior = behaviorName switch
        {
            "Removed" => SplitBehavior.Removed,
            "Isolated" => SplitBehavior.Isolated,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            "Contiguous" => SplitBehavior.Contiguous,
            _ => throw new NotSupportedException($"{path}: Split pre-tokenizer behavior '{behaviorName}' is not supported"),
        };
        if (!item.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, "pre_tokenizer", "Split pre-tokenizer without a 'pattern' object");
        }
        string pattern;
        if (OptionalString(p, "Regex") is { } regex)
        {
            pattern = regex;
        }
        else if (OptionalString(p, "String") is { } literal)
        {
            pattern = Regex.Escape(literal);
        }
        else
        {
            throw Error(path, "pre_tokenizer", "Split pattern must have 'Regex' or 'String'");
        }
        return new SplitStep(CompilePattern(path, pattern), behavior, Flag(item, "invert", false));
    }

    private static CodePointRegex CompilePattern(string path, string pattern)
    {
        string translated;
        try
        {
            translated = OnigurumaPattern.ToDotNet(pattern);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{path}: pre-tokenizer pattern {pattern}: {e.Message}", e);
        }
        try
        {
            // Multiline: ^ and $ are line anchors in Oniguruma's Ruby syntax.
            return new CodePointRegex(new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Multiline, TimeSpan.FromSeconds(10)));
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"{path}: the pre-tokenizer pattern {pattern} cannot be used by .NET regular expressions: {e.Message}", e);
        }
    }

    /// <summary>The decoder must be ByteLevel (alone or as the only step of a Sequence): that is what Decode does.</summary>
    private static void ReadDecoder(string path, JsonElement root)
    {
        if (!root.TryGetProperty("decoder", out var decoder) || decoder.ValueKind == JsonValueKind.Null)
        {
            throw new NotSupportedException($"{path}: a byte-level BPE without a decoder is not supported (the reference would join the tokens with spaces)");
        }
        string? type = OptionalString(decoder, "type");
        if (type == "Sequence" && decoder.TryGetProperty("decoders", out var list) && list.ValueKind == JsonValueKind.Array &&
            list.GetArrayLength() == 1)
        {
            type = OptionalString(list[0], "type");
        }
        if (type != "ByteLevel")
        {
            throw new NotSupportedException($"{path}: decoder '{type}' is not supported (only ByteLevel is)");
        }
    }

    /// <summary>Tokens the post-processor adds around a single sequence (TemplateProcessing); null when there is
    /// no template (ByteLevel, which only moves offsets, or none). Other post-processors are refused.</summary>
    private static (int[]? Prefix, int[]? Suffix) ReadPostProcessor(string path, JsonElement root, Func<string, int?> lookup)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }
        var processors = new List<JsonElement>();
        if (OptionalString(post, "type") == "Sequence")
        {
            if (!post.TryGetProperty("processors", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, "post_processor", "Sequence post-processor without a 'processors' array");
            }
            processors.AddRange(list.EnumerateArray());
        }
        else
        {
            processors.Add(post);
        }
        JsonElement? template = null;
        foreach (var processor in processors)
        {
            switch (OptionalString(processor, "type"))
            {
                case "ByteLevel":
                    break;
                case "TemplateProcessing" when template is null:
                    template = processor;
                    break;
                case var other:
                    throw new NotSupportedException($"{path}: post-processor '{other}' is not supported (ByteLevel and one TemplateProcessing are)");
            }
        }
        if (template is not { } t)
        {
            return (null, null);
        }
        if (!t.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, "post_processor", "TemplateProcessing without a 'single' template");
        }
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool afterSequence = false;
        foreach (var piece in single.EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out var sequence))
            {
                if (afterSequence || OptionalString(sequence, "id") is not (null or "A"))
                {
                    throw Error(path, "post_processor", $"the 'single' template must hold sequence A once, got {single.GetRawText()}");
                }
                afterSequence = true;
            }
            else if (piece.TryGetProperty("SpecialToken", out var special) && OptionalString(special, "id") is { } name)
            {
                var target = afterSequence ? suffix : prefix;
                if (t.TryGetProperty("special_tokens", out var table) && table.ValueKind == JsonValueKind.Object &&
                    table.TryGetProperty(name, out var entry) && entry.TryGetProperty("ids", out var ids) && ids.ValueKind == JsonValueKind.Array)
                {
                    foreach (var id in ids.EnumerateArray())
                    {
                        target.Add(id.TryGetInt32(out int value) && value >= 0
                            ? value
                            : throw Error(path, name, $"post_processor special token '{name}' has an invalid id {id.GetRawText()}"));
                    }
                }
                else
                {
                    target.Add(lookup(name) ?? throw Error(path, name, $"post_processor template token '{name}' is not in the vocabulary"));
                }
            }
            else
            {
                throw Error(path, "post_processor", $"template piece {piece.GetRawText()} is neither a Sequence nor a SpecialToken");
            }
        }
        return ([.. prefix], [.. suffix]);
    }

    private static (int? Bos, int? Eos, bool AddBos, bool AddEos, string? Source) ReadSpecialTokenConfig(string directory, Func<string, int?> lookup)
    {
        int? bos = null, eos = null;
        bool addBos = false, addEos = false;
        string? source = null;
        foreach (string name in new[] { ConfigFileName, SpecialTokensMapFileName })
        {
            string file = System.IO.Path.Combine(directory, name);
            if (!File.Exists(file))
            {
                continue;
            }
            using var document = ReadJson(file);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(file, null, $"must hold a JSON object, got {root.ValueKind}");
            }
            bos ??= TokenId(file, root, "bos_token", lookup);
            eos ??= TokenId(file, root, "eos_token", lookup);
            if (name == ConfigFileName)
            {
                addBos = root.TryGetProperty("add_bos_token", out var ab) && ab.ValueKind == JsonValueKind.True;
                addEos = root.TryGetProperty("add_eos_token", out var ae) && ae.ValueKind == JsonValueKind.True;
            }
            source ??= file;
        }
        return (bos, eos, addBos, addEos, source);
    }

    private static int? TokenId(string file, JsonElement root, string key, Func<string, int?> lookup)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        string? text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => OptionalString(value, "content"),
            _ => null,
        };
        if (text is null)
        {
            throw Error(file, key, $"'{key}' must be a string or an object with 'content', got {value.GetRawText()}");
        }
        return lookup(text) ?? throw Error(file, key, $"'{key}' \"{text}\" is not a token of {FileName}");
    }

    private static bool ContainsType(JsonElement root, string property, string type)
    {
        if (!root.TryGetProperty(property, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }
        if (OptionalString(element, "type") == type)
        {
            return true;
        }
        foreach (string listName in new[] { "pretokenizers", "decoders", "processors" })
        {
            if (element.TryGetProperty(listName, out var list) && list.ValueKind == JsonValueKind.Array &&
                list.EnumerateArray().Any(e => OptionalString(e, "type") == type))
            {
                return true;
            }
        }
        return false;
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;

    private static JsonDocument ReadJson(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, null,
                string.Create(CultureInfo.InvariantCulture, $"{path}: invalid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}: {e.Message}"), e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, null, $"{path}: cannot read: {e.Message}", e);
        }
    }

    private static ModelFormatException Error(string path, string? key, string problem, Exception? inner = null) =>
        new(path, key, key is null ? $"{path}: {problem}" : $"{path}: '{key}': {problem}", inner);
}
