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
/// Byte-level BPE (GPT-2, GPT-NeoX/Mamba, Llama 3, Qwen) encodes through Microsoft.ML.Tokenizers' BpeTokenizer;
/// other tokenizer kinds are refused with a <see cref="NotSupportedException"/> naming the kind.
/// </summary>
public sealed class TextTokenizer
{
    public const string FileName = "tokenizer.json";
    public const string ConfigFileName = "tokenizer_config.json";
    public const string SpecialTokensMapFileName = "special_tokens_map.json";

    /// <summary>GPT-2's pre-tokenization pattern (ByteLevel pre-tokenizer with use_regex).</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly BpeTokenizer _bpe;
    private readonly string[] _idToToken;
    private readonly bool[] _isAdded;
    private readonly bool[] _isSpecial;
    private readonly bool _normalizeNfc;
    private readonly bool _addPrefixSpace;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    private TextTokenizer(string path, BpeTokenizer bpe, string[] idToToken, bool[] isAdded, bool[] isSpecial, bool normalizeNfc,
        bool addPrefixSpace, int[] prefixIds, int[] suffixIds, int? bos, int? eos)
    {
        Path = path;
        _bpe = bpe;
        _idToToken = idToToken;
        _isAdded = isAdded;
        _isSpecial = isSpecial;
        _normalizeNfc = normalizeNfc;
        _addPrefixSpace = addPrefixSpace;
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

    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer (encoding only; decoding is done here).</summary>
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
    /// post-processor (or add_bos_token / add_eos_token) puts around a sequence are added.</summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_normalizeNfc)
        {
            text = NormalizeNfc(text);
        }
        if (_addPrefixSpace && text.Length > 0 && text[0] != ' ')
        {
            text = " " + text;
        }
        IReadOnlyList<int> ids = text.Length == 0 ? [] : _bpe.EncodeToIds(text);
        if (!addSpecialTokens || (_prefixIds.Length == 0 && _suffixIds.Length == 0))
        {
            return ids as int[] ?? [.. ids];
        }
        var result = new int[_prefixIds.Length + ids.Count + _suffixIds.Length];
        _prefixIds.CopyTo(result, 0);
        for (int i = 0; i < ids.Count; i++)
        {
            result[_prefixIds.Length + i] = ids[i];
        }
        _suffixIds.CopyTo(result, _prefixIds.Length + ids.Count);
        return result;
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
        if (id >= _idToToken.Length || _idToToken[id] is not { } token)
        {
            return;
        }
        if (_isAdded[id])
        {
            if (skipSpecialTokens && _isSpecial[id])
            {
                return;
            }
            AppendUtf8(token, bytes);
            return;
        }
        foreach (char c in token)
        {
            if (ByteLevelAlphabet.TryToByte(c, out byte b))
            {
                bytes.Add(b);
            }
            else
            {
                AppendUtf8(c.ToString(), bytes);
            }
        }
    }

    private static void AppendUtf8(string text, List<byte> bytes)
    {
        Span<byte> buffer = stackalloc byte[256];
        int count = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (count <= buffer.Length)
        {
            int written = Encoding.UTF8.GetBytes(text, buffer);
            bytes.AddRange(buffer[..written]);
        }
        else
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(text));
        }
    }

    private static string NormalizeNfc(string text)
    {
        try
        {
            return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
        }
        catch (PlatformNotSupportedException)
        {
            return text; // invariant globalization without ICU: leave the text as given
        }
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

        // Added tokens (special or not): matched whole in the text, decoded as their plain content.
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var specialIds = new HashSet<int>();
        if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind != JsonValueKind.Null)
        {
            if (addedElement.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, "added_tokens", $"'added_tokens' must be an array, got {addedElement.ValueKind}");
            }
            foreach (var token in addedElement.EnumerateArray())
            {
                if (token.ValueKind != JsonValueKind.Object ||
                    !token.TryGetProperty("id", out var idElement) || !idElement.TryGetInt32(out int id) || id < 0 ||
                    !token.TryGetProperty("content", out var contentElement) || contentElement.ValueKind != JsonValueKind.String ||
                    string.IsNullOrEmpty(contentElement.GetString()))
                {
                    throw Error(path, "added_tokens", $"added token {token.GetRawText()} needs a non-negative 'id' and a non-empty 'content'");
                }
                string content = contentElement.GetString()!;
                if (added.TryGetValue(content, out int existing) && existing != id)
                {
                    throw Error(path, content, $"added token '{content}' has two ids ({existing} and {id})");
                }
                added[content] = id;
                if (token.TryGetProperty("special", out var special) && special.ValueKind == JsonValueKind.True)
                {
                    specialIds.Add(id);
                }
                maxId = Math.Max(maxId, id);
            }
        }

        // Id → token table.
        var idToToken = new string[maxId + 1];
        var isAdded = new bool[maxId + 1];
        var isSpecial = new bool[maxId + 1];
        foreach (var (token, id) in vocab)
        {
            if (idToToken[id] is { } other)
            {
                throw Error(path, token, $"vocabulary id {id} is given to both '{other}' and '{token}'");
            }
            idToToken[id] = token;
        }
        foreach (var (content, id) in added)
        {
            idToToken[id] = content;
            isAdded[id] = true;
            isSpecial[id] = specialIds.Contains(id);
        }

        // Normalizer and pre-tokenizer.
        bool nfc = ReadNormalizer(path, root);
        var (pattern, addPrefixSpace) = ReadPreTokenizer(path, root);
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"{path}: the pre-tokenizer pattern cannot be used by .NET regular expressions: {e.Message}", e);
        }

        // Microsoft.ML.Tokenizers wants the added tokens in its vocabulary and as special tokens so that the
        // pre-tokenizer isolates them.
        var bpeVocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        foreach (var (content, id) in added)
        {
            bpeVocab[content] = id;
        }
        var options = new BpeOptions(bpeVocab)
        {
            Merges = merges,
            SpecialTokens = added.Count == 0 ? null : added,
            PreTokenizer = new RegexPreTokenizer(regex, added.Count == 0 ? null : added),
            ByteLevel = true,
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

        // BOS / EOS and the tokens added around a sequence.
        var specialLookup = new Func<string, int?>(text =>
            added.TryGetValue(text, out int a) ? a : vocab.TryGetValue(text, out int v) ? v : null);
        var (bos, eos, addBos, addEos, configPath) = ReadSpecialTokenConfig(directory, specialLookup);
        var (prefix, suffix) = ReadPostProcessor(path, root, specialLookup);
        if (prefix is null)
        {
            prefix = addBos && bos is int b ? [b] : [];
            suffix = addEos && eos is int e ? [e] : [];
        }
        _ = configPath;
        return new TextTokenizer(path, bpe, idToToken, isAdded, isSpecial, nfc, addPrefixSpace, prefix, suffix!, bos, eos);
    }

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

    /// <summary>The splitting pattern and add_prefix_space of the pre-tokenizer: a ByteLevel pre-tokenizer
    /// (GPT-2 pattern unless use_regex is false), optionally after a Split with a regex (Llama 3, Qwen).</summary>
    private static (string Pattern, bool AddPrefixSpace) ReadPreTokenizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
        {
            throw new NotSupportedException($"{path}: a byte-level BPE without a pre_tokenizer is not supported");
        }
        var items = new List<JsonElement>();
        if (OptionalString(pre, "type") == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            items.AddRange(list.EnumerateArray());
        }
        else
        {
            items.Add(pre);
        }
        string? pattern = null;
        bool addPrefixSpace = false;
        foreach (var item in items)
        {
            string? type = OptionalString(item, "type");
            switch (type)
            {
                case "ByteLevel":
                    addPrefixSpace = item.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True;
                    bool useRegex = !(item.TryGetProperty("use_regex", out var ur) && ur.ValueKind == JsonValueKind.False);
                    if (useRegex)
                    {
                        if (pattern is not null)
                        {
                            throw new NotSupportedException($"{path}: a Split pre-tokenizer followed by ByteLevel with use_regex is not supported");
                        }
                        pattern = Gpt2Pattern;
                    }
                    break;
                case "Split":
                    if (pattern is not null)
                    {
                        throw new NotSupportedException($"{path}: more than one splitting pre-tokenizer is not supported");
                    }
                    string? behavior = OptionalString(item, "behavior");
                    bool invert = item.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True;
                    if (behavior != "Isolated" || invert)
                    {
                        throw new NotSupportedException($"{path}: Split pre-tokenizer with behavior '{behavior}'{(invert ? " inverted" : "")} is not supported (only Isolated)");
                    }
                    if (!item.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
                    {
                        throw Error(path, "pre_tokenizer", "Split pre-tokenizer without a 'pattern' object");
                    }
                    if (OptionalString(p, "Regex") is { } rx)
                    {
                        pattern = rx;
                    }
                    else if (OptionalString(p, "String") is { } literal)
                    {
                        pattern = Regex.Escape(literal);
                    }
                    else
                    {
                        throw Error(path, "pre_tokenizer", "Split pattern must have 'Regex' or 'String'");
                    }
                    break;
                default:
                    throw new NotSupportedException($"{path}: pre-tokenizer '{type}' is not supported (ByteLevel and Split are)");
            }
        }
        if (pattern is null)
        {
            // ByteLevel without regex and nothing else: the text is one piece (still split around added tokens).
            pattern = @"[\s\S]+";
        }
        return (pattern, addPrefixSpace);
    }

    /// <summary>Tokens the post-processor adds around a single sequence (TemplateProcessing); null when there is
    /// no template (ByteLevel, or none).</summary>
    private static (int[]? Prefix, int[]? Suffix) ReadPostProcessor(string path, JsonElement root, Func<string, int?> lookup)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }
        JsonElement template = default;
        bool found = false;
        if (OptionalString(post, "type") == "TemplateProcessing")
        {
            template = post;
            found = true;
        }
        else if (OptionalString(post, "type") == "Sequence" && post.TryGetProperty("processors", out var processors) && processors.ValueKind == JsonValueKind.Array)
        {
            foreach (var p in processors.EnumerateArray())
            {
                if (OptionalString(p, "type") == "TemplateProcessing")
                {
                    template = p;
                    found = true;
                }
            }
        }
        if (!found)
        {
            return (null, null);
        }
        if (!template.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, "post_processor", "TemplateProcessing without a 'single' template");
        }
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool afterSequence = false;
        foreach (var piece in single.EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out _))
            {
                afterSequence = true;
            }
            else if (piece.TryGetProperty("SpecialToken", out var special) && OptionalString(special, "id") is { } name)
            {
                int? id = null;
                if (template.TryGetProperty("special_tokens", out var table) && table.ValueKind == JsonValueKind.Object &&
                    table.TryGetProperty(name, out var entry) && entry.TryGetProperty("ids", out var ids) &&
                    ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() == 1 && ids[0].TryGetInt32(out int fromTable))
                {
                    id = fromTable;
                }
                id ??= lookup(name);
                if (id is null)
                {
                    throw Error(path, name, $"post_processor template token '{name}' is not in the vocabulary");
                }
                (afterSequence ? suffix : prefix).Add(id.Value);
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
